"""Images are pinned. `image-no-latest`: every image the program runs or publishes names a digest
or an explicit tag that is not `latest`, and an image it runs from a registry whose tags can
move (anything but a private ECR repository) names a digest. `image-tag-immutable-repository`:
an image run by tag from a private ECR repository names a repository of this stack whose tags
are IMMUTABLE; only those tags cannot be repointed (ECR User Guide, "Image tag mutability").
Deliberately its own parser, independent of the component it guards.

Runners and publishers read: ECS task definitions, Batch job definitions, Lambda container
functions, App Runner image services, docker images (pulumi-docker `Image`, and docker-build
`Image` tags and exports). ECS task sets and services run a task definition, judged there.
Publishers push a tag by definition (a digest exists only after the push), so the registry
check applies to runners only."""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, Severity, StackValidationArgs

from .common import (
    Refs,
    Unparseable,
    as_list,
    each_known,
    each_part,
    mapping,
    of_type,
    parse_json,
    resource_policy,
    stack_policy,
)
from .consumer import container_definitions, decoded_objects
from .normalize import reading, text

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
DOCKER_IMAGE = "docker:index/image:Image"
DOCKER_BUILD_IMAGE = "docker-build:index:Image"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
BATCH_JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"
APP_RUNNER_SERVICE = "aws:apprunner/service:Service"
REPOSITORY = "aws:ecr/repository:Repository"
_HEX = set("0123456789abcdef")


def _digest(value: str) -> bool:
    return value.startswith("sha256:") and len(value) == 71 and set(value[7:]) <= _HEX


@reading("image-reference", "Image references parsed as Docker does: the registry is the first "
                            "path part when it has a '.' or ':' or is localhost (else Docker "
                            "Hub); no tag means 'latest'; '@sha256:<64 hex>' pins the content.")
def registry_of(name: str) -> str:
    first, slash, _ = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def private_ecr(registry: str) -> bool:
    """<account>.dkr.ecr.<region>.amazonaws.com[.cn]: a private registry (ECR User Guide,
    "Amazon ECR private registry")."""
    parts = registry.split(".")
    return (len(parts) >= 6 and len(parts[0]) == 12 and parts[0].isdigit()
            and parts[1:3] == ["dkr", "ecr"] and parts[4] == "amazonaws"
            and parts[5:] in (["com"], ["com", "cn"]))


def image_problem(reference: object, *, runs: bool = False) -> str | None:
    """Why `reference` is not pinned, or None when it is. `runs`: the image is pulled and run,
    so a tag only pins it where tags cannot move."""
    if not isinstance(reference, str) or not reference.strip():
        return "has no image reference"
    reference = reference.strip()
    name, at, digest = reference.partition("@")
    if at:
        if _digest(digest):
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
    registry = registry_of(name)
    if runs and not private_ecr(registry):
        return (f"uses '{reference}', a tag in {registry}, where tags can be repointed; pin it "
                "by digest (@sha256:...)")
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
        problem = image_problem(definition.get("image"), runs=True)
        if problem:
            yield f"Container '{definition.get('name', '?')}' {problem}."


def _batch(props: Any) -> Iterator[str]:
    if props.get("containerProperties") is not None:
        for container in decoded_objects(props.get("containerProperties"), "batch",
                                         "containerProperties", many=False):
            problem = image_problem(container.get("image"), runs=True)
            if problem:
                yield f"containerProperties {problem}."
    for prop in ("nodeProperties", "ecsProperties", "eksProperties"):
        if props.get(prop) is None:
            continue
        for path, image in _images_anywhere(parse_json(props.get(prop), prop)):
            problem = image_problem(image, runs=True)
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
        if text(props, "packageType") == "Image" or props.get("imageUri") is not None:
            problem = image_problem(props.get("imageUri"), runs=True)
            if problem:
                yield f"Lambda function imageUri {problem}."
    elif kind == BATCH_JOB_DEFINITION:
        yield from _batch(props)
    elif kind == APP_RUNNER_SERVICE:
        source = mapping(props.get("sourceConfiguration"), "sourceConfiguration")
        repository = mapping(source.get("imageRepository"),
                             "sourceConfiguration.imageRepository")
        if repository:
            problem = image_problem(repository.get("imageIdentifier"), runs=True)
            if problem:
                yield f"App Runner imageIdentifier {problem}."


IMAGE_TYPES = (TASK_DEFINITION, DOCKER_IMAGE, DOCKER_BUILD_IMAGE, LAMBDA_FUNCTION,
               BATCH_JOB_DEFINITION, APP_RUNNER_SERVICE)
image_no_latest = resource_policy(
    "image-no-latest",
    "Images run (ECS task definitions, Batch jobs, Lambda, App Runner) or published (docker, "
    "docker-build tags and exports) from an explicit immutable tag or an @sha256 digest, never "
    "'latest' or an untagged reference; an image run from a registry whose tags can move "
    "(anything but a private ECR repository: Docker Hub, ghcr.io, public.ecr.aws, ...) by "
    "digest.",
    IMAGE_TYPES, _check,
    refs=Refs(why="A mutable reference deploys whatever was pushed last: a rollback or a new "
                  "task can run different code than was reviewed and scanned.",
              doc="https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                  "image-tag-mutability.html"),
    severity=Severity.CRITICAL, enforcement=EnforcementLevel.MANDATORY,
    reads=("go-json", "image-reference", "text"),
    remediation="Reference the image by digest (repo@sha256:...) as ContainerService does, or by "
                "an immutable tag such as the commit or source hash of an IMMUTABLE repository "
                "of this stack.")


def _ecr_tags(runner: Any) -> Iterator[str]:
    """References a runner pulls by tag from a private ECR registry."""
    props = runner.props
    if runner.resource_type == TASK_DEFINITION:
        images = [d.get("image") for d in container_definitions(props)]
    elif runner.resource_type == LAMBDA_FUNCTION:
        images = [props.get("imageUri")]
    elif runner.resource_type == BATCH_JOB_DEFINITION and props.get("containerProperties"):
        images = [c.get("image") for c in decoded_objects(
            props.get("containerProperties"), "batch", "containerProperties", many=False)]
    elif runner.resource_type == APP_RUNNER_SERVICE:
        source = mapping(props.get("sourceConfiguration"), "sourceConfiguration")
        images = [mapping(source.get("imageRepository"),
                          "sourceConfiguration.imageRepository").get("imageIdentifier")]
    else:
        images = []
    for image in images:
        if not isinstance(image, str) or "@" in image or image_problem(image, runs=True):
            continue
        name = image.strip().rsplit(":", 1)[0]
        if private_ecr(registry_of(name)):
            yield image.strip()


def _tags_in_immutable_repositories(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    repositories = list(of_type(args.resources, REPOSITORY))

    def immutable(name: str) -> bool | None:
        """Whether the stack's repository of that name has IMMUTABLE tags; None: not ours."""
        for repository in repositories:
            if text(repository.props, "name") == name:
                return text(repository.props, "imageTagMutability") == "IMMUTABLE"
        return None

    def judge(index: int, runner: Any) -> Iterator[tuple[str, str]]:
        for image in _ecr_tags(runner):
            repository = image.split("/", 1)[1].rsplit(":", 1)[0]
            verdict = immutable(repository)
            if verdict is None:
                yield runner.urn, (f"Image '{image}' is a tag of ECR repository '{repository}', "
                                   "which is not a repository of this stack, so nothing shows its "
                                   "tags cannot move; pin it by digest (@sha256:...).")
            elif not verdict:
                yield runner.urn, (f"Image '{image}' is a tag of ECR repository '{repository}', "
                                   "whose tags are not IMMUTABLE; pin it by digest, or make the "
                                   "repository IMMUTABLE.")
    yield from each_known(list(of_type(args.resources, TASK_DEFINITION, LAMBDA_FUNCTION,
                                       BATCH_JOB_DEFINITION, APP_RUNNER_SERVICE)), judge)


image_tag_immutable_repository = stack_policy(
    "image-tag-immutable-repository",
    "An image run by tag from a private ECR registry names an IMMUTABLE repository of this "
    "stack (only those tags cannot be repointed); any other tagged image is pinned by digest.",
    _tags_in_immutable_repositories,
    refs=Refs(why="A tag in a MUTABLE repository, or in one this stack does not control, can be "
                  "pushed again: the next task pulls different code under the same name.",
              doc="https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                  "image-tag-mutability.html"),
    severity=Severity.CRITICAL, enforcement=EnforcementLevel.MANDATORY,
    reads=("go-json", "image-reference", "text"),
    remediation="Pin the image by digest, or push it to an IMMUTABLE repository declared in "
                "this stack and run that tag.")

POLICIES = [image_no_latest, image_tag_immutable_repository]
