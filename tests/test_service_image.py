"""ServiceImage: build once per source, reuse what the repository already holds, keep the URNs
of existing stacks, and hand a scanned, digest-pinned reference to whoever deploys it."""

import gc
import json
import os
import shutil
import stat
import textwrap
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import PROJECT, inputs, one, run_stack, services_of
from shipyard.errors import ConfigError
from shipyard.image import (
    ecr_repository_arn,
    source_fingerprint,
    source_tag,
    validate_digest_pinned,
)
from shipyard.service_image import existing_digest

from shipyard_preview import engine
from shipyard_preview.mocks import ACCOUNT_ID, OfflineMocks
from shipyard_preview.stack_config import StackConfig

IMAGE = "docker:index/image:Image"
TD = "aws:ecs/taskDefinition:TaskDefinition"
REGION = "eu-west-1"
DIGEST = "sha256:" + "ab" * 32

# The committed staging stack builds for ARM64, like prod.
STAGING_PLATFORM = "linux/arm64"


class RegistryMocks(OfflineMocks):
    """Mocks whose ECR already holds some tags (the answer of ListImages via getImages)."""

    held: ClassVar[dict[str, str]] = {}
    asked: ClassVar[list[dict]] = []

    def call(self, args):
        if args.token == "aws:ecr/getImages:getImages":
            type(self).asked.append(dict(args.args))
            return {"imageIds": [{"imageTag": tag, "imageDigest": digest}
                                 for tag, digest in self.held.items()],
                    "repositoryName": args.args["repositoryName"], "region": REGION}, []
        return super().call(args)


@pytest.fixture
def registry(monkeypatch):
    RegistryMocks.held, RegistryMocks.asked = {}, []
    monkeypatch.setattr(engine, "OfflineMocks", RegistryMocks)
    return RegistryMocks


def checkout(tmp_path: Path, name: str, umask: int) -> Path:
    """A copy of the sample app as another machine's checkout would lay it out."""
    target = tmp_path / name / "app"
    shutil.copytree(PROJECT / "app", target)
    for path in target.rglob("*"):
        if path.is_file():
            executable = os.access(path, os.X_OK)
            path.chmod((0o777 if executable else 0o666) & ~umask)
    return target


def staging_with_source(source: Path):
    services = services_of("staging")
    services[0]["containers"][0]["source"] = str(source)
    return run_stack("staging", shipyard__services=services)


def test_second_machine_with_other_modes_and_untracked_files_builds_nothing(tmp_path, registry):
    # GIVEN two checkouts of the same commit: one made with umask 022, the other with umask 002
    # and litter a developer's machine has (bytecode, caches, a .dockerignored notes folder)
    first = checkout(tmp_path, "ci", 0o022)
    second = checkout(tmp_path, "laptop", 0o002)
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"\0\1")
    (second / ".pytest_cache").mkdir()
    (second / ".pytest_cache" / "v").write_text("x")
    (first / ".dockerignore").write_text("notes/\n")
    (second / ".dockerignore").write_text("notes/\n")
    (second / "notes").mkdir()
    (second / "notes" / "todo.md").write_text("untracked")
    assert stat.S_IMODE((first / "server.py").stat().st_mode) != \
        stat.S_IMODE((second / "server.py").stat().st_mode)
    tag = source_tag(source_fingerprint(first, platform=STAGING_PLATFORM))
    assert source_tag(source_fingerprint(second, platform=STAGING_PLATFORM)) == tag

    # WHEN the first machine deploys into an empty repository
    built = staging_with_source(first)
    # THEN it builds and pushes that tag
    assert [i["imageName"].rsplit(":", 1)[1] for i in inputs(built, IMAGE).values()] == [tag]

    # WHEN the second machine deploys after the push (ECR now holds the tag)
    registry.held = {tag: DIGEST}
    reused = staging_with_source(second)
    # THEN no image resource exists, so nothing is built or pushed, and the task runs the
    # digest ECR already holds
    assert inputs(reused, IMAGE) == {}
    repository_url = reused.outputs["web_repository_urls"]["web"]
    assert reused.outputs["web_image_digests"] == {"web": f"{repository_url}@{DIGEST}"}
    assert json.loads(one(reused, TD)["containerDefinitions"])[0]["image"] == \
        f"{repository_url}@{DIGEST}"
    # the lookup asked the service's own repository in this account
    assert registry.asked[-1] == {"repositoryName": repository_url.split("/", 1)[1],
                                  "registryId": ACCOUNT_ID}
    # and the scan gate still judges the reused digest before the task definition uses it
    assert one(reused, "pulumi-python:dynamic:Resource", "web-web-scan-gate")["digest"] == DIGEST


def test_a_tag_missing_from_the_repository_is_built(tmp_path, registry):
    source = checkout(tmp_path, "ci", 0o022)
    registry.held = {"src-00000000000000000000": DIGEST}  # an older release only
    recording = staging_with_source(source)
    image = one(recording, IMAGE)
    assert image["imageName"].endswith(":" + source_tag(source_fingerprint(
        source, platform=STAGING_PLATFORM)))
    assert image["buildOnPreview"] is False and image["skipPush"] is False


@pytest.mark.parametrize(("image_ids", "expected"), [
    (None, None),
    ([], None),
    ([{"imageDigest": DIGEST}], None),  # untagged
    ([{"imageTag": "src-a", "imageDigest": DIGEST}], DIGEST),
    ([{"imageTag": "src-b", "imageDigest": DIGEST}], None),
    ([{"image_tag": "src-a", "image_digest": "sha256:" + "0" * 64}], "sha256:" + "0" * 64),
    ([{"imageTag": "src-a"}], None),  # no digest: cannot pin, build instead
])
def test_existing_digest_reads_list_images_answers(image_ids, expected):
    assert existing_digest(image_ids, "src-a") == expected


class AliasRecordingMonitor(engine.RecordingMonitor):
    aliases: ClassVar[dict[str, list]] = {}

    def RegisterResource(self, request):
        type(self).aliases[request.name] = list(request.aliases)
        return super().RegisterResource(request)


def test_children_keep_the_urns_they_had_under_container_service(monkeypatch):
    AliasRecordingMonitor.aliases = {}
    monkeypatch.setattr(engine, "RecordingMonitor", AliasRecordingMonitor)
    recording = run_stack("staging")
    service = next(r for r in recording.resources
                   if r.type == "shipyard:index:ContainerService")
    component = next(r for r in recording.resources if r.type == "shipyard:index:ServiceImage")
    assert component.name == "web-web" and component.parent == service.urn
    for name in ("web-web-repo", "web-web-lifecycle", "web-web-image", "web-web-scan-gate"):
        child = next(r for r in recording.resources if r.name == name)
        assert child.parent == component.urn
        # Same name and type, old parent: the URN the child had before the extraction.
        ours = [a.spec for a in AliasRecordingMonitor.aliases[name]
                if a.spec.parentUrn == service.urn]
        assert [(a.name, a.type) for a in ours] == [("", "")]


PROGRAM = textwrap.dedent("""
    import pulumi
    from shipyard.service_image import ServiceImage

    image = ServiceImage("web", {"source": "app", "architecture": "ARM64", "images_to_keep": 30})
    pulumi.export("web_image", image.image_ref)
    pulumi.export("web_tag", image.tag)
""")


def artifacts_project(tmp_path: Path) -> Path:
    project = tmp_path / "artifacts"
    project.mkdir()
    shutil.copytree(PROJECT / "app", project / "app")
    (project / "Pulumi.yaml").write_text("name: artifacts\nruntime: python\n")
    (project / "__main__.py").write_text(PROGRAM)
    return project


def run_artifacts(project: Path):
    return engine.run_program(project, StackConfig(
        project="artifacts", stack="shared", config={"aws:region": REGION}, secret_keys=[],
        policy_config={}, region=REGION))


def test_artifacts_program_builds_once_and_exports_a_pinned_reference(tmp_path, registry):
    project = artifacts_project(tmp_path)
    first = run_artifacts(project)
    tag = source_tag(source_fingerprint(project / "app", platform="linux/arm64"))
    repo = one(first, "aws:ecr/repository:Repository")
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    policy = json.loads(one(first, "aws:ecr/lifecyclePolicy:LifecyclePolicy")["policy"])
    assert policy["rules"][1]["selection"]["countNumber"] == 30
    assert one(first, IMAGE)["build"]["platform"] == "linux/arm64"
    assert first.outputs["web_tag"] == tag
    repository = first.outputs["web_image"].split("@")[0]
    # Named, not auto-named: `<project>/<stack>/<name>` by default, so IAM can name it exactly.
    assert repo["name"] == "artifacts/shared/web"
    assert repository == f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/artifacts/shared/web"
    assert validate_digest_pinned(first.outputs["web_image"], "web_image") == \
        first.outputs["web_image"]

    registry.held = {tag: DIGEST}
    second = run_artifacts(project)
    assert inputs(second, IMAGE) == {}
    assert second.outputs["web_image"].endswith("@" + DIGEST)


def test_service_image_refuses_what_it_cannot_build():
    from shipyard.service_image import ServiceImage
    with pytest.raises(ConfigError) as raised:
        ServiceImage("web", {"source": ""})
    assert str(raised.value) == ("web.source: '' is not valid; a folder path containing a "
                                 "Dockerfile")
    with pytest.raises(ConfigError) as raised:
        ServiceImage("web", {"source": "app", "architecture": "arm64"})
    assert str(raised.value) == "web.architecture: 'arm64' is not valid; one of X86_64, ARM64"


@pytest.mark.parametrize(("reference", "arn"), [
    (f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/shipyard/web@{DIGEST}",
     f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/shipyard/web"),
    ("444455556666.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:v1",
     "arn:aws-us-gov:ecr:us-gov-west-1:444455556666:repository/web"),
    (f"444455556666.dkr.ecr.cn-north-1.amazonaws.com.cn/web@{DIGEST}",
     "arn:aws-cn:ecr:cn-north-1:444455556666:repository/web"),
    (f"public.ecr.aws/nginx/nginx@{DIGEST}", None),
    (f"ghcr.io/org/web@{DIGEST}", None),
    (f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com@{DIGEST}", None),
    (None, None),
])
def test_ecr_repository_arn_of_a_reference(reference, arn):
    assert ecr_repository_arn(reference) == arn


def test_group_and_other_mode_bits_do_not_change_the_tag(tmp_path):
    """git records only the executable bit of a file; the tag reads only that bit too."""
    source = checkout(tmp_path, "ci", 0o022)
    before = source_tag(source_fingerprint(source, platform=STAGING_PLATFORM))
    (source / "server.py").chmod(0o666)
    assert source_tag(source_fingerprint(source, platform=STAGING_PLATFORM)) == before


DEPLOY_PROGRAM = textwrap.dedent("""
    import pulumi
    from shipyard import ContainerService

    reference = pulumi.Output.from_input(pulumi.Config().require("image"))
    service = ContainerService("api", {
        "containers": [{"name": "api", "image": reference, "port": 8080}],
        "vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-aaaaaaaa", "subnet-bbbbbbbb"],
        "private_subnet_ids": ["subnet-cccccccc", "subnet-dddddddd"],
    })
    pulumi.export("image_digests", service.image_digests)
""")


def deploy_digest(tmp_path: Path, reference: str):
    project = tmp_path / "env"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: env\nruntime: python\n")
    (project / "__main__.py").write_text(DEPLOY_PROGRAM)
    return engine.run_program(project, StackConfig(
        project="env", stack="staging", config={"aws:region": REGION, "env:image": reference},
        secret_keys=[], policy_config={}, region=REGION))


def test_an_image_from_another_stack_is_deployed_by_its_digest(tmp_path):
    reference = f"444455556666.dkr.ecr.{REGION}.amazonaws.com/shipyard/web@{DIGEST}"
    recording = deploy_digest(tmp_path, reference)
    assert json.loads(one(recording, TD)["containerDefinitions"])[0]["image"] == reference
    assert recording.outputs["image_digests"] == {"api": reference}
    assert inputs(recording, IMAGE) == {} and inputs(recording, "aws:ecr/repository:Repository") == {}
    statements = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", "api-execution")[
        "policy"])["Statement"]
    assert statements[1] == {
        "Sid": "PullOwnImages", "Effect": "Allow",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                   "ecr:GetDownloadUrlForLayer"],
        "Resource": [f"arn:aws:ecr:{REGION}:444455556666:repository/shipyard/web"]}


@pytest.mark.parametrize(("reference", "allowed"), [
    (f"444455556666.dkr.ecr.{REGION}.amazonaws.com/shipyard/web:src-0123456789abcdef0123",
     "a digest-pinned reference repo@sha256:<64 hex>"),
    (f"444455556666.dkr.ecr.{REGION}.amazonaws.com/shipyard/web@sha256:abc",
     "a digest must be sha256: followed by 64 lowercase hex characters"),
])
def test_an_image_output_that_is_not_digest_pinned_is_refused(tmp_path, reference, allowed):
    # Known only once the other stack's output resolves: the registrations that need it fail
    # with the validator's message.
    with pytest.raises(ValueError) as raised:
        deploy_digest(tmp_path, reference)
    # The failed run leaves pending runtime tasks; collect them now, not in the middle of a
    # later ast.parse (CPython 3.11.7 then fails with "AST constructor recursion depth mismatch").
    gc.collect()
    assert str(raised.value).endswith(
        f"api.containers[api].image: {reference!r} is not valid; {allowed}")



def test_first_preview_shows_the_build_a_new_repository_needs(registry):
    """At a first preview the repository does not exist: no ListImages call (it would fail on a
    missing repository), yet the image is in the plan, because a new repository holds no tags
    and `up` will build it. So the plan lists the same create `up` performs, and an update plan
    (`pulumi up --plan`) holds."""
    from conftest import stack_config
    recording = engine.run_program(PROJECT, stack_config("staging"), preview_unknowns=True)
    assert registry.asked == []
    image = one(recording, IMAGE)
    assert image["imageName"] == "[unknown]"
    assert (image["buildOnPreview"], image["skipPush"]) == (False, False)
    assert recording.outputs["web_image_digests"] == "[unknown until deploy]"
    assert "web-web-scan-gate" in inputs(recording, "pulumi-python:dynamic:Resource")
    # `up` of the same stack (the repository now exists, empty) registers the same image.
    deployed = run_stack("staging")
    assert [r.urn for r in deployed.resources if r.type == IMAGE] == \
        [r.urn for r in recording.resources if r.type == IMAGE]


def test_the_plan_says_the_image_is_built_if_missing(registry):
    """The plan document and its text view name the condition, and the service's timeouts."""
    from conftest import stack_config

    from shipyard_preview.plan import BUILT_IF_MISSING, build_plan
    from shipyard_preview.render import render_text
    plan = build_plan(engine.run_program(PROJECT, stack_config("staging"),
                                         preview_unknowns=True), None)
    image = next(r for r in plan["resources"] if r["type"] == IMAGE)
    assert image["keySettings"]["build"] == BUILT_IF_MISSING
    assert BUILT_IF_MISSING.startswith("built if missing:")
    service = next(r for r in plan["resources"] if r["type"] == "aws:ecs/service:Service")
    assert service["keySettings"]["timeouts"] == {"create": "23m", "update": "23m",
                                                  "delete": "20m"}
    text = render_text(plan)
    assert f"      build: {BUILT_IF_MISSING}\n" in text
