"""GIVEN the component's dynamic resources (the scan gate, the rollout check, the drift check, the
Service Connect cleanup, the change guards), which call AWS with boto3 under the stack's own
credentials WHEN the deploy role runs `pulumi up` and the preview role runs `pulumi preview`
THEN each role may make every call those providers make in that phase.

Nothing is listed by hand: the calls are read from the providers' source (each boto3 client's
service name and the operations called on it, followed through the module's own functions and
the helpers it imports from the package), mapped to IAM actions by botocore's service models
(the operation name is the action name; the model's signing name is the IAM prefix), and the
phase comes from the provider method that reaches them: Check and Diff run during preview and
update, Create, Update, Delete and Read during update (and refresh) only (pulumi dynamic provider
protocol, pulumi/dynamic/__init__.py). Each call is evaluated in the IAM simulator against the
role's real policy documents, as the delivery program builds them."""

import ast
import json
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from conftest import PROJECT, inputs
from delivery_mocks import delivery_run
from test_delivery_permissions import (
    REGION,
    STACK_ACCOUNTS,
    _first_built_repository,
    _resource,
    deploy_policies,
    first_service,
)

from shipyard_preview.iam_simulator import Case, simulate

PACKAGE = PROJECT / "components" / "shipyard"
PREVIEW_PHASE = frozenset({"check", "diff"})
UPDATE_PHASE = frozenset({"create", "update", "delete", "read"})
# STS GetCallerIdentity needs no permission: "No permissions are required to perform this
# operation" (STS API reference, GetCallerIdentity); an explicit deny cannot block it either.
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})
# The IAM resource type each call acts on, as a CloudFormation type for _resource's sample ARNs.
ACTS_ON = {"ecs": "AWS::ECS::Service", "ecr": "AWS::ECR::Repository",
           "servicediscovery": "AWS::ServiceDiscovery::HttpNamespace"}


@cache
def _operations(service: str) -> tuple[str, dict[str, str]]:
    """(IAM prefix, python method name -> operation name) from botocore's model."""
    model = botocore.session.get_session().get_service_model(service)
    return model.signing_name, {xform_name(op): op for op in model.operation_names}


class _Module:
    """One module's functions: for each, the boto3 calls it makes and the names it calls."""

    def __init__(self, path: Path) -> None:
        self.tree = ast.parse(path.read_text())
        self.imports: dict[str, str] = {}  # local name -> module stem, for `from .x import f`
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = node.module
        self.services = sorted({
            n.args[0].value for n in ast.walk(self.tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "client" and n.args and isinstance(n.args[0], ast.Constant)})
        self.functions: dict[str, ast.AST] = {}
        self.providers: dict[str, dict[str, ast.AST]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            if isinstance(node, ast.ClassDef):
                methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
                if any("ResourceProvider" in ast.unparse(b) for b in node.bases):
                    self.providers[node.name] = methods
                for method_name, method in methods.items():
                    self.functions[f"{node.name}.{method_name}"] = method

    def calls(self, function: ast.AST, clients: list[str]) -> tuple[set[str], set[str]]:
        """(IAM actions called directly, names of functions called) of one function body."""
        actions: set[str] = set()
        called: set[str] = set()
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            target = node.func
            if isinstance(target, ast.Name):
                called.add(target.id)
            elif isinstance(target, ast.Attribute):
                if isinstance(target.value, ast.Name) and target.value.id == "self":
                    called.add(f"self.{target.attr}")
                method = target.attr
                if method == "get_paginator" and node.args and isinstance(node.args[0],
                                                                          ast.Constant):
                    method = node.args[0].value
                for service in clients:
                    prefix, operations = _operations(service)
                    if method in operations:
                        actions.add(f"{prefix}:{operations[method]}")
        return actions, called


@cache
def _module(stem: str) -> _Module:
    return _Module(PACKAGE / f"{stem}.py")


def provider_calls() -> dict[str, dict[str, set[str]]]:
    """provider class -> {"preview": actions, "update": actions}, followed through the module's
    functions, its provider methods and the helpers it imports from the package."""
    result: dict[str, dict[str, set[str]]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        module = _module(path.stem)
        for provider, methods in module.providers.items():
            phases: dict[str, set[str]] = {"preview": set(), "update": set()}
            for method_name in methods:
                phase = ("preview" if method_name in PREVIEW_PHASE else
                         "update" if method_name in UPDATE_PHASE else None)
                if phase is None:
                    continue
                seen: set[tuple[str, str]] = set()
                pending = [(path.stem, f"{provider}.{method_name}")]
                while pending:
                    stem, name = pending.pop()
                    if (stem, name) in seen:
                        continue
                    seen.add((stem, name))
                    where = _module(stem)
                    function = where.functions.get(name)
                    if function is None:
                        continue
                    actions, called = where.calls(function, where.services)
                    phases[phase] |= actions
                    for callee in called:
                        if callee.startswith("self."):
                            pending.append((stem, f"{provider}.{callee[5:]}"))
                        elif callee in where.functions:
                            pending.append((stem, callee))
                        elif callee in where.imports:
                            pending.append((where.imports[callee], callee))
            # A preview-phase call is made during an update too.
            phases["update"] |= phases["preview"]
            result[f"{path.stem}.{provider}"] = phases
    return result


def test_the_reader_finds_every_dynamic_provider_and_their_calls():
    """The reader itself: it must see the providers the stacks register and what they call, or
    the tests below would pass on nothing."""
    calls = provider_calls()
    assert {"rollout._RolloutCheckProvider", "scan_gate._ScanGateProvider",
            "drift._DriftCheckProvider"} <= set(calls)
    assert "ecs:DescribeServices" in calls["rollout._RolloutCheckProvider"]["update"]
    assert "ecr:DescribeImageScanFindings" in calls["scan_gate._ScanGateProvider"]["update"]
    # The drift check reads the live service at preview (its Check).
    assert {"ecs:ListServices", "ecs:DescribeServices"} <= \
        calls["drift._DriftCheckProvider"]["preview"]
    # Every provider that calls AWS confirms whose credentials it holds.
    assert all("sts:GetCallerIdentity" in phases["update"]
               for phases in calls.values() if phases["update"] - NEEDS_NO_PERMISSION)


@cache
def preview_policy() -> dict:
    """The pull-request preview role's policy, as the delivery program registers it."""
    documents = [json.loads(p["policy"]) for name, p in
                 inputs(delivery_run(), "aws:iam/rolePolicy:RolePolicy").items()
                 if name == "preview-readonly"]
    assert len(documents) == 1, "the delivery program registers one preview-readonly policy"
    return documents[0]


def _cases(actions: set[str], stack: str, identity: list[dict], role: str) -> list[Case]:
    account = STACK_ACCOUNTS.get(stack, "111122223333")
    cases = []
    for action in sorted(actions - NEEDS_NO_PERMISSION):
        resource = _resource(action, ACTS_ON[action.split(":")[0]])
        resource = resource.replace(":111122223333:", f":{account}:").replace(
            "/<stack>/", f"/{stack}/").replace("<service>", first_service(stack))
        if resource.endswith("/<built>"):
            resource = resource.replace("<built>", _first_built_repository(stack))
        cases.append(Case(action=action, resource=resource, principal=role,
                          identity_policies=identity,
                          context={"aws:RequestedRegion": REGION}))
    return cases


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_deploy_role_may_make_every_call_of_every_dynamic_provider(stack):
    actions = set().union(*(p["update"] for p in provider_calls().values()))
    account = STACK_ACCOUNTS.get(stack, "111122223333")
    cases = _cases(actions, stack, list(deploy_policies(stack)),
                   f"arn:aws:iam::{account}:role/shipyard-deploy-{stack}")
    refused = [(c.action, c.resource, r.decision.value)
               for c, r in zip(cases, simulate(cases), strict=True) if not r.allowed]
    assert refused == [], f"shipyard-deploy-{stack} may not make these dynamic-provider calls"


def test_the_preview_role_may_make_every_call_a_preview_makes():
    actions = set().union(*(p["preview"] for p in provider_calls().values()))
    assert actions, "no dynamic provider calls AWS at preview: the reader is broken"
    cases = _cases(actions, "staging", [preview_policy()],
                   "arn:aws:iam::111122223333:role/shipyard-preview")
    refused = [(c.action, c.resource, r.decision.value)
               for c, r in zip(cases, simulate(cases), strict=True) if not r.allowed]
    assert refused == [], "the preview role may not make these calls the preview makes"
