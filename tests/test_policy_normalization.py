"""Class 1 of issue 18: the pack judges the value the provider and AWS act on. Each spelling the
provider normalizes to a non-compliant value is reported, each that normalizes to a compliant
one passes, through the running pack; and every rule's declared readings (RULES.md) are the ones
it really uses."""

import json
import sys

import pytest
from conftest import POLICY_DIR
from policy_helpers import DIGEST, containers, messages
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

sys.path.insert(0, str(POLICY_DIR))
import policy_mutations as corpus
from google.protobuf import json_format
from guardrails import ALL_POLICIES
from guardrails.normalize import ENUMS_FILE, READINGS, build_enums, recording

TD = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
LISTENER = "aws:lb/listener:Listener"
LB = "aws:lb/loadBalancer:LoadBalancer"
SG = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/abc-123"
GOOD = {"name": "web", "image": f"repo/app@{DIGEST}", "user": "10001",
        "readonlyRootFilesystem": True, "logConfiguration": {"logDriver": "awslogs"}}
PUBLIC_IP = "networkConfiguration.assignPublicIp is true; run tasks in private subnets."


@pytest.mark.parametrize("value,public", [
    (True, True), ("true", True), ("TRUE", True), ("True", True), ("t", True), ("1", True),
    (1, True), (1.0, True), (False, False), ("false", False), ("FALSE", False), ("0", False),
    (0, False), ("", False), (None, False)])
def test_booleans_as_the_provider_parses_them(pack, value, public):
    props = {"networkConfiguration": {"assignPublicIp": value, "subnets": ["s-1"]},
             "platformVersion": "LATEST"}
    assert messages(pack, "ecs-service-no-public-ip", SERVICE, props) == (
        [PUBLIC_IP] if public else [])


@pytest.mark.parametrize("value", ["yes", "on", 2, float("nan"), "tru"])
def test_a_boolean_the_provider_refuses_cannot_be_verified(pack, value):
    props = {"networkConfiguration": {"assignPublicIp": value}}
    found = messages(pack, "ecs-service-no-public-ip", SERVICE, props)
    assert len(found) == 1 and found[0].startswith(
        "Cannot verify: networkConfiguration.assignPublicIp is "), found


@pytest.mark.parametrize("protocol", ["http", "Http", "HTTP", None])
def test_listener_protocols_are_upper_cased(pack, protocol):
    props = {"port": 80, "defaultActions": [{"type": "forward", "targetGroupArn": "tg"}]}
    if protocol is not None:
        props["protocol"] = protocol
    assert messages(pack, "http-redirects-to-https", LISTENER, props) == [
        "HTTP listener on port 80 serves traffic (actions: forward) instead of only "
        "redirecting to HTTPS."]


def test_a_lower_case_https_listener_is_judged_as_https(pack):
    props = {"protocol": "https", "port": 443, "certificateArn": CERT,
             "sslPolicy": "ELBSecurityPolicy-2016-08", "defaultActions": [{"type": "forward"}]}
    assert messages(pack, "listener-https-tls13", LISTENER, props) == [
        "sslPolicy ELBSecurityPolicy-2016-08 negotiates TLSv1, TLSv1.1, TLSv1.2; use a policy "
        "with TLS 1.3 and nothing older than TLS 1.2, such as "
        "ELBSecurityPolicy-TLS13-1-2-2021-06."]
    props["sslPolicy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert messages(pack, "listener-https-tls13", LISTENER, props) == []
    assert messages(pack, "http-redirects-to-https", LISTENER, props) == []


def test_action_types_are_read_ignoring_case(pack):
    redirect = {"type": "REDIRECT", "redirect": {"protocol": "HTTPS", "statusCode": "HTTP_301"}}
    assert messages(pack, "http-redirects-to-https", LISTENER,
                    {"protocol": "HTTP", "port": 80, "defaultActions": [redirect]}) == []
    # The provider takes only HTTPS, HTTP or #{protocol} for the redirect: 'https' is refused,
    # and '#{protocol}' keeps plain HTTP.
    for protocol in ("https", "#{protocol}"):
        redirect["redirect"]["protocol"] = protocol
        assert messages(pack, "http-redirects-to-https", LISTENER,
                        {"protocol": "HTTP", "port": 80, "defaultActions": [redirect]}) != []


OPENS = "rule opens {what} to 0.0.0.0/0; only tcp/udp ports 80, 443 may be public."


@pytest.mark.parametrize("protocol,ports,what", [
    ("-1", (443, 443), "all traffic"), ("all", (443, 443), "all traffic"),
    ("ALL", (443, 443), "all traffic"), (-1, (None, None), "all traffic"),
    (-1.0, (443, 443), "all traffic"),
    ("50", (443, 443), "every port of protocol 50"),
    ("132", (443, 443), "every port of protocol 132"),
    ("icmp", (8, 0), "every port of protocol icmp"),
    ("1", (-1, -1), "every port of protocol icmp"),
    ("6", (22, 22), "tcp port 22"), (6, ("22", "22"), "tcp port 22"),
    ("TCP", (22.0, 22.0), "tcp port 22"), ("17", (53, 53), "udp port 53"),
    ("tcp", (443, 80), "tcp ports 80-443"), ("tcp", (-1, -1), "tcp ports 0-65535"),
])
def test_security_group_protocols_as_the_provider_stores_them(pack, protocol, ports, what):
    props = {"ipProtocol": protocol, "cidrIpv4": "0.0.0.0/0", "description": "x"}
    if ports[0] is not None:
        props.update(fromPort=ports[0], toPort=ports[1])
    assert messages(pack, "sg-public-ingress-80-443-only", RULE, props) == [
        OPENS.format(what=what)]


@pytest.mark.parametrize("protocol,port", [("tcp", 443), ("TCP", "443"), ("6", 443.0),
                                           (6, 80), ("udp", 443)])
def test_web_ports_pass_however_spelled(pack, protocol, port):
    props = {"ipProtocol": protocol, "fromPort": port, "toPort": port, "cidrIpv4": "0.0.0.0/0",
             "description": "web"}
    assert messages(pack, "sg-public-ingress-80-443-only", RULE, props) == []


@pytest.mark.parametrize("protocol,port,reason", [
    ("https", 443, "ipProtocol is 'https', not a protocol AWS accepts (tcp, udp, icmp, icmpv6, "
                   "a protocol number 0-255, or -1/all)"),
    ("tcp", "0x1BB", "fromPort is '0x1BB', which the provider does not read as an integer"),
    ("tcp", 70000, "fromPort is 70000, outside the ports AWS accepts (-1 to 65535)"),
    ("tcp", float("inf"), "fromPort is inf, not a finite number"),
])
def test_values_the_provider_refuses_cannot_be_verified(pack, protocol, port, reason):
    props = {"ipProtocol": protocol, "fromPort": port, "toPort": port, "cidrIpv4": "0.0.0.0/0",
             "description": "x"}
    assert messages(pack, "sg-public-ingress-80-443-only", RULE, props) == [
        f"Cannot verify: rule {reason}. Fix the document so the rule can read it."]


@pytest.mark.parametrize("days,expected", [
    ("7", ["retentionInDays is 7; this stack requires at least 14."]), (7.9, [
        "retentionInDays is 7; this stack requires at least 14."]),
    ("30", []), (30.0, []), (0, ["The log group keeps logs forever (no retentionInDays)."]),
    ("30.5", ["Cannot verify: retentionInDays is '30.5', which the provider does not read as "
              "an integer. Fix the document so the rule can read it."]),
])
def test_numbers_written_as_strings(pack, days, expected):
    assert messages(pack, "log-retention", "aws:cloudwatch/logGroup:LogGroup",
                    {"retentionInDays": days}) == expected


@pytest.mark.parametrize("task,execution,same", [
    ("arn:aws:iam::1:role/app", "app", True), ("App", "arn:aws:iam::1:role/path/app", True),
    ("arn:aws:iam::1:role/app-task", "arn:aws:iam::1:role/app-exec", False)])
def test_roles_named_by_name_or_arn(pack, task, execution, same):
    props = {**containers(GOOD), "networkMode": "awsvpc", "taskRoleArn": task,
             "executionRoleArn": execution}
    assert bool(messages(pack, "ecs-task-role-separate", TD, props)) is same


@pytest.mark.parametrize("value,reason", [
    ("true", "containerDefinitions[0].privileged is 'true'; the provider's decoder takes only a "
             "JSON boolean there"),
    (1, "containerDefinitions[0].privileged is 1; the provider's decoder takes only a JSON "
        "boolean there"),
])
def test_container_fields_of_the_wrong_type_are_refused_as_the_decoder_refuses_them(
        pack, value, reason):
    props = containers({**GOOD, "privileged": value})
    assert messages(pack, "ecs-non-privileged", TD, props) == [
        f"Cannot verify: {reason}. Fix the document so the rule can read it."]


def test_enumerations_the_provider_refuses_cannot_be_verified(pack):
    assert messages(pack, "ecr-tag-immutable", "aws:ecr/repository:Repository",
                    {"imageTagMutability": "immutable"}) == [
        "Cannot verify: imageTagMutability is 'immutable', which the provider refuses (one of "
        "MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION). Fix the "
        "document so the rule can read it."]


def test_the_enumerations_are_botocores():
    assert json.loads(ENUMS_FILE.read_text()) == build_enums(), (
        "regenerate policy/guardrails/datasets/enums.json with normalize.build_enums()")


# ---- the declared readings are the used ones ---------------------------------------------------
EXTRA = [
    ("aws:lb/loadBalancer:LoadBalancer", {**corpus.BASELINES[LB], "subnets": None,
                                           "subnetMappings": [{"subnetId": "s-1"},
                                                              {"subnetId": "s-2"}]}),
]


def _seeds() -> list[tuple[str, dict]]:
    return ([(t, corpus._props(t, {})) for t in corpus.BASELINES]
            + [(t, corpus._props(t, c)) for _, t, c in corpus.MUTANTS]
            + [(t, corpus._props(t, c)) for t, c in corpus.COMPLIANT]
            + [(t, {k: v for k, v in p.items() if v is not None}) for t, p in EXTRA])


def _graphs() -> list[list]:
    return [corpus.stack_baseline()] + [mutate(corpus.stack_baseline())
                                        for _, mutate in corpus.STACK_MUTANTS]


def readings_used() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {p.name: set() for p in ALL_POLICIES}
    for policy in ALL_POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for type_token, props in _seeds():
                with recording() as seen:
                    policy.validate(ResourceValidationArgs(type_token, props, "urn", "n", None,
                                                           None, {}),  # type: ignore[arg-type]
                                    lambda *_: None)
                used[policy.name] |= seen
        else:
            for graph in _graphs():
                resources = {r.urn: PolicyResource(
                    r.type, json_format.MessageToDict(r.properties), r.urn, r.name, None, None,
                    None, [], {}) for r in graph}  # type: ignore[arg-type]
                for r in graph:
                    resources[r.urn].property_dependencies = {
                        k: [resources[u] for u in v if u in resources]
                        for k, v in r.property_dependencies.items()}
                with recording() as seen:
                    policy.validate(StackValidationArgs(list(resources.values()), {}),
                                    lambda *_: None)
                used[policy.name] |= seen
    return used


def test_every_rule_declares_exactly_the_readings_it_uses():
    used = readings_used()
    declared = {p.name: set(p.reads) for p in ALL_POLICIES}  # type: ignore[attr-defined]
    assert {n: sorted(used[n] - declared[n]) for n in used if used[n] - declared[n]} == {}, \
        "a rule uses a reading RULES.md does not list"
    assert {n: sorted(declared[n] - used[n]) for n in used if declared[n] - used[n]} == {}, \
        "RULES.md lists a reading the corpus never sees the rule use"


def test_every_reading_is_described():
    assert all(len(description) > 40 for description in READINGS.values())
