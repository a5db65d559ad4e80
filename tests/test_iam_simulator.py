"""The bridge to the maintained IAM simulator answers as IAM's documented evaluation logic does,
for the properties the seam tests rely on: a permissions boundary intersects the identity policy,
an explicit deny wins, a trailing `*` spans ARN segments, and a bad policy is an error, not a
verdict."""

import pytest

from shipyard_preview import iam_simulator
from shipyard_preview.iam_simulator import Case, Decision

ROLE = "arn:aws:iam::111122223333:role/web-execution"
REPO = "arn:aws:ecr:eu-west-1:111122223333:repository/shipyard/prod/web/web"


def allow(action, resource, **extra):
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def test_simulator_is_installed_at_the_locked_version():
    assert iam_simulator.available(), "run ./dev test: it installs iam-simulator/ with npm ci"
    import json
    lock = json.loads((iam_simulator.SIMULATOR_DIR / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/@cloud-copilot/iam-simulate"]["version"]
    assert iam_simulator.version() == locked


@pytest.mark.parametrize(("identity", "boundary", "expected"), [
    (allow("ecr:BatchGetImage", REPO), None, Decision.ALLOWED),
    # Effective permissions are the intersection (IAM User Guide, "Permissions boundaries").
    (allow("ecr:BatchGetImage", REPO), allow("logs:PutLogEvents", "*"),
     Decision.IMPLICITLY_DENIED),
    (allow("ecr:BatchGetImage", REPO), allow("ecr:*", REPO), Decision.ALLOWED),
    # A boundary alone grants nothing.
    (allow("logs:PutLogEvents", "*"), allow("ecr:BatchGetImage", "*"),
     Decision.IMPLICITLY_DENIED),
])
def test_boundary_intersects_identity_policy(identity, boundary, expected):
    result = iam_simulator.simulate_one(Case(
        action="ecr:BatchGetImage", resource=REPO, principal=ROLE, identity_policies=[identity],
        boundary_policies=[boundary] if boundary else []))
    assert result.decision is expected, result


def test_explicit_deny_wins_and_trailing_wildcard_spans_segments():
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": "arn:aws:ecr:eu-west-1:*"}]}
    results = iam_simulator.simulate([
        Case(action="ecr:BatchGetImage", resource=REPO, principal=ROLE, identity_policies=[deny]),
        Case(action="ecr:BatchGetImage", resource=REPO.replace("eu-west-1", "us-east-1"),
             principal=ROLE, identity_policies=[deny]),
    ])
    assert [r.decision for r in results] == [Decision.EXPLICITLY_DENIED, Decision.ALLOWED]


def test_conditions_are_evaluated_against_the_request_context():
    policy = allow("ecr:BatchGetImage", "*",
                   Condition={"StringEquals": {"aws:ResourceTag/environment": "prod"}})
    results = iam_simulator.simulate([
        Case(action="ecr:BatchGetImage", resource=REPO, principal=ROLE, identity_policies=[policy],
             context={"aws:ResourceTag/environment": value})
        for value in ("prod", "staging")])
    assert [r.decision for r in results] == [Decision.ALLOWED, Decision.IMPLICITLY_DENIED]


def test_an_invalid_policy_is_an_error_not_a_verdict():
    result = iam_simulator.simulate_one(Case(
        action="ecr:BatchGetImage", resource=REPO, principal=ROLE,
        identity_policies=[{"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps"}]}]))
    assert result.decision is Decision.ERROR and result.errors
