"""`--against`: the per-field diff of two plans, exact lines; unreadable saved plans refused."""

import copy
import json

import pytest
from shipyard.errors import ConfigError

from shipyard_preview.diff import diff_plans, load_saved_plan, render_diff

PREFIX = "urn:pulumi:staging::shipyard::shipyard:index:ContainerService$"
TASK = f"{PREFIX}aws:ecs/taskDefinition:TaskDefinition::web-task"
SERVICE = f"{PREFIX}aws:ecs/service:Service::web-service"
POLICY = f"{PREFIX}aws:iam/rolePolicy:RolePolicy::web-task"
ALARM = f"{PREFIX}aws:cloudwatch/metricAlarm:MetricAlarm::web-5xx"


def containers(image: str, log_level: str, sidecar: bool = False) -> str:
    defs = [{"name": "web", "image": image, "essential": True,
             "environment": [{"name": "LOG_LEVEL", "value": log_level},
                             {"name": "SERVICE_NAME", "value": "web"}],
             "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}]
    if sidecar:
        defs.append({"name": "proxy", "image": "nginx@sha256:" + "a" * 64})
    return json.dumps(defs)


def plan(image="repo@sha256:" + "1" * 64, log_level="info", desired=2, sidecar=False,
         actions=("s3:GetObject",), alarm=False, cost=None) -> dict:
    resources = [
        {"urn": TASK, "type": "aws:ecs/taskDefinition:TaskDefinition", "properties": {
            "cpu": "256", "containerDefinitions": containers(image, log_level, sidecar)}},
        {"urn": SERVICE, "type": "aws:ecs/service:Service",
         "properties": {"desiredCount": desired}},
        {"urn": POLICY, "type": "aws:iam/rolePolicy:RolePolicy",
         "properties": {"policy": json.dumps(list(actions))}},
    ]
    if alarm:
        resources.append({"urn": ALARM, "type": "aws:cloudwatch/metricAlarm:MetricAlarm",
                          "properties": {"threshold": 5}})
    iam = [{"role": "web-task", "policy": "web-task", "urn": POLICY, "unreadable": False,
            "statements": [{"effect": "Allow", "actions": list(actions),
                            "resources": ["arn:aws:s3:::assets/*"], "wildcard": False,
                            "scopedWildcard": True}]}]
    return {"resources": resources, "iam": iam,
            "cost": cost or {"perService": {"web": 10.0}, "monthlyTotal": 10.0}}


def test_unchanged_plan_has_no_changes():
    diff = diff_plans(plan(), plan())
    assert render_diff(diff) == (
        "Against the saved plan: 0 to add, 0 to change, 0 to remove\n"
        "IAM changes: 0 grants added, 0 removed\n"
        "Cost against the saved plan: $10.00 => $10.00 per month (+0.00)\n")


def test_container_definitions_by_container_and_key():
    before = plan()
    after = plan(image="repo@sha256:" + "2" * 64, log_level="debug", sidecar=True)
    text = render_diff(diff_plans(before, after))
    assert text.splitlines()[:5] == [
        "Against the saved plan: 0 to add, 1 to change, 0 to remove",
        f"  ~ aws:ecs/taskDefinition:TaskDefinition  {TASK}",
        "      containerDefinitions[proxy]: absent => added",
        "      containerDefinitions[web].environment.LOG_LEVEL.value: info => debug",
        f"      containerDefinitions[web].image: repo@sha256:{'1' * 64} => "
        f"repo@sha256:{'2' * 64}",
    ]


def test_removed_container_and_scalar_change():
    text = render_diff(diff_plans(plan(sidecar=True, desired=2), plan(desired=3)))
    assert f"  ~ aws:ecs/service:Service  {SERVICE}\n      desiredCount: 2 => 3\n" in text
    assert "      containerDefinitions[proxy]: present => removed\n" in text


def test_added_and_removed_resources_show_type_and_urn():
    text = render_diff(diff_plans(plan(), plan(alarm=True)))
    assert f"  + aws:cloudwatch/metricAlarm:MetricAlarm  {ALARM}\n" in text
    text = render_diff(diff_plans(plan(alarm=True), plan()))
    assert text.startswith("Against the saved plan: 0 to add, 0 to change, 1 to remove\n"
                           f"  - aws:cloudwatch/metricAlarm:MetricAlarm  {ALARM}\n")


def test_iam_changes_list_grants_added_and_removed():
    diff = diff_plans(plan(actions=("s3:GetObject",)),
                      plan(actions=("s3:GetObject", "s3:PutObject")))
    assert diff["iam"] == {"added": [{"role": "web-task", "effect": "Allow",
                                      "action": "s3:PutObject",
                                      "resource": "arn:aws:s3:::assets/*"}], "removed": []}
    text = render_diff(diff)
    assert ("IAM changes: 1 grants added, 0 removed\n"
            "  + web-task: Allow s3:PutObject on arn:aws:s3:::assets/*\n") in text
    # The policy document itself is not dumped as two long strings.
    assert f"  ~ aws:iam/rolePolicy:RolePolicy  {POLICY}\n      policy: ... => see IAM changes\n" \
        in text
    text = render_diff(diff_plans(plan(actions=("s3:GetObject", "s3:PutObject")), plan()))
    assert "  - web-task: Allow s3:PutObject on arn:aws:s3:::assets/*\n" in text


def test_cost_delta_per_service():
    before = plan(cost={"perService": {"web": 10.0}, "monthlyTotal": 10.0})
    after = plan(cost={"perService": {"web": 12.5, "stack (shared)": 3.0}, "monthlyTotal": 15.5})
    assert render_diff(diff_plans(before, after)).endswith(
        "Cost against the saved plan: $10.00 => $15.50 per month (+5.50)\n"
        "  stack (shared): +3.00\n  web: +2.50\n")


def test_long_values_are_not_truncated():
    long_image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/a-very-long-repository-name@sha256:"
    text = render_diff(diff_plans(plan(image=long_image + "1" * 64),
                                  plan(image=long_image + "2" * 64)))
    assert f"{long_image}{'1' * 64} => {long_image}{'2' * 64}\n" in text


@pytest.mark.parametrize("content,reason", [
    (None, "an existing file: a JSON plan written by `shipyard preview --out` (or --json)"),
    ("{", "a JSON plan written by `shipyard preview --out` (or --json); not JSON (Expecting "
          "property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("[]", "a JSON plan written by `shipyard preview --out` (or --json); it has no resources "
           "list with urn, type and properties"),
    ('{"resources": [{"urn": "x"}]}', "a JSON plan written by `shipyard preview --out` (or "
                                      "--json); it has no resources list with urn, type and "
                                      "properties"),
])
def test_unreadable_saved_plan_is_refused(tmp_path, content, reason):
    path = tmp_path / "saved.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        load_saved_plan(str(path))
    assert str(raised.value) == f"--against: '{path}' is not valid; {reason}"


def test_saved_plan_is_not_modified_by_diffing():
    before = plan()
    snapshot = copy.deepcopy(before)
    diff_plans(before, plan(desired=5))
    assert before == snapshot


def test_json_object_properties_diff_by_key():
    before, after = plan(), plan()
    provider = "urn:pulumi:staging::shipyard::pulumi:providers:aws::aws"
    for document, version in ((before, "abc"), (after, "def")):
        document["resources"].append({"urn": provider, "type": "pulumi:providers:aws",
                                      "properties": {"defaultTags": json.dumps(
                                          {"tags": {"source-version": version}})}})
    text = render_diff(diff_plans(before, after))
    assert (f"  ~ pulumi:providers:aws  {provider}\n"
            "      defaultTags.tags.source-version: abc => def\n") in text
