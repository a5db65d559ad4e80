"""No input makes the pack's Analyzer call fail or hang. For every resource type the rules read,
the properties each rule actually reads are found by running the rules in-process on the corpus
(baselines, mutants, compliant variants) with a recording mapping; hypothesis then sends
malformed values for those properties - nulls inside lists, strings where numbers belong,
objects for strings, NaN and infinities, huge numbers, unknowns, deep nesting, JSON documents
with wrong shapes, repeated keys or deep nesting - to the running pack, and every answer must be
verdicts, never an RPC error, within seconds. The inputs the SDK itself fails on before a rule
runs (policy/sdk_guard.py) are sent through the gRPC server one by one."""

import json
import math
import sys
import time
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import policy_mutations as corpus
import pytest
from conftest import POLICY_DIR, recorded
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_helpers import UNKNOWN
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from shipyard.errors import ConfigError

sys.path.insert(0, str(POLICY_DIR))
from guardrails import ALL_POLICIES

EXTRA_SEEDS: list[tuple[str, dict]] = [
    ("docker-build:index:Image", {"tags": ["repo/app:1"], "exports": [
        {"image": {"names": ["repo/app:1"]}}, {"raw": "type=registry,name=repo/app:1"}]}),
    ("docker:index/image:Image", {"imageName": "repo/app:1"}),
    ("aws:batch/jobDefinition:JobDefinition", {
        "containerProperties": json.dumps({"image": "busybox:1"}),
        "nodeProperties": json.dumps({"nodeRangeProperties": [{"container": {"image": "b:1"}}]}),
        "ecsProperties": "{}", "eksProperties": {"podProperties": {"containers": []}}}),
    ("aws:apprunner/service:Service", {"sourceConfiguration": {"imageRepository": {
        "imageIdentifier": "repo/app:1"}}}),
    ("aws:ecr/registryPolicy:RegistryPolicy", corpus.policy(corpus.allow(
        "ecr:ReplicateImage", corpus.REPO))),
    ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", {
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [{"filter": "x", "filterType": "WILDCARD"}],
        "repositoryPolicy": "{}", "encryptionConfigurations": []}),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
     {"inlinePolicy": corpus.SCOPED_POLICY}),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
     {"policyArns": ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"]}),
    ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
     {"managedPolicyArns": ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"]}),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {
        "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}),
    ("aws:ec2/securityGroupRule:SecurityGroupRule", {
        "type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"]}),
]


class _Recording(Mapping):
    def __init__(self, target: dict, seen: set[str]) -> None:
        self.target, self.seen = target, seen

    def __getitem__(self, key: str) -> Any:
        self.seen.add(key)
        return self.target[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.target)

    def __len__(self) -> int:
        return len(self.target)


@cache
def properties_read() -> dict[str, tuple[str, ...]]:
    """type -> every property some rule (resource or stack) read while judging the corpus."""
    seeds = ([(t, corpus._props(t, {})) for t in corpus.BASELINES]
             + [(t, corpus._props(t, c)) for _, t, c in corpus.MUTANTS]
             + [(t, corpus._props(t, c)) for t, c in corpus.COMPLIANT] + EXTRA_SEEDS)
    found: dict[str, set[str]] = {}
    for type_token, props in seeds:
        seen = found.setdefault(type_token, set())
        for policy in ALL_POLICIES:
            if isinstance(policy, ResourceValidationPolicy):
                args = ResourceValidationArgs(type_token, _Recording(props, seen), "urn", "n",
                                              None, None, {})  # type: ignore[arg-type]
                policy.validate(args, lambda *_: None)
    graphs = [corpus.stack_baseline()] + [mutate(corpus.stack_baseline())
                                          for _, mutate in corpus.STACK_MUTANTS]
    for graph in graphs:
        resources = {r.urn: PolicyResource(
            r.type, _Recording(json_format.MessageToDict(r.properties),
                               found.setdefault(r.type, set())),
            r.urn, r.name, None, None, None, [], {}) for r in graph}  # type: ignore[arg-type]
        for r in graph:
            resources[r.urn].property_dependencies = {
                k: [resources[u] for u in v if u in resources]
                for k, v in r.property_dependencies.items()}
        for policy in ALL_POLICIES:
            if isinstance(policy, StackValidationPolicy):
                policy.validate(StackValidationArgs(list(resources.values()), {}),
                                lambda *_: None)
    return {t: tuple(sorted(keys)) for t, keys in found.items() if keys}


def seed_for(type_token: str) -> dict:
    if type_token in corpus.BASELINES:
        return corpus._props(type_token, {})
    return dict(next((p for t, p in EXTRA_SEEDS if t == type_token), {}))


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"x": value}
    return value


# Past the ~190 levels where the SDK's own decoding recursed out.
DEEP = nested(250)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.just(UNKNOWN), st.just("*"), st.just(""), st.just(10**20),
                    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
                    st.sampled_from(["443", "-1", "0x1BB", "1e400", "NaN", "true", "TRUE",
                                     "1.5", " 80"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
json_documents = st.one_of(
    values.map(json.dumps),
    st.just('{"Statement": [{"Effect": "Allow", "Effect": "Deny"}]}'),
    st.just('[{"name": "a", "Name": "b", "image": null, "environment": [null, 5]}]'),
    st.just("[" * 5000 + "]" * 5000),
    st.just('{"Statement": {"Effect": "Allow", "Action": [null], "Resource": {"a": 1}}}'),
    st.just('{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": "x"}]}'),
    st.just('[{"logConfiguration": "awslogs", "environment": {"name": "x"}, "user": 0}]'),
    st.just('[{"privileged": NaN, "memory": Infinity}]'),
    st.just(json.dumps([{"environment": [{"name": "X", "value": "eyJ" * 3000}]}])),
    st.text(max_size=20))
malformed = st.one_of(values, json_documents, st.just(DEEP), st.just([DEEP]))
_ANSWER_SECONDS = 10


@st.composite
def broken_resources(draw: st.DrawFn) -> tuple[str, dict]:
    read = properties_read()
    type_token = draw(st.sampled_from(sorted(read)))
    props = seed_for(type_token)
    for key in draw(st.lists(st.sampled_from(read[type_token]), min_size=1, max_size=3,
                             unique=True)):
        props[key] = draw(malformed)
    return type_token, props


def test_every_rule_type_has_properties_to_break():
    read = properties_read()
    assert "iam:PassRole" not in read  # sanity: keys are property names
    for type_token in ("aws:ecs/taskDefinition:TaskDefinition", "aws:iam/role:Role",
                       "docker-build:index:Image", "aws:batch/jobDefinition:JobDefinition"):
        assert read[type_token], type_token
    assert "containerDefinitions" in read["aws:ecs/taskDefinition:TaskDefinition"]
    assert {"assumeRolePolicy", "inlinePolicies", "managedPolicyArns"} <= set(
        read["aws:iam/role:Role"])


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=broken_resources())
def test_no_input_makes_a_resource_rule_raise(pack, case):
    type_token, props = case
    started = time.monotonic()
    try:
        verdicts, _ = pack.analyze_resource(recorded(type_token, "fuzz", props), {})
    except ConfigError as error:  # pragma: no cover - the failure being tested for
        raise AssertionError(f"{type_token} {props!r}: {error}") from None
    assert time.monotonic() - started < _ANSWER_SECONDS, (type_token, props)
    for verdict in verdicts:
        assert "Traceback" not in verdict.message


@st.composite
def broken_stacks(draw: st.DrawFn) -> list:
    graph = corpus.stack_baseline()
    index = draw(st.integers(0, len(graph) - 1))
    target = graph[index]
    props = json_format.MessageToDict(target.properties)
    keys = sorted(set(props) | {"tags", "internal", "loadBalancerType", "name", "value",
                                "settings", "rules", "loadBalancers"})
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)):
        props[key] = draw(malformed)
    graph[index] = recorded(target.type, target.name, props,
                            deps={k: [r for r in graph if r.urn in v]
                                  for k, v in target.property_dependencies.items()})
    return graph


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(graph=broken_stacks())
def test_no_input_makes_a_stack_rule_raise(pack, graph):
    try:
        pack.analyze_stack(graph)
    except ConfigError as error:  # pragma: no cover
        raise AssertionError(str(error)) from None


# ---- what the SDK fails on before any rule runs --------------------------------------------------
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
GUARDED_INPUTS = [
    ("NaN in a property a rule reads", LOG_GROUP, {"retentionInDays": float("nan")},
     "log-retention",
     ["Cannot verify: retentionInDays is nan, not a finite number. Fix the document so the rule "
      "can read it."]),
    ("infinity", LOG_GROUP, {"retentionInDays": float("inf")}, "log-retention",
     ["Cannot verify: retentionInDays is inf, not a finite number. Fix the document so the rule "
      "can read it."]),
    ("NaN where no rule reads", LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": "k",
                                            "tags": {"x": float("nan")}}, "log-retention", []),
    ("deep nesting", LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": "k", "tags": DEEP},
     "log-retention", []),
    ("a secret without a value", LOG_GROUP, {"retentionInDays": {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}},
     "log-retention",
     ["Cannot verify: retentionInDays is <unreadable: a secret without a value>, not a number. "
      "Fix the document so the rule can read it."]),
    ("an unknown signature", LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": {
        "4dabf18193072939515e22adb298388d": "0123456789abcdef0123456789abcdef"}}, "log-kms",
     ["Cannot verify: kmsKeyId is <unreadable: a value with the unknown signature "
      "'0123456789abcdef0123456789abcdef'>, not a string. Fix the document so the rule can read "
      "it."]),
]


@pytest.mark.parametrize("label,type_token,props,policy,expected", GUARDED_INPUTS,
                         ids=[g[0] for g in GUARDED_INPUTS])
def test_inputs_the_sdk_fails_on_get_verdicts(pack, label, type_token, props, policy, expected):
    resource = recorded(type_token, "guarded", props)
    verdicts, _ = pack.analyze_resource(resource, {})  # a ConfigError here is the failure
    assert [v.message.split("\n", 1)[1] for v in verdicts if v.policy == policy] == expected
    pack.analyze_stack([resource, *corpus.stack_baseline()])


def test_the_sdk_alone_fails_on_those_inputs():
    """Why the guard exists: the SDK's own decoding raises on each of them."""
    from google.protobuf import json_format as protobuf_json
    from pulumi_policy.deserialize import deserialize_properties
    for _, type_token, props, _, _ in GUARDED_INPUTS:
        struct = recorded(type_token, "x", props).properties
        with pytest.raises((ValueError, RecursionError, AssertionError)):
            deserialize_properties(protobuf_json.MessageToDict(struct))


def test_the_guard_changes_nothing_the_sdk_decodes():
    sys.path.insert(0, str(POLICY_DIR))
    import sdk_guard
    from google.protobuf import json_format as protobuf_json
    from pulumi_policy.deserialize import deserialize_properties
    to_dict = sdk_guard.guarded_message_to_dict(protobuf_json.MessageToDict)
    deserialize = sdk_guard.guarded_deserialize(deserialize_properties)
    seeds = [corpus._props(t, {}) for t in corpus.BASELINES] + [
        corpus._props(t, c) for _, t, c in corpus.MUTANTS if not _non_finite(c)]
    for props in seeds:
        struct = recorded("t", "x", props).properties
        assert deserialize(to_dict(struct)) == deserialize_properties(
            protobuf_json.MessageToDict(struct))


def _non_finite(change: dict) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for v in change.values())


def test_a_huge_port_range_is_judged_at_once(pack):
    started = time.monotonic()
    found = pack.analyze_resource(recorded(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "wide",
        {"ipProtocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrIpv4": "0.0.0.0/0",
         "description": "x"}), {})[0]
    assert time.monotonic() - started < 5
    assert [v.message.split("\n", 1)[1] for v in found
            if v.policy == "sg-public-ingress-80-443-only"] == [
        "rule opens tcp ports 0-65535 to 0.0.0.0/0; only tcp/udp ports 80, 443 may be public."]
