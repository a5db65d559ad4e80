"""image-no-latest: every image the program runs or publishes is pinned (a digest, or an explicit
tag that is not `latest`). Deliberately its own parser, independent of the component it guards.

Runners and publishers read: ECS task definitions, Batch job definitions, Lambda container
functions, App Runner image services, docker images (pulumi-docker `Image`, and docker-build
`Image` tags and exports). ECS task sets and services run a task definition, judged there."""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, Severity

from .common import (
    Refs,
    Unparseable,
    as_list,
    each_known,
    each_part,
    mapping,
    parse_json,
    resource_policy,
)
from .consumer import container_definitions, decoded_objects

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
DOCKER_IMAGE = "docker:index/image:Image"
DOCKER_BUILD_IMAGE = "docker-build:index:Image"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
BATCH_JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"
APP_RUNNER_SERVICE = "aws:apprunner/service:Service"
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


def _images_anywhere(document: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every key that a case-insensitive decoder reads as 'image'."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            if str(key).casefold() == "image":
                yield f"{path}.{key}".lstrip("."), value
            else:
                yield from _images_anywhere(value, f"{path}.{key}")
    elif isinstance(document, Sequence) and not isinstance(document, str):
        for index, value in enumerate(document):
            yield from _images_anywhere(value, f"{path}[{index}]")


def _task_definition(props: Any) -> Iterator[str]:
    for definition in container_definitions(props):
        problem = image_problem(definition.get("image"))
        if problem:
            yield f"Container '{definition.get('name', '?')}' {problem}."


def _batch(props: Any) -> Iterator[str]:
    if props.get("containerProperties") is not None:
        for container in decoded_objects(props.get("containerProperties"), "batch",
                                         "containerProperties", many=False):
            problem = image_problem(container.get("image"))
            if problem:
                yield f"containerProperties {problem}."
    for prop in ("nodeProperties", "ecsProperties", "eksProperties"):
        if props.get(prop) is None:
            continue
        for path, image in _images_anywhere(parse_json(props.get(prop), prop)):
            problem = image_problem(image)
            if problem:
                yield f"{prop} {path} {problem}."


def _raw_export_names(raw: str) -> list[str]:
    """name=... values of a buildx --output string (names may be quoted and comma-separated)."""
    match = re.search(r'(?:^|,)names?=("([^"]*)"|[^,]*)', raw)
    if not match:
        return []
    return [n.strip() for n in (match.group(2) if match.group(2) is not None
                                else match.group(1)).split(",") if n.strip()]


def _docker_build(props: Any) -> Iterator[str]:
    def tag(index: int, value: Any) -> Iterator[str]:
        problem = image_problem(value)
        if problem:
            yield f"Docker build tag {problem}."


    def export(index: int, value: Any) -> Iterator[str]:
        value = mapping(value, f"exports[{index}]")
        names: list[Any] = []
        for kind in ("image", "registry", "docker"):
            names += as_list(mapping(value.get(kind), f"exports[{index}].{kind}").get("names"))
        if value.get("raw") is not None:
            if not isinstance(value.get("raw"), str):
                raise Unparseable(f"exports[{index}].raw is not a string")
            names += _raw_export_names(value["raw"])
        for name in names:
            problem = image_problem(name)
            if problem:
                yield f"Docker build export {problem}."
    yield from each_part(lambda: each_known(props.get("tags"), tag),
                         lambda: each_known(props.get("exports"), export))


def _check(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    kind = args.resource_type
    if kind == TASK_DEFINITION:
        yield from _task_definition(props)
    elif kind == DOCKER_IMAGE:
        problem = image_problem(props.get("imageName"))
        if problem:
            yield f"Docker image {problem}."
    elif kind == DOCKER_BUILD_IMAGE:
        yield from _docker_build(props)
    elif kind == LAMBDA_FUNCTION:
        if props.get("packageType") == "Image" or props.get("imageUri") is not None:
            problem = image_problem(props.get("imageUri"))
            if problem:
                yield f"Lambda function imageUri {problem}."
    elif kind == BATCH_JOB_DEFINITION:
        yield from _batch(props)
    elif kind == APP_RUNNER_SERVICE:
        source = mapping(props.get("sourceConfiguration"), "sourceConfiguration")
        repository = mapping(source.get("imageRepository"),
                             "sourceConfiguration.imageRepository")
        if repository:
            problem = image_problem(repository.get("imageIdentifier"))
            if problem:
                yield f"App Runner imageIdentifier {problem}."


IMAGE_TYPES = (TASK_DEFINITION, DOCKER_IMAGE, DOCKER_BUILD_IMAGE, LAMBDA_FUNCTION,
               BATCH_JOB_DEFINITION, APP_RUNNER_SERVICE)
image_no_latest = resource_policy(
    "image-no-latest",
    "Images run (ECS task definitions, Batch jobs, Lambda, App Runner) or published (docker, "
    "docker-build tags and exports) from an explicit immutable tag or an @sha256 digest, never "
    "'latest' or an untagged reference.",
    IMAGE_TYPES, _check,
    refs=Refs(why="A mutable reference deploys whatever was pushed last: a rollback or a new "
                  "task can run different code than was reviewed and scanned.",
              doc="https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                  "image-tag-mutability.html"),
    severity=Severity.CRITICAL, enforcement=EnforcementLevel.MANDATORY,
    remediation="Reference the image by digest (repo@sha256:...) as ContainerService does, or by "
                "an immutable tag such as the commit or source hash.")

POLICIES = [image_no_latest]
