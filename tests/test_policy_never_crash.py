"""No input makes the pack's Analyzer call fail. For every resource type the rules read, the
properties each rule actually reads are found by running the rules in-process on the corpus
(baselines, mutants, compliant variants) with a recording mapping; hypothesis then sends
malformed values for those properties - nulls inside lists, strings for numbers, objects for
strings, unknowns, JSON documents with wrong shapes, repeated keys or deep nesting - to the
running pack, and every answer must be verdicts, never an RPC error."""

import json
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import grpc
import policy_mutations as corpus
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


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                    st.just(UNKNOWN), st.just("*"), st.just(""))
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
    st.text(max_size=20))
malformed = st.one_of(values, json_documents)


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
    try:
        verdicts, _ = pack.analyze_resource(recorded(type_token, "fuzz", props), {})
    except grpc.RpcError as error:  # pragma: no cover - the failure being tested for
        raise AssertionError(f"{type_token} {props!r}: {error.details()}") from None
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
    except grpc.RpcError as error:  # pragma: no cover
        raise AssertionError(error.details()) from None
