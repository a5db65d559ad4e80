"""Rollback. By redeploying a previous commit: its source maps back to the image already in ECR
(same tag, same digest), so nothing is built and the lifecycle policy has kept it. Automatic:
a deployment ECS rolled back fails `pulumi up`, and the revision it rolled back to is still
registered."""

import json
import shutil

import boto3
import pytest
from botocore.stub import Stubber
from conftest import PROJECT, one, resource, run_stack, services_of
from shipyard.container_service import lifecycle_policy
from shipyard.errors import ConfigError
from shipyard.image import source_fingerprint, source_tag
from shipyard.rollout import RolloutError, judge_rollout, task_definition_family, wait_for_rollout

# The committed staging stack builds for ARM64, like prod.
STAGING_PLATFORM = "linux/arm64"


def test_previous_source_maps_back_to_its_retained_image(tmp_path):
    source = tmp_path / "app"
    shutil.copytree(PROJECT / "app", source)
    services = services_of("staging")
    services[0]["containers"][0]["source"] = str(source)

    def deploy():
        recording = run_stack("staging", shipyard__services=services)
        return (one(recording, "docker:index/image:Image")["imageName"],
                recording.outputs["web_image_digests"]["web"])

    v1_image, v1_digest = deploy()
    original = (source / "server.py").read_text()
    (source / "server.py").write_text(original + "\n# release 2\n")
    v2_image, v2_digest = deploy()
    (source / "server.py").write_text(original)  # git checkout of the previous commit
    back_image, back_digest = deploy()

    assert v2_image != v1_image and v2_digest != v1_digest
    assert (back_image, back_digest) == (v1_image, v1_digest)
    assert back_image.endswith(":" + source_tag(source_fingerprint(
        source, platform=STAGING_PLATFORM)))
    # The image survives: tagged src-* images are kept (the last N), only untagged ones expire.
    keep = lifecycle_policy(10)["rules"][1]["selection"]
    assert keep["tagPatternList"] == ["src-*"] and keep["countNumber"] == 10


# --- A rolled-back deployment fails `pulumi up` (defect: #20858 reported it as a success) ---

CLUSTER = "arn:aws:ecs:eu-west-1:111122223333:cluster/cluster-0a1b2c3"
SERVICE = "arn:aws:ecs:eu-west-1:111122223333:service/cluster-0a1b2c3/web-service-8f946f3"
OLD = "arn:aws:ecs:eu-west-1:111122223333:task-definition/shipyard-prod-web:6"
NEW = "arn:aws:ecs:eu-west-1:111122223333:task-definition/shipyard-prod-web:7"


def deployment(status, task_definition, rollout_state, reason=None, running=3, desired=3):
    item = {"id": f"ecs-svc/{abs(hash((status, task_definition))) % 10**19}", "status": status,
            "taskDefinition": task_definition, "desiredCount": desired,
            "runningCount": running, "pendingCount": 0, "failedTasks": 0,
            "launchType": "FARGATE", "platformVersion": "1.4.0"}
    if rollout_state:
        item["rolloutState"] = rollout_state
    if reason:
        item["rolloutStateReason"] = reason
    return item


def services_answer(*deployments, task_definition=None):
    return {"services": [{
        "serviceArn": SERVICE, "serviceName": "web-service-8f946f3", "clusterArn": CLUSTER,
        "status": "ACTIVE", "desiredCount": 3, "runningCount": 3, "pendingCount": 0,
        "taskDefinition": task_definition or deployments[0]["taskDefinition"],
        "deployments": list(deployments)}], "failures": []}


ROLLED_BACK = services_answer(
    deployment("PRIMARY", OLD, "COMPLETED",
               "ECS deployment circuit breaker: rolled back to the previous deployment."),
    deployment("ACTIVE", NEW, "FAILED",
               "ECS deployment circuit breaker: tasks failed to start.", running=0))


def stubbed_ecs(*answers):
    """A boto3 ECS client whose answers botocore's Stubber validates against the ECS model."""
    client = boto3.client("ecs", region_name="eu-west-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stubber = Stubber(client)
    for answer in answers:
        stubber.add_response("describe_services", answer,
                             {"cluster": CLUSTER, "services": [SERVICE]})
    stubber.activate()
    return client


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def check(*answers, timeout=60):
    clock = Clock()
    verdict = wait_for_rollout(stubbed_ecs(*answers), cluster=CLUSTER, service_arn=SERVICE,
                               task_definition_arn=NEW, timeout_seconds=timeout,
                               poll_seconds=15, sleep=clock.sleep, clock=clock)
    return verdict, clock.sleeps


def test_a_completed_rollout_of_the_given_revision_passes():
    in_progress = services_answer(deployment("PRIMARY", NEW, "IN_PROGRESS", running=1),
                                  deployment("ACTIVE", OLD, "COMPLETED"))
    done = services_answer(deployment("PRIMARY", NEW, "COMPLETED",
                                      "ECS deployment ecs-svc/1 completed."))
    assert check(in_progress, done) == ({"service": "web-service-8f946f3",
                                         "task_definition": NEW,
                                         "rollout_state": "COMPLETED"}, [15])


def test_a_circuit_breaker_rollback_fails_the_update():
    with pytest.raises(RolloutError) as raised:
        check(ROLLED_BACK)
    assert str(raised.value) == (
        f"service web-service-8f946f3 runs {OLD}, not {NEW}: ECS rolled the deployment back "
        "(ECS deployment circuit breaker: tasks failed to start.). The previous revision is "
        "still registered and serving; fix the cause (see the service's events and the stopped "
        "tasks' reasons) and deploy again.")


def test_a_failed_rollout_that_was_not_rolled_back_fails():
    with pytest.raises(RolloutError) as raised:
        check(services_answer(deployment("PRIMARY", NEW, "FAILED", "tasks failed to start.",
                                         running=0)))
    assert str(raised.value) == (f"the deployment of {NEW} to service web-service-8f946f3 "
                                 "failed: tasks failed to start..")


def test_a_rollout_that_never_completes_fails_closed():
    stuck = services_answer(deployment("PRIMARY", NEW, "IN_PROGRESS", running=1))
    with pytest.raises(RolloutError) as raised:
        check(*[stuck] * 5, timeout=60)
    assert str(raised.value) == (f"the deployment of {NEW} did not complete within 60 s; not "
                                 "reporting it as a success.")


def test_a_service_ecs_does_not_know_fails():
    answer = {"services": [], "failures": [{"arn": SERVICE, "reason": "MISSING"}]}
    with pytest.raises(RolloutError) as raised:
        judge_rollout(answer, service_arn=SERVICE, task_definition_arn=NEW)
    assert str(raised.value) == f"ECS does not describe the service {SERVICE} ({SERVICE}: MISSING)."


def test_without_a_rollout_state_one_steady_deployment_passes():
    answer = services_answer(deployment("PRIMARY", NEW, None))
    assert judge_rollout(answer, service_arn=SERVICE, task_definition_arn=NEW)[
        "rollout_state"] == "STEADY"
    two = services_answer(deployment("PRIMARY", NEW, None), deployment("ACTIVE", OLD, None))
    assert judge_rollout(two, service_arn=SERVICE, task_definition_arn=NEW) is None


def test_the_check_follows_the_service_and_keeps_old_revisions(staging, prod):
    for recording, stack in ((staging, "staging"), (prod, "prod")):
        task = one(recording, "aws:ecs/taskDefinition:TaskDefinition")
        assert task["family"] == f"shipyard-{stack}-web"
        assert task["skipDestroy"] is True
        check_props = one(recording, "pulumi-python:dynamic:Resource", "web-rollout")
        service = resource(recording, "aws:ecs/service:Service", "web-service")
        rollout = resource(recording, "pulumi-python:dynamic:Resource", "web-rollout")
        task_resource = resource(recording, "aws:ecs/taskDefinition:TaskDefinition", "web-task")
        assert service.urn in rollout.dependencies
        assert task_resource.urn in rollout.property_dependencies["task_definition_arn"]
        assert check_props["service_arn"] == service.id
        assert check_props["task_definition_arn"] == (
            f"arn:aws:ecs:eu-west-1:111122223333:task-definition/shipyard-{stack}-web:1")
        assert (check_props["region"], check_props["account_id"]) == ("eu-west-1", "111122223333")
    families = {one(r, "aws:ecs/taskDefinition:TaskDefinition")["family"] for r in (staging, prod)}
    assert len(families) == 2


@pytest.mark.parametrize(("project", "stack", "service", "family"), [
    ("shipyard", "staging", "web", "shipyard-staging-web"),
    ("shipyard", "prod.eu", "api", "shipyard-prod-eu-api"),
    ("my_app", "dev", "web", "my_app-dev-web"),
])
def test_family_is_unique_per_stack_and_valid_for_ecs(project, stack, service, family):
    assert task_definition_family(project, stack, service) == family


def test_family_longer_than_ecs_allows_is_refused():
    with pytest.raises(ConfigError) as raised:
        task_definition_family("p" * 200, "s" * 51, "web")
    assert raised.value.setting == "task definition family"
    assert raised.value.allowed == ("at most 255 characters (ECS); it is "
                                    "<project>-<stack>-<service>: use shorter names")
    assert len(task_definition_family("p" * 200, "s" * 50, "web")) == 255


@pytest.mark.parametrize("module", ["shipyard.rollout", "shipyard.scan_gate"])
def test_dynamic_providers_are_serialized_by_reference(module):
    """The engine stores each dynamic provider pickled in state. By reference (module and class
    name) it does not change when the code does (no spurious diff) and the provider process
    imports the installed package, in the stack provider's identity (aws_session)."""
    import base64
    import importlib

    import dill
    from pulumi.dynamic.dynamic import serialize_provider
    provider_class = next(cls for name, cls in vars(importlib.import_module(module)).items()
                          if name.endswith("Provider") and name.startswith("_"))
    raw = base64.b64decode(serialize_provider(provider_class()))
    assert len(raw) < 100 and module.encode() in raw
    assert type(dill.loads(raw)) is provider_class


@pytest.mark.parametrize(("changed", "checks_again"), [
    ({}, False),
    ({"task_definition_arn": NEW}, True),
    ({"deployment_settings": '{"capacity": [{"capacity_provider": "FARGATE", "weight": 1}]}'},
     True),
    ({"principal": "arn:aws:sts::111122223333:assumed-role/other"}, False),
    ({"timeout_seconds": 60}, False),
])
def test_every_new_deployment_is_checked_again(changed, checks_again):
    from shipyard.rollout import _RolloutCheckProvider
    olds = {"cluster": CLUSTER, "service_arn": SERVICE, "task_definition_arn": OLD,
            "region": "eu-west-1", "principal": "arn:aws:sts::111122223333:assumed-role/deploy",
            "deployment_settings": '{"capacity": [{"capacity_provider": "FARGATE_SPOT"}]}',
            "timeout_seconds": 900}
    diff = _RolloutCheckProvider().diff(SERVICE, olds, {**olds, **changed})
    assert diff.changes is checks_again and diff.replaces == []


def test_the_check_sees_the_service_settings_that_start_deployments(staging):
    settings = json.loads(one(staging, "pulumi-python:dynamic:Resource", "web-rollout")[
        "deployment_settings"])
    service = one(staging, "aws:ecs/service:Service")
    assert settings["capacity"] == [{"capacity_provider": "FARGATE_SPOT", "weight": 1}]
    assert settings["network"]["subnets"] == service["networkConfiguration"]["subnets"]
    assert settings["platform"] == "LATEST"
