"""image-no-latest: every container image is pinned (a digest, or an explicit tag that is not
`latest`). Deliberately its own parser, independent of the component it guards."""

import re
from collections.abc import Iterable

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, Severity

from .common import as_list, container_definitions, resource_policy

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
DOCKER_IMAGE = "docker:index/image:Image"
DOCKER_BUILD_IMAGE = "docker-build:index:Image"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def image_problem(reference: object) -> str | None:
    """Why `reference` is not pinned, or None when it is."""
    if not isinstance(reference, str) or not reference.strip():
        return "has no image reference"
    reference = reference.strip()
    name, at, digest = reference.partition("@")
    if at:
        if _DIGEST.match(digest):
            return None
        return f"has a malformed digest in '{reference}' (expected sha256:<64 hex>)"
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon <= slash:
        return f"uses '{reference}', which has no tag and so means 'latest'"
    tag = name[colon + 1:]
    if not tag:
        return f"uses '{reference}', which has an empty tag"
    if tag.lower() == "latest":
        return f"uses '{reference}', the mutable 'latest' tag"
    return None


def _check(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    if args.resource_type == TASK_DEFINITION:
        for definition in container_definitions(props):
            problem = image_problem(definition.get("image"))
            if problem:
                yield f"Container '{definition.get('name', '?')}' {problem}."
    elif args.resource_type == DOCKER_IMAGE:
        problem = image_problem(props.get("imageName"))
        if problem:
            yield f"Docker image {problem}."
    elif args.resource_type == DOCKER_BUILD_IMAGE:
        for tag in as_list(props.get("tags")):
            problem = image_problem(tag)
            if problem:
                yield f"Docker build tag {problem}."


image_no_latest = resource_policy(
    "image-no-latest",
    "Container images run from an explicit immutable tag or an @sha256 digest, never 'latest' "
    "or an untagged reference.",
    (TASK_DEFINITION, DOCKER_IMAGE, DOCKER_BUILD_IMAGE), _check,
    severity=Severity.CRITICAL, enforcement=EnforcementLevel.MANDATORY,
    remediation="Reference the image by digest (repo@sha256:...) as ContainerService does, or by "
                "an immutable tag such as the commit or source hash.")

POLICIES = [image_no_latest]
