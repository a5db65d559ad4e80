"""The artifacts stack: each service container's image built once per source version with
pulumi-docker on a native runner of the stack's architecture, pushed into its repository (which
the delivery stack owns: IMMUTABLE, images never deleted), scanned once through the scan gate,
exported by digest. Environment stacks look the image up by its source
tag (the same tag for the same source) and deploy that digest; prod runs the digest staging ran
because a release deploys a commit staging already deployed, and the tag is content-addressed
in an IMMUTABLE repository."""

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from shipyard.aws_session import provider_identity
from shipyard.errors import ConfigError
from shipyard.image import source_fingerprint, source_tag
from shipyard.scan_gate import ScanGate, Thresholds
from shipyard.service_image import existing_digest
from shipyard_delivery.artifacts import PLATFORMS, ImageToBuild, images_to_build

APP_DIR = Path(__file__).resolve().parents[1]
NAMESPACE = "shipyard-artifacts"

config = pulumi.Config(NAMESPACE)
architecture = config.require("architecture")
if architecture not in PLATFORMS:
    raise ConfigError(f"{NAMESPACE}:architecture", architecture, "ARM64 or X86_64")
app_stacks = config.require_object("app_stacks")
thresholds = Thresholds(config.get_int("scan_max_critical") or 0,
                        config.get_int("scan_max_high") or 0)
platform = PLATFORMS[architecture]
images = images_to_build(list(app_stacks), architecture, APP_DIR)
# Every tag before the first resource: a missing folder or Dockerfile stops here.
tags = {(i.service, i.container): source_tag(source_fingerprint(
    APP_DIR / i.source, dockerfile=i.dockerfile, platform=platform,
    build_args=dict(i.build_args))) for i in images}
identity = provider_identity(pulumi.InvokeOptions())
digests: dict[str, dict[str, pulumi.Output[str]]] = {}
for image in images:
    name = f"{image.service}-{image.container}"
    tag = tags[(image.service, image.container)]
    # The delivery stack creates the repository (its tags IMMUTABLE, its images never deleted):
    # this stack's builder role can push and read, nothing more.
    repository = aws.ecr.get_repository_output(name=image.repository)
    # Every runner is a fresh machine: look the source tag up and build only when it is absent
    # (pulumi-docker's Check would rebuild and push the same tag into the IMMUTABLE repository;
    # the component's ServiceImage does the same).
    listing = aws.ecr.get_images_output(repository_name=image.repository,
                                        registry_id=repository.registry_id)

    def build_or_reuse(values: list, image: ImageToBuild = image, tag: str = tag,
                       repository: pulumi.Output[aws.ecr.GetRepositoryResult] = repository
                       ) -> pulumi.Output[str] | str:
        image_ids, url = values
        found = existing_digest(image_ids, tag)
        if found is not None:
            return f"{url}@{found}"
        token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id)
        built = docker.Image(
            f"{image.service}-{image.container}", image_name=f"{url}:{tag}",
            build=docker.DockerBuildArgs(
                context=f"../{image.source}", dockerfile=f"../{image.source}/{image.dockerfile}",
                platform=platform, args=dict(image.build_args) or None),
            registry=docker.RegistryArgs(server=token.proxy_endpoint, username=token.user_name,
                                         password=pulumi.Output.secret(token.password)),
            build_on_preview=False, skip_push=False,
            opts=pulumi.ResourceOptions(ignore_changes=["build"]))
        return built.repo_digest

    digest_ref = pulumi.Output.all(listing.image_ids, repository.repository_url).apply(
        build_or_reuse)
    gate = ScanGate(f"{name}-scan-gate", repository=image.repository, image_digest=digest_ref,
                    identity=identity, thresholds=thresholds, timeout_seconds=900)
    # Exported only through the gate: a digest appears here once its scan passed.
    digests.setdefault(image.service, {})[image.container] = pulumi.Output.all(
        digest_ref, gate.id).apply(lambda values: values[0])

pulumi.export("architecture", architecture)
pulumi.export("images", digests)
pulumi.export("source_tags", {f"{s}/{c}": t for (s, c), t in tags.items()})
