"""The artifacts stack's pure parts: which images it builds, the repository names environment
stacks look them up by, and who may pull them across accounts."""

from dataclasses import dataclass
from pathlib import Path

from shipyard.repository_names import artifact_repository_name

from .app_stacks import APP_DIR, read_app_stack

REPOSITORY_PREFIX = "shipyard"
PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}
STACK_NAMES = {"X86_64": "x86-64", "ARM64": "arm64"}
# GitHub-hosted runners of each architecture (GitHub docs, "GitHub-hosted runners"): a native
# build with the runner's Docker daemon, no QEMU.
RUNNERS = {"X86_64": "ubuntu-24.04", "ARM64": "ubuntu-24.04-arm"}


@dataclass(frozen=True)
class ImageToBuild:
    service: str
    container: str
    source: str
    """Folder relative to the application program (the repository root)."""
    dockerfile: str
    build_args: tuple[tuple[str, str], ...]

    @property
    def repository(self) -> str:
        return repository_name(self.service, self.container)


def repository_name(service: str, container: str) -> str:
    return artifact_repository_name(REPOSITORY_PREFIX, service, container)


def images_to_build(app_stacks: list[str], architecture: str,
                    app_dir: Path = APP_DIR) -> list[ImageToBuild]:
    """Every container built from source in the given application stacks that run on this
    architecture; one image per (service, container), whichever stacks share it."""
    import yaml

    found: dict[tuple[str, str], ImageToBuild] = {}
    for stack in app_stacks:
        if read_app_stack(stack, app_dir).architecture != architecture:
            continue
        config = (yaml.safe_load((app_dir / f"Pulumi.{stack}.yaml").read_text()) or {})["config"]
        defaults = config.get("shipyard:service_defaults") or {}
        for service in config.get("shipyard:services") or []:
            merged = {**defaults, **service}
            for container in merged.get("containers") or []:
                if container.get("source") is None:
                    continue
                image = ImageToBuild(
                    service=str(merged["name"]), container=str(container["name"]),
                    source=str(container["source"]).strip("/"),
                    dockerfile=str(container.get("dockerfile", "Dockerfile")),
                    build_args=tuple(sorted((container.get("build_args") or {}).items())))
                previous = found.setdefault((image.service, image.container), image)
                if previous != image:
                    from shipyard.errors import ConfigError

                    raise ConfigError(f"shipyard:services.{image.service}.{image.container}",
                                      image.source, f"the same source and build settings in "
                                      f"every stack ({previous.source} elsewhere): one image is "
                                      "built and promoted")
    return list(found.values())


# What no principal may do to an artifacts repository, whatever its identity policy says: change
# tag mutability (an IMMUTABLE tag is what makes a source tag name one digest forever), delete an
# image (a rollback redeploys the released digest) or the repository. A Deny in a resource
# policy applies to every caller, same account included (IAM User Guide, "Policy evaluation
# logic").
PROTECTED_IMAGE_ACTIONS = ("ecr:BatchDeleteImage", "ecr:DeleteRepository",
                           "ecr:PutImageTagMutability")
UNTAGGED_EXPIRY_DAYS = 1


def repository_policy(*, project: str, service: str, pull_accounts: list[str]) -> dict:
    """Cross-account pulls: only each stack account's execution roles of this service pull; only
    its deploy roles read digests and scan results. The account principal delegates to that
    account's IAM, and aws:PrincipalArn narrows it to those roles (ECR User Guide, "Private
    repository policy examples"). Nobody changes tag mutability or deletes an image."""
    roots = [f"arn:aws:iam::{a}:root" for a in pull_accounts]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ExecutionRolesPull", "Effect": "Allow", "Principal": {"AWS": roots},
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer"],
         "Condition": {"ArnLike": {"aws:PrincipalArn": [
             f"arn:aws:iam::{a}:role/{service}-execution-*" for a in pull_accounts]}}},
        {"Sid": "DeployRolesReadDigests", "Effect": "Allow", "Principal": {"AWS": roots},
         "Action": ["ecr:BatchGetImage", "ecr:DescribeImageScanFindings", "ecr:DescribeImages"],
         "Condition": {"ArnLike": {"aws:PrincipalArn": [
             f"arn:aws:iam::{a}:role/{project}-deploy-*" for a in pull_accounts]}}},
        {"Sid": "ReleasedImagesStay", "Effect": "Deny", "Principal": "*",
         "Action": list(PROTECTED_IMAGE_ACTIONS)},
    ]}


def lifecycle_policy() -> dict:
    """Only untagged layers expire: every source tag stays, so a release of an older commit
    redeploys the digest staging ran for it, never a rebuild (a count-based rule on tagged
    images would expire released images)."""
    return {"rules": [
        {"rulePriority": 1, "description": "Expire untagged layers",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": UNTAGGED_EXPIRY_DAYS},
         "action": {"type": "expire"}}]}
