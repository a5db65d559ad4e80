"""The artifacts path under mocks: the artifacts stack builds each service image once and exports
its digest through the scan gate; staging and prod, reading the artifacts registry, build
nothing and run exactly that digest. The images expected are those the committed stack files
build from source (conftest.built_from_source), so the tests hold for any valid config; the
sample's own image is asserted against the frozen sample configs."""

import dataclasses
import json

import pytest
from conftest import (
    PROJECT,
    SAMPLE,
    built_from_source,
    committed_stack_config,
    inputs,
    one,
    run_stack,
)
from shipyard.errors import ConfigError
from shipyard_delivery.artifacts import images_to_build, repository_policy

from shipyard_preview.delivery_program import run_with_delivery_mocks
from shipyard_preview.engine import run_program
from shipyard_preview.stack_config import load_stack_config

ARTIFACTS = PROJECT / "artifacts"
APP_STACKS = ("staging", "prod")
REGISTRY = "111122223333"
ECR = f"{REGISTRY}.dkr.ecr.eu-west-1.amazonaws.com"
TD = "aws:ecs/taskDefinition:TaskDefinition"


def built_on(architecture: str) -> dict[tuple[str, str], str]:
    """(service, container) -> source folder of every container the committed stacks build
    from source on this architecture."""
    return {key: built["source"] for stack in APP_STACKS
            for key, built in built_from_source(stack).items()
            if built["architecture"] == architecture}


@pytest.fixture(scope="module")
def artifacts():
    config = load_stack_config(ARTIFACTS, "arm64")
    assert json.loads(config.config["shipyard-artifacts:app_stacks"]) == list(APP_STACKS)
    # The delivery stack owns the repositories: the artifacts program reads them (getRepository).
    return run_with_delivery_mocks(ARTIFACTS, config, [])


@pytest.fixture(scope="module")
def delivered():
    """The committed stacks, deploying from the artifacts registry."""
    def run(stack):
        config = committed_stack_config(stack)
        return run_program(PROJECT, dataclasses.replace(config, config={
            **config.config, "shipyard:artifacts_registry": REGISTRY}))
    return {stack: run(stack) for stack in APP_STACKS}


def _images(recording):
    return [c["image"] for td in inputs(recording, TD).values()
            for c in json.loads(td["containerDefinitions"])]


def test_artifacts_stack_builds_each_image_once_behind_the_scan_gate(artifacts):
    built = built_on("ARM64")
    images = inputs(artifacts, "docker:index/image:Image")
    assert {name: (image["build"]["platform"], image["build"]["context"])
            for name, image in images.items()} == {
        f"{service}-{container}": ("linux/arm64", f"../{source}")
        for (service, container), source in built.items()}
    for (service, container) in built:
        assert images[f"{service}-{container}"]["imageName"].startswith(
            f"{ECR}/shipyard/{service}/{container}:src-")
    # It creates no repository (the delivery stack does, IMMUTABLE; test_delivery.py).
    assert inputs(artifacts, "aws:ecr/repository:Repository") == {}
    gates = sorted(r.name for r in artifacts.resources
                   if r.type == "pulumi-python:dynamic:Resource")
    assert gates == sorted(f"{service}-{container}-scan-gate" for service, container in built)
    exported = artifacts.outputs["images"]
    assert sorted((s, c) for s in exported for c in exported[s]) == sorted(built)
    for (service, container) in built:
        assert exported[service][container].startswith(
            f"{ECR}/shipyard/{service}/{container}@sha256:")


def test_both_stacks_run_the_one_digest_and_build_nothing(artifacts, delivered):
    digests = artifacts.outputs["images"]
    for stack, recording in delivered.items():
        types = {r.type for r in recording.resources}
        assert "docker:index/image:Image" not in types, stack
        assert "aws:ecr/repository:Repository" not in types, stack
        built = built_from_source(stack)
        services = json.loads(committed_stack_config(stack).config["shipyard:services"])
        # Each container runs the artifacts stack's digest if it is built, its pinned image if not.
        expected = [digests[s["name"]][c["name"]] if (s["name"], c["name"]) in built
                    else c["image"] for s in services for c in s["containers"]]
        assert sorted(_images(recording)) == sorted(expected), stack


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
                 "arn:aws:iam::444455556666:role/shipyard-deploy-*"]}}},
            {"Sid": "ReleasedImagesStay", "Effect": "Deny", "Principal": "*",
             "Action": ["ecr:BatchDeleteImage", "ecr:DeleteRepository",
                        "ecr:PutImageTagMutability"]}]}


@pytest.mark.parametrize("architecture", ["ARM64", "X86_64"])
def test_only_images_of_the_stack_architecture_are_built(architecture):
    assert [(i.service, i.container, i.source, i.repository)
            for i in images_to_build(list(APP_STACKS), architecture)] == [
        (service, container, source, f"shipyard/{service}/{container}")
        for (service, container), source in built_on(architecture).items()]


def test_the_sample_builds_its_one_image_on_arm64():
    assert [(i.service, i.container, i.source, i.dockerfile, i.repository)
            for i in images_to_build(list(APP_STACKS), "ARM64", SAMPLE)] == [
        ("web", "web", "app", "Dockerfile", "shipyard/web/web")]
    assert images_to_build(list(APP_STACKS), "X86_64", SAMPLE) == []


def test_a_bad_registry_is_refused_before_anything_is_registered():
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", shipyard__artifacts_registry="not-an-account")
    assert str(raised.value) == (
        "shipyard:artifacts_registry: 'not-an-account' is not valid; the 12-digit account "
        "that holds the artifacts stack's repositories, or empty to build images in this stack")
    assert [r for r in raised.value.registered_before_failure  # type: ignore[attr-defined]
            if r.custom and r.type != "pulumi:providers:aws"] == []


def test_execution_role_pulls_exactly_the_artifacts_repositories(delivered):
    for stack, recording in delivered.items():
        built = built_from_source(stack)
        for service in dict.fromkeys(s for s, _ in built):
            repositories = [f"arn:aws:ecr:eu-west-1:{REGISTRY}:repository/shipyard/{s}/{c}"
                            for s, c in built if s == service]
            policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy",
                                    f"{service}-execution")["policy"])
            pulls = [s for s in policy["Statement"] if "ecr:BatchGetImage" in s["Action"]]
            assert [s["Resource"] for s in pulls] == [repositories], (stack, service)
