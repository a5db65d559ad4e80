"""The artifacts path under mocks: the artifacts stack builds each service image once and exports
its digest through the scan gate; staging and prod, reading the artifacts registry, build
nothing and run exactly that digest."""

import json

import pytest
from conftest import PROJECT, inputs, one, run_stack
from shipyard.errors import ConfigError
from shipyard_delivery.artifacts import images_to_build, repository_policy

from shipyard_preview.engine import run_program
from shipyard_preview.stack_config import load_stack_config

ARTIFACTS = PROJECT / "artifacts"
REGISTRY = "111122223333"
TD = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.fixture(scope="module")
def artifacts():
    return run_program(ARTIFACTS, load_stack_config(ARTIFACTS, "arm64"))


@pytest.fixture(scope="module")
def delivered():
    return {stack: run_stack(stack, shipyard__artifacts_registry=REGISTRY)
            for stack in ("staging", "prod")}


def _images(recording):
    return [c["image"] for td in inputs(recording, TD).values()
            for c in json.loads(td["containerDefinitions"])]


def test_artifacts_stack_builds_each_image_once_behind_the_scan_gate(artifacts):
    (image,) = inputs(artifacts, "docker:index/image:Image").values()
    assert image["build"]["platform"] == "linux/arm64"
    assert image["build"]["context"] == "../app"
    assert image["imageName"].startswith(
        f"{REGISTRY}.dkr.ecr.eu-west-1.amazonaws.com/shipyard/web/web:src-")
    repository = one(artifacts, "aws:ecr/repository:Repository")
    assert (repository["name"], repository["imageTagMutability"]) == (
        "shipyard/web/web", "IMMUTABLE")
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    (gate,) = [r for r in artifacts.resources if r.type == "pulumi-python:dynamic:Resource"]
    assert gate.name == "web-web-scan-gate"
    digest = artifacts.outputs["images"]["web"]["web"]
    assert digest.startswith(f"{REGISTRY}.dkr.ecr.eu-west-1.amazonaws.com/shipyard/web/web@sha256:")


def test_both_stacks_run_the_one_digest_and_build_nothing(artifacts, delivered):
    digest = artifacts.outputs["images"]["web"]["web"]
    for stack, recording in delivered.items():
        types = {r.type for r in recording.resources}
        assert "docker:index/image:Image" not in types, stack
        assert "aws:ecr/repository:Repository" not in types, stack
        assert _images(recording) == [digest], stack


def test_repository_policy_lets_only_the_stack_accounts_roles_pull():
    assert repository_policy(project="shipyard", service="web",
                             pull_accounts=["444455556666"]) == {
        "Version": "2012-10-17", "Statement": [
            {"Sid": "ExecutionRolesPull", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer"],
             "Condition": {"ArnLike": {"aws:PrincipalArn": [
                 "arn:aws:iam::444455556666:role/web-execution-*"]}}},
            {"Sid": "DeployRolesReadDigests", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
             "Action": ["ecr:BatchGetImage", "ecr:DescribeImageScanFindings",
                        "ecr:DescribeImages"],
             "Condition": {"ArnLike": {"aws:PrincipalArn": [
                 "arn:aws:iam::444455556666:role/shipyard-deploy-*"]}}}]}


def test_only_images_of_the_stack_architecture_are_built():
    assert [i.repository for i in images_to_build(["staging", "prod"], "ARM64")] == [
        "shipyard/web/web"]
    assert images_to_build(["staging", "prod"], "X86_64") == []


def test_a_bad_registry_is_refused_before_anything_is_registered():
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", shipyard__artifacts_registry="not-an-account")
    assert str(raised.value) == (
        "shipyard:artifacts_registry: 'not-an-account' is not valid; the 12-digit account "
        "that holds the artifacts stack's repositories, or empty to build images in this stack")
    assert [r for r in raised.value.registered_before_failure  # type: ignore[attr-defined]
            if r.custom and r.type != "pulumi:providers:aws"] == []


def test_execution_role_pulls_exactly_the_artifacts_repository(delivered):
    repository = f"arn:aws:ecr:eu-west-1:{REGISTRY}:repository/shipyard/web/web"
    for stack, recording in delivered.items():
        policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", "web-execution")[
            "policy"])
        pulls = [s for s in policy["Statement"] if "ecr:BatchGetImage" in s["Action"]]
        assert [s["Resource"] for s in pulls] == [[repository]], stack
