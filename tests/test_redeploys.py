"""The second and third deployment of prod (blue/green), replayed against what the provider reads
back from ECS in between (deployment_replay.py): ECS alternates the production and alternate
target groups, a deployment gets rolled back, a redeploy retries the same source. Each `up` is
asserted by the exact UpdateService request it makes."""

import copy
import json

import pytest
from conftest import inputs, one, resource, run_stack, services_of
from deployment_replay import (
    RevisionMocks,
    after_deployment,
    created_state,
    swap_groups,
    update_service_request,
)
from shipyard.rollout import _RolloutCheckProvider

from shipyard_preview import engine

SERVICE = "aws:ecs/service:Service"
CHECK = "pulumi-python:dynamic:Resource"
POLICY = "aws:appautoscaling/policy:Policy"


def up(release: str, redeploy_token: str | None = None):
    """One `pulumi up` of prod; `release` stands for the source (it changes the task
    definition, as a source change does)."""
    services = services_of("prod")
    services[0]["containers"][0]["environment"]["RELEASE"] = release
    if redeploy_token is not None:
        services[0]["redeploy_token"] = redeploy_token
    recording = run_stack("prod", shipyard__services=services)
    service = resource(recording, SERVICE, "web-service")
    return recording, one(recording, SERVICE), service.ignore_changes, service.id


@pytest.fixture(scope="module")
def ups():
    """The program runs of five `up`s, in order, with task definition revisions counted."""
    with pytest.MonkeyPatch.context() as patch:
        RevisionMocks.registered = {}
        patch.setattr(engine, "OfflineMocks", RevisionMocks)
        return {"first": up("1"), "second": up("2"), "third": up("3"), "retry": up("3"),
                "redeploy": up("3", redeploy_token="2026-12-03.1")}


def check_inputs(recording):
    return {k: v for k, v in one(recording, CHECK, "web-rollout").items() if k != "__provider"}


def revision(arn: str) -> int:
    return int(arn.rsplit(":", 1)[1])


def test_second_and_third_deployment_after_ecs_swapped_and_rolled_back(ups):
    # First deployment: CreateService with group 0 primary, group 1 alternate.
    first, created, ignored, service_id = ups["first"]
    groups = sorted(inputs(first, "aws:lb/targetGroup:TargetGroup"))
    arns = {name: g for name, g in zip(groups, [
        resource(first, "aws:lb/targetGroup:TargetGroup", n).id for n in groups])}
    assert created["loadBalancers"][0]["targetGroupArn"] == arns["web-tg"]
    assert created["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"] == \
        arns["web-tg2"]
    # ECS owns the load balancers of a blue/green service, and autoscaling the count.
    assert ignored == ["desiredCount", "loadBalancers"]
    # Since then ECS ran a blue/green deployment: production is on group 1 now, and the
    # provider's read says so.
    state = after_deployment(created_state(created, service_id), created, ignored, swapped=True)
    assert state["loadBalancers"][0]["targetGroupArn"] == arns["web-tg2"]

    # Second deployment: only the new revision goes to ECS. Resending the load balancers would
    # name the idle group 0 as production (terraform-provider-aws#45678).
    second, inputs_2, ignored, _ = ups["second"]
    request = update_service_request(state, inputs_2, ignored)
    assert request == {"cluster": inputs_2["cluster"], "service": service_id,
                       "forceNewDeployment": False, "taskDefinition": inputs_2["taskDefinition"]}
    assert revision(inputs_2["taskDefinition"]) == 2
    state = after_deployment(state, inputs_2, ignored, swapped=True)  # back on group 0
    check = check_inputs(second)

    # Third deployment: again only the revision; ECS rolls it back (production stays where it
    # was, the state holds the revision that was sent) and the rollout check fails `up`.
    third, inputs_3, ignored, _ = ups["third"]
    request = update_service_request(state, inputs_3, ignored)
    assert request == {"cluster": inputs_3["cluster"], "service": service_id,
                       "forceNewDeployment": False, "taskDefinition": inputs_3["taskDefinition"]}
    state = after_deployment(state, inputs_3, ignored, swapped=False)
    assert state["loadBalancers"] == inputs_2["loadBalancers"]  # group 0, as before

    # Retried without a change: nothing reaches ECS, and the check (its state still the last
    # passed one) judges revision 3 again, which ECS does not run: the same failure.
    retry, inputs_retry, ignored, _ = ups["retry"]
    assert update_service_request(state, inputs_retry, ignored) is None
    assert _RolloutCheckProvider().diff("web", check, check_inputs(retry)).changes is True

    # With a redeploy token: a new revision of the same source, sent alone.
    redeploy, inputs_4, ignored, _ = ups["redeploy"]
    request = update_service_request(state, inputs_4, ignored)
    assert request == {"cluster": inputs_4["cluster"], "service": service_id,
                       "forceNewDeployment": False, "taskDefinition": inputs_4["taskDefinition"]}
    assert revision(inputs_4["taskDefinition"]) == 4
    definitions = json.loads(one(redeploy, "aws:ecs/taskDefinition:TaskDefinition")[
        "containerDefinitions"])
    assert [d["dockerLabels"] for d in definitions] == [{"shipyard.redeploy": "2026-12-03.1"}]
    same_source = json.loads(one(retry, "aws:ecs/taskDefinition:TaskDefinition")[
        "containerDefinitions"])
    assert [{k: v for k, v in d.items() if k != "dockerLabels"} for d in definitions] == \
        same_source
    assert check_inputs(redeploy)["task_definition_arn"] == inputs_4["taskDefinition"]
    assert _RolloutCheckProvider().diff("web", check, check_inputs(redeploy)).changes is True

    # The requests-per-task scaling reads both groups, whichever serves production, and does
    # not change from one deployment to the next.
    policies = [one(r, POLICY, "web-requests") for r in (first, second, third, redeploy)]
    assert all(p == policies[0] for p in policies)
    queries = policies[0]["targetTrackingScalingPolicyConfiguration"][
        "customizedMetricSpecification"]["metrics"]
    dimensions = [{d["name"]: d["value"] for d in q["metricStat"]["metric"]["dimensions"]}
                  for q in queries[:2]]
    assert [d["TargetGroup"] for d in dimensions] == [
        "targetgroup/" + arns[n].split(":targetgroup/", 1)[1] for n in ("web-tg", "web-tg2")]
    assert queries[2] == {"id": "serving", "expression": "MAX([FILL(group1, 0), FILL(group2, 0)])",
                          "label": "requests per target of the busier target group",
                          "returnData": True}


def test_without_the_ignore_the_second_up_would_send_group_0_as_production(ups):
    """What the service declaration prevents: the same replay with the declared group order
    resent, as the provider does for any input it is not told to ignore."""
    _, created, ignored, service_id = ups["first"]
    state = after_deployment(created_state(created, service_id), created, ignored, swapped=True)
    _, inputs_2, _, _ = ups["second"]
    request = update_service_request(state, inputs_2, ["desiredCount"])
    assert request is not None
    assert request["loadBalancers"] == created["loadBalancers"]
    assert request["loadBalancers"] != [swap_groups(lb) for lb in created["loadBalancers"]]
    assert request["loadBalancers"][0]["targetGroupArn"] != \
        state["loadBalancers"][0]["targetGroupArn"]


def test_a_rolling_service_still_sends_its_load_balancers(staging):
    """Only traffic-shifting services leave the load balancers to ECS: a rolling one keeps one
    target group and the program's declaration stays the truth."""
    service = resource(staging, SERVICE, "web-service")
    assert service.ignore_changes == ["desiredCount"]
    declared = copy.deepcopy(one(staging, SERVICE))
    moved = {**declared, "id": service.id, "loadBalancers": [
        {**declared["loadBalancers"][0], "containerPort": 9090}]}
    assert update_service_request(moved, declared, service.ignore_changes)["loadBalancers"] == \
        declared["loadBalancers"]
