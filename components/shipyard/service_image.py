"""ServiceImage: one service image as an artifact. An ECR repository (IMMUTABLE tags, scan on
push, KMS), its lifecycle policy, the image built from source and pushed only when its source tag
is not in the repository yet, and the scan gate. Its output `image_ref` is the digest-pinned
reference, resolved only after the scan gate passed.

ContainerService uses it for each container built from source; an artifacts program can use it
on its own and export `image_ref` for environment stacks to deploy."""

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pulumi.output import contains_unknowns

from . import validation as v
from .aws_session import provider_identity
from .change_guard import ChangeGuard
from .errors import ConfigError
from .fargate import CPU_ARCHITECTURES
from .image import SOURCE_TAG_PREFIX, source_fingerprint, source_tag
from .repository_names import checked_repository_name
from .scan_gate import ScanGate, Thresholds

TYPE_TOKEN = "shipyard:index:ServiceImage"
UNTAGGED_IMAGE_EXPIRY_DAYS = 1
DOCKER_PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}
# What ECR cannot change on an existing repository, with the CloudFormation registry's name for
# it (AWS::ECR::Repository createOnlyProperties; terraform-provider-aws marks the same ForceNew):
# a change replaces the repository. tests/test_repository_identity.py checks this list against
# the schema.
REPOSITORY_CREATE_ONLY = {"name": "/properties/RepositoryName",
                          "encryption_type": "/properties/EncryptionConfiguration/EncryptionType",
                          "kms_key": "/properties/EncryptionConfiguration/KmsKey"}
REPOSITORY_REMEDY = (
    "ECR cannot rename or re-encrypt a repository, so the engine would replace it: that fails "
    "while the repository holds images (force_delete is off) and would drop the images that "
    "rollback redeploys. Its name comes from the project, the stack, the service and the "
    "container (a stack or project rename changes it), its key is the service's own. Revert the "
    "change, or move deliberately: copy the images you need, then `pulumi state delete` the old "
    "repository and this guard (docs/deploying.md, \"Images and rollback\").")


class ServiceImageArgs(TypedDict, total=False):
    """Arguments of ServiceImage. Only `source` is required."""

    source: str
    """Folder with the Dockerfile; everything in it that is not .dockerignored is the context."""
    dockerfile: str
    """Dockerfile path inside `source`. Default: "Dockerfile"."""
    build_args: dict[str, str]
    """Docker build args; part of the tag. Default: none."""
    architecture: str
    """"X86_64" or "ARM64": the platform the image is built for. Default: "X86_64"."""
    images_to_keep: int
    """Source-tagged images the lifecycle policy keeps for rollback. Default: 20."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for the repository. Default: ECR's AWS-managed KMS key."""
    scan_max_critical: int
    """Scan gate: CRITICAL findings allowed. Default: 0."""
    scan_max_high: int
    """Scan gate: HIGH findings allowed. Default: 5."""
    scan_timeout_seconds: int
    """Scan gate: how long to wait for the scan before refusing the image. Default: 900."""
    protect: bool
    """Protect the repository from deletion. Default: false."""
    tags: dict[str, str]
    """Tags on the repository. Default: none."""
    repository_name: str
    """The ECR repository's name, fixed so IAM can name its exact ARN. Default:
    `<project>/<stack>/<resource name>`."""


def docker_platform(architecture: str) -> str:
    return DOCKER_PLATFORMS[architecture]


def lifecycle_policy(images_to_keep: int) -> dict:
    """Expire untagged layers quickly; keep the last N released (source-tagged) images so a
    previous commit can be redeployed without a rebuild."""
    return {"rules": [
        {"rulePriority": 1, "description": "Expire untagged images after a day",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": UNTAGGED_IMAGE_EXPIRY_DAYS},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the last {images_to_keep} released images",
         "selection": {"tagStatus": "tagged", "tagPatternList": [f"{SOURCE_TAG_PREFIX}*"],
                       "countType": "imageCountMoreThan", "countNumber": images_to_keep},
         "action": {"type": "expire"}},
    ]}


def _field(item: Any, snake: str, camel: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(snake, item.get(camel))
    return getattr(item, snake, None)


def existing_digest(image_ids: Iterable[Any] | None, tag: str) -> str | None:
    """The digest ECR holds under `tag`, from a ListImages answer (the `aws.ecr.getImages` data
    source: one entry per tag, digest and tag each possibly absent), or None."""
    for item in image_ids or ():
        if _field(item, "image_tag", "imageTag") == tag:
            digest = _field(item, "image_digest", "imageDigest")
            if isinstance(digest, str) and digest.startswith("sha256:"):
                return digest
    return None


class ServiceImage(pulumi.ComponentResource):
    image_ref: pulumi.Output[str]
    """`<repository url>@sha256:<digest>`, known once the scan gate passed."""
    tag: str
    """The source tag (`src-<hash>`), computed from the source before anything is registered."""
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    repository_name: pulumi.Output[str]
    scan_gate: ScanGate
    """The gate resource; depend on it (or use `image_ref`) before running the image."""

    def __init__(self, name: str, args: ServiceImageArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        source = args.get("source")
        if not isinstance(source, str) or not source:
            raise ConfigError(f"{name}.source", source, "a folder path containing a Dockerfile")
        architecture = args.get("architecture", "X86_64")
        if architecture not in CPU_ARCHITECTURES:
            raise ConfigError(f"{name}.architecture", architecture,
                              f"one of {', '.join(CPU_ARCHITECTURES)}")
        dockerfile = args.get("dockerfile", "Dockerfile")
        build_args = dict(args.get("build_args") or {})
        platform = docker_platform(architecture)
        # Before anything is registered: a name ECR refuses stops here, not half-way up.
        if args.get("kms_key_arn") is not None:
            v.check_input("kms_key_arn", args["kms_key_arn"], f"{name}.kms_key_arn")
        repository = checked_repository_name(
            args.get("repository_name")
            or f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}", f"{name}.repository_name")
        self.tag = source_tag(source_fingerprint(source, dockerfile=dockerfile, platform=platform,
                                                 build_args=build_args))
        super().__init__(TYPE_TOKEN, name, None, opts)
        # Inside ContainerService these children were registered directly under the service:
        # the alias keeps their URNs, so existing stacks do not replace them.
        aliases = [pulumi.Alias(parent=opts.parent)] if opts and opts.parent else []
        child = pulumi.ResourceOptions(parent=self, aliases=aliases)
        invoke = pulumi.InvokeOptions(parent=self)
        kms_key = args.get("kms_key_arn")
        identity = ChangeGuard(
            f"{name}-repo-identity", subject=f"ECR repository {repository}",
            fixed={"name": repository, "encryption_type": "KMS",
                   "kms_key": kms_key if kms_key is not None else "the AWS-managed ECR key"},
            remedy=REPOSITORY_REMEDY, opts=pulumi.ResourceOptions(parent=self))
        self._repository = aws.ecr.Repository(
            f"{name}-repo", name=repository, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=kms_key)],
            # Released images are the rollback path: never delete a repository that holds them.
            force_delete=False, tags=args.get("tags"),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=bool(args.get("protect", False)), depends_on=[identity])))
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle", repository=self._repository.name,
            policy=json.dumps(lifecycle_policy(int(args.get("images_to_keep", 20)))), opts=child)

        digest_ref = self._build_or_reuse(name, source, dockerfile, build_args, platform, child,
                                          invoke)
        self.scan_gate = ScanGate(
            f"{name}-scan-gate", repository=self._repository.name, image_digest=digest_ref,
            identity=provider_identity(invoke),
            thresholds=Thresholds(int(args.get("scan_max_critical", 0)),
                                  int(args.get("scan_max_high", 5))),
            timeout_seconds=int(args.get("scan_timeout_seconds", 900)), opts=child)
        # Whoever reads the reference waits for the gate's verdict.
        self.image_ref = pulumi.Output.all(digest_ref, self.scan_gate.id).apply(lambda a: a[0])
        self.repository_url = self._repository.repository_url
        self.repository_arn = self._repository.arn
        self.repository_name = self._repository.name
        self.register_outputs({"image_ref": self.image_ref, "tag": self.tag,
                               "repository_url": self.repository_url,
                               "repository_arn": self.repository_arn,
                               "repository_name": self.repository_name})

    def _build_or_reuse(self, name: str, source: str, dockerfile: str, build_args: dict,
                        platform: str, child: pulumi.ResourceOptions,
                        invoke: pulumi.InvokeOptions) -> pulumi.Output[str]:
        """Look the source tag up in the repository (ECR ListImages through the stack's AWS
        provider); reuse its digest when present, build and push only when absent.

        pulumi-docker recomputes its build-context digest in Check even under ignore_changes
        (pulumi-docker provider.go, Check), so a docker.Image that exists in the program is
        rebuilt and pushed again on a machine whose file modes or untracked files differ, and
        the IMMUTABLE repository refuses the same tag. Not registering it is the only way
        round.

        The preview decides as `up` will, so the plan shows what happens and an update plan
        (`pulumi preview --save-plan`, then `pulumi up --plan`) holds: the engine refuses a
        create the plan does not list ("create is not allowed by the plan") and a planned one
        that does not happen (pulumi/pulumi pkg/engine/lifecycletest/update_plan_test.go,
        TestUnplannedCreate, TestExpectedCreate). The lookup cannot run at the preview of a new
        repository (its registry id is not known yet, and ListImages on a missing repository
        fails: terraform-provider-aws internal/service/ecr/images_data_source.go), but a new
        repository holds no tags: the image is registered, to be built and pushed."""
        repository = self._repository
        listing = aws.ecr.get_images_output(repository_name=repository.name,
                                            registry_id=repository.registry_id, opts=invoke)
        tag = self.tag

        def decide(values: Any) -> pulumi.Output[str] | str:
            if not contains_unknowns(values):
                image_ids, url = values
                found = existing_digest(image_ids, tag)
                if found is not None:
                    return f"{url}@{found}"
            token = aws.ecr.get_authorization_token_output(
                registry_id=repository.registry_id, opts=invoke)
            image = docker.Image(
                f"{name}-image", image_name=pulumi.Output.concat(
                    repository.repository_url, ":", tag),
                build=docker.DockerBuildArgs(context=source, dockerfile=f"{source}/{dockerfile}",
                                             platform=platform, args=build_args or None),
                registry=docker.RegistryArgs(server=token.proxy_endpoint,
                                             username=token.user_name,
                                             password=pulumi.Output.secret(token.password)),
                build_on_preview=False, skip_push=False,
                # Belt and braces: the tag already hashes every build input.
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    ignore_changes=["build"])))
            return image.repo_digest

        # With unknowns: the decision above must also be taken while the repository is new.
        return pulumi.Output.all(listing.image_ids, repository.repository_url).apply(
            decide, run_with_unknowns=True)
