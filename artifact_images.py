"""Images from the artifacts stack instead of a build: for each container built from source, the
digest the artifacts stack pushed for this exact source (its content-addressed `src-` tag), read
from the artifacts account's repository. A commit's stacks all resolve the same tag to the same
digest (IMMUTABLE repository), so prod runs the digest staging ran for that commit, and nothing
is built on the Deployments runner (which has no Docker daemon).

Program-only code: the component knows nothing of the artifacts stack; it receives a
digest-pinned `image` instead of a `source`."""

import json
from typing import Any

import pulumi_aws as aws
from shipyard.errors import ConfigError
from shipyard.image import source_fingerprint, source_tag
from shipyard.repository_names import artifact_repository_name

REPOSITORY_PREFIX = "shipyard"  # the artifacts stack's repository names: shipyard/<svc>/<ctr>
PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}


def released_digests(value: str | None, required: bool) -> dict[str, dict[str, str]] | None:
    """The digests a release passes (delivery/promote.py: `{service: {container: image}}`), or
    None when none were passed; a stack that requires them (its ESC environment sets
    `shipyard:released_digests_required`, as the production environment does) refuses to run
    without them."""
    if not value:
        if required:
            raise ConfigError("SHIPYARD_RELEASED_DIGESTS", value,
                              "the digests staging ran for this commit: prod is deployed only by "
                              "the release workflow, which passes them")
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        raise ConfigError("SHIPYARD_RELEASED_DIGESTS", value,
                          "JSON {service: {container: image@sha256:...}}")
    return parsed


def with_artifact_images(name: str, args: dict[str, Any], *, registry_id: str,
                         region: str, released: dict[str, dict[str, str]] | None = None
                         ) -> dict[str, Any]:
    """`args` with every `source` container replaced by the artifacts stack's digest for it;
    with `released`, exactly the digest the release names, or a refusal."""
    if not (len(registry_id) == 12 and registry_id.isdigit()):
        raise ConfigError("shipyard:artifacts_registry", registry_id,
                          "the 12-digit account that holds the artifacts stack's repositories, "
                          "or empty to build images in this stack")
    architecture = str(args.get("architecture", "X86_64"))
    containers = []
    for container in args.get("containers") or []:
        if container.get("source") is None:
            containers.append(container)
            continue
        tag = source_tag(source_fingerprint(
            container["source"], dockerfile=container.get("dockerfile", "Dockerfile"),
            platform=PLATFORMS[architecture], build_args=container.get("build_args")))
        repository = artifact_repository_name(REPOSITORY_PREFIX, name, container["name"])
        # A blocking read through the default provider (the stack's region and credentials),
        # before any resource: the reference is a plain digest-pinned string the component
        # validates like any prebuilt image. A tag the artifacts stack has not pushed fails here
        # (ImageNotFoundException): the merge workflow builds it first.
        digest = aws.ecr.get_image(registry_id=registry_id, repository_name=repository,
                                   image_tag=tag).image_digest
        image = f"{registry_id}.dkr.ecr.{region}.amazonaws.com/{repository}@{digest}"
        if released is not None and released.get(name, {}).get(container["name"]) != image:
            raise ConfigError(f"SHIPYARD_RELEASED_DIGESTS.{name}.{container['name']}",
                              released.get(name, {}).get(container["name"]),
                              f"{image}: the digest this commit's source tag names; prod "
                              "deploys only what staging ran")
        rest = {k: v for k, v in container.items()
                if k not in ("source", "dockerfile", "build_args")}
        containers.append({**rest, "image": image})
    return {**args, "containers": containers}
