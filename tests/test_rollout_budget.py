"""Long rollouts: each strategy's worst case, worked out from the service's own settings, sets the
ECS service's create/update/delete timeouts and the rollout check's deadline, because the
provider's wait (20 minutes by default) covers the whole deployment including the bake time. A
configuration no `pulumi up` could watch to its end is refused, and every range is ECS's own."""

import json
import re

import botocore.session
import pytest
from conftest import SAMPLE, load_stack_config, one, resource, run_stack
from shipyard.errors import ConfigError
from shipyard.rollout_budget import (
    MAX_CREDENTIAL_SECONDS,
    PROVIDER_DEFAULT_TIMEOUT_SECONDS,
    rollout_budget,
)
from shipyard.spec import parse_service_args
from shipyard.topology import CANARY_PERCENT_MIN, LINEAR_STEP_PERCENT_MIN, MAX_BAKE_MINUTES

SERVICE = "aws:ecs/service:Service"
BASE = {"containers": [{"name": "web", "image": "public.ecr.aws/nginx/nginx@sha256:" + "a" * 64,
                        "port": 8080}],
        "vpc_id": "vpc-11111111", "public_subnet_ids": ["subnet-aaaaaaaa", "subnet-bbbbbbbb"],
        "private_subnet_ids": ["subnet-cccccccc", "subnet-dddddddd"]}
TEST_LISTENER = {"test_listener_port": 8443, "test_ingress_cidrs": ["203.0.113.0/24"]}


def spec(deployment=None, **settings):
    args = {**BASE, **settings}
    if deployment is not None:
        args["deployment"] = deployment
    return parse_service_args("web", args)


def timeouts(service_spec):
    budget = rollout_budget(service_spec)
    custom = budget.custom_timeouts()
    return budget.worst_case_seconds, (custom.create, custom.update, custom.delete)


# Defaults: grace 30 s, deregistration 15 s, 2 tasks. A task is ready after the start allowance
# (300 s), the grace period and two passing target-group checks 5 s apart: 340 s. With 2 tasks
# the circuit breaker (threshold 3) waits 2 rounds; LINEAR and CANARY have no breaker.
@pytest.mark.parametrize(("deployment", "worst_case", "expected"), [
    (None, 2 * 340 + 15, ("17m", "17m", "20m")),
    ({"strategy": "BLUE_GREEN", **TEST_LISTENER}, 2 * 340 + 600 + 15, ("27m", "27m", "20m")),
    ({"strategy": "CANARY"}, 340 + 5 * 60 + 600 + 15, ("26m", "26m", "20m")),
    # 10 % steps: 10 steps, a 2-minute bake between each (9), then the 10-minute bake.
    ({"strategy": "LINEAR"}, 340 + 9 * 120 + 600 + 15, ("39m", "39m", "20m")),
    ({"strategy": "LINEAR", "linear_step_percent": 3, "linear_step_bake_time_minutes": 1},
     340 + 33 * 60 + 600 + 15, ("54m", "54m", "20m")),
    ({"strategy": "BLUE_GREEN", "bake_time_minutes": 0, **TEST_LISTENER,
      "smoke_test_lambda_arn": "arn:aws:lambda:eu-west-1:111122223333:function:smoke"},
     2 * 340 + 900 + 15, ("32m", "32m", "20m")),
])
def test_timeouts_follow_each_strategys_worst_case(deployment, worst_case, expected):
    assert timeouts(spec(deployment)) == (worst_case, expected)


def test_linear_with_its_defaults_outlasts_the_providers_wait_and_now_gets_more():
    worst_case, (create, update, _) = timeouts(spec({"strategy": "LINEAR"}))
    assert worst_case > PROVIDER_DEFAULT_TIMEOUT_SECONDS
    assert int(update.removesuffix("m")) * 60 > worst_case
    assert create == update


def test_more_tasks_trip_the_breaker_in_one_round_and_a_long_drain_lengthens_delete():
    six = spec({"strategy": "BLUE_GREEN", **TEST_LISTENER}, desired_count=6, min_count=6,
               max_count=12, deregistration_delay_seconds=3600)
    # update: 4540 s and the 300 s margin, 80.7 minutes; delete: 3600 s draining, 30 s stop,
    # the margin, 65.5 minutes; both rounded up.
    assert timeouts(six) == (340 + 600 + 3600, ("81m", "81m", "66m"))


def test_a_container_health_check_counts_toward_readiness():
    checked = spec(containers=[{**BASE["containers"][0],
                                "health_check_command": ["curl", "-f", "localhost"]}])
    # start period 10 s, then 3 retries 10 s apart (task_definition.CONTAINER_HEALTH_CHECK)
    assert rollout_budget(checked).task_ready == 340 + 40


def test_a_rollout_longer_than_any_credentials_last_is_refused_before_anything_exists():
    with pytest.raises(ConfigError) as raised:
        spec({"strategy": "LINEAR", "linear_step_percent": 3,
              "linear_step_bake_time_minutes": 1440})
    assert str(raised.value) == (
        "deployment: {'strategy': 'LINEAR', 'bake_time_minutes': 10, 'linear_step_percent': 3.0, "
        "'linear_step_bake_time_minutes': 1440} is not valid; a rollout that can end within 12 "
        "hours, the longest any AWS role's credentials last (the provider watches the whole "
        "rollout with one set); this one can take 47536 minutes: shorten the bake times or "
        "raise the step percent")


@pytest.mark.parametrize(("deployment", "setting", "allowed"), [
    ({"strategy": "LINEAR", "linear_step_percent": 12.34}, "deployment.linear_step_percent",
     "a percentage from 3.0 to 100 in steps of 0.1"),
    ({"strategy": "LINEAR", "linear_step_percent": 2.9}, "deployment.linear_step_percent",
     "a percentage from 3.0 to 100 in steps of 0.1"),
    ({"strategy": "CANARY", "canary_percent": 0.05}, "deployment.canary_percent",
     "a percentage from 0.1 to 100 in steps of 0.1"),
    ({"strategy": "CANARY", "canary_bake_time_minutes": 1441},
     "deployment.canary_bake_time_minutes", "an integer from 0 to 1440"),
])
def test_values_outside_ecss_ranges_are_refused(deployment, setting, allowed):
    with pytest.raises(ConfigError) as raised:
        spec(deployment)
    assert (raised.value.setting, raised.value.allowed) == (setting, allowed)


def _doc(model, shape, member):
    return re.sub(r"<[^>]+>", " ", model.shape_for(shape).members[member].documentation)


def test_the_ranges_are_ecss_and_iams_own():
    session = botocore.session.get_session()
    ecs = session.get_service_model("ecs")
    for shape, member in (("LinearConfiguration", "stepBakeTimeInMinutes"),
                          ("CanaryConfiguration", "canaryBakeTimeInMinutes")):
        assert re.search(r"Valid values are 0 to (\d+) minutes", _doc(ecs, shape, member))[1] \
            == str(MAX_BAKE_MINUTES)
    for shape, member, low in (("LinearConfiguration", "stepPercent", LINEAR_STEP_PERCENT_MIN),
                               ("CanaryConfiguration", "canaryPercent", CANARY_PERCENT_MIN)):
        found = re.search(r"multiples of 0\.1 from (\d+\.\d) to (\d+\.\d)", _doc(ecs, shape, member))
        assert (float(found[1]), float(found[2])) == (low, 100.0)
    assert "not applied after reaching 100 percent" in _doc(
        ecs, "LinearConfiguration", "stepBakeTimeInMinutes")
    iam = session.get_service_model("iam")
    assert iam.shape_for("CreateRoleRequest").members["MaxSessionDuration"].metadata["max"] \
        == MAX_CREDENTIAL_SECONDS


def test_the_service_and_the_rollout_check_get_the_budget(prod):
    """What the SDK sends the engine: the service's customTimeouts option and the check's
    deadline, both from the same worst case (prod: blue/green, 3 tasks, 10-minute bake)."""
    service = resource(prod, SERVICE, "web-service")
    assert service.custom_timeouts == {"create": "21m", "update": "21m", "delete": "20m"}
    assert one(prod, "pulumi-python:dynamic:Resource", "web-rollout")["timeout_seconds"] == 21 * 60


def test_a_linear_stack_registers_its_longer_timeouts():
    defaults = json.loads(load_stack_config(SAMPLE, "prod").config["shipyard:service_defaults"])
    defaults["deployment"] = {"strategy": "LINEAR", "test_listener_port": 8443,
                              "test_ingress_cidrs": ["203.0.113.0/24"]}
    recording = run_stack("prod", shipyard__service_defaults=defaults)
    # 3 tasks: one breaker-free round; 9 step bakes of 2 minutes and the 10-minute bake.
    assert resource(recording, SERVICE, "web-service").custom_timeouts == {
        "create": "39m", "update": "39m", "delete": "20m"}
