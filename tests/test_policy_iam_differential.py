"""The pack's IAM matching (policy/guardrails/arns.py, conditions.py) against a maintained IAM
simulator (@cloud-copilot/iam-simulate, shipyard_preview/iam_simulator.py), on thousands of
generated statements and requests, all in one simulator run.

Statements are grown from real ARNs of the services the stacks use by random edits of the kinds
that change what IAM matches: a span replaced by `*`, a character by `?`, the ARN cut short
(IAM pads it with `*`), case changed, a policy variable for the name, a whole segment wildcarded.
Requests are the seed ARNs and near misses (another Region, account, name or case). For each
pair the simulator's decision must be the pack's (variables resolved from the request, as IAM
does), and the pack's conservative reading for Allow statements (an unresolved variable is any
value) must never grant less than IAM.

Inputs the simulator's own code reads differently from IAM are not generated: regular-
expression characters in the partition/service/Region/account segments and in action names
(the simulator builds unescaped expressions from them), newlines (its `.` does not match them).
"""

import random
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from conftest import POLICY_DIR

from shipyard_preview.iam_simulator import Case, Decision, available, simulate

sys.path.insert(0, str(POLICY_DIR))
from guardrails import conditions
from guardrails.arns import action_matches, resource_matches

pytestmark = pytest.mark.skipif(not available(), reason="IAM simulator not installed")

ACCOUNT = "111122223333"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/differential"
# (action, a resource ARN of a type the action accepts, other actions of the service)
SEEDS = [
    ("ecr:BatchGetImage", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/app",
     ["ecr:PutImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchDeleteImage"]),
    ("s3:GetObject", "arn:aws:s3:::assets-bucket/reports/2026/q1.csv",
     ["s3:PutObject", "s3:DeleteObject", "s3:GetObjectAcl"]),
    ("logs:PutLogEvents",
     f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/web:log-stream:ecs/web/abc123",
     ["logs:CreateLogStream"]),
    ("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
     ["kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/service/app-task",
     ["iam:GetRole", "iam:TagRole"]),
    ("secretsmanager:GetSecretValue",
     f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-AbCdEf",
     ["secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"]),
    ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/config",
     ["ssm:GetParameters", "ssm:PutParameter"]),
    ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-queue",
     ["sqs:ReceiveMessage", "sqs:DeleteMessage"]),
]
VARIABLE = "aws:PrincipalTag/team"
RESOURCE_CASES = 4000
ACTION_CASES = 1500
CONDITION_CASES = 2500


def _segments(arn: str) -> tuple[list[str], str]:
    parts = arn.split(":")
    return parts[:5], ":".join(parts[5:])


def request_variants(rng: random.Random, arn: str) -> str:
    """The seed ARN or a near miss of the same resource type."""
    head, resource = _segments(arn)
    choice = rng.randrange(6)
    if choice == 1 and head[3]:
        head[3] = rng.choice(["us-east-1", "eu-central-1", "ap-southeast-2"])
    elif choice == 2 and head[4]:
        head[4] = rng.choice(["444455556666", "000000000009"])
    elif choice in (3, 4):  # the name changes; the resource type stays what the action takes
        cut = max(resource.rfind("/"), resource.rfind(":")) + 1
        stem, name = resource[:cut], resource[cut:]
        if choice == 3:
            at = rng.randrange(len(name) + 1)
            name = name[:at] + rng.choice(["x", "-dev", "Q", "9"]) + name[at:]
        else:
            name = name.swapcase()
        resource = stem + name
    return ":".join(head + [resource])


def grow_pattern(rng: random.Random, arn: str) -> tuple[str, dict[str, str]]:
    """A Resource element derived from `arn` by one to three edits; the context it needs."""
    pattern = arn
    context: dict[str, str] = {}
    for _ in range(rng.randint(1, 3)):
        if pattern.count(":") < 5:
            break  # cut short already: nothing left to edit segment by segment
        head, resource = _segments(pattern)
        edit = rng.randrange(9)
        if edit == 0 and len(resource) > 1:  # a span of the resource becomes '*'
            i = rng.randrange(len(resource))
            j = rng.randrange(i, len(resource) + 1)
            resource = resource[:i] + "*" + resource[j:]
        elif edit == 1 and resource:  # one character becomes '?'
            i = rng.randrange(len(resource))
            resource = resource[:i] + "?" + resource[i + 1:]
        elif edit == 2:  # cut short: IAM pads with '*'
            keep = rng.randrange(1, 6)
            pattern = ":".join(pattern.split(":")[:keep]) + rng.choice(["", "*", ":*"])
            continue
        elif edit == 3:  # a whole segment wildcarded
            index = rng.randrange(1, 5)
            head[index] = rng.choice(["*", "?" * len(head[index]) or "*", head[index][:2] + "*"])
        elif edit == 4:  # case of the head or of the resource
            if rng.random() < 0.5:
                head = [h.upper() if rng.random() < 0.5 else h for h in head]
            else:
                resource = resource.swapcase()
        elif edit == 5 and "/" in resource:  # a policy variable for the last name
            prefix = resource.rsplit("/", 1)[0]
            value = rng.choice([resource.rsplit("/", 1)[1], "other", "*"])
            context[VARIABLE] = value
            resource = prefix + "/${" + VARIABLE + "}"
        elif edit == 6:  # a star inserted anywhere in the resource
            i = rng.randrange(len(resource) + 1)
            resource = resource[:i] + "*" + resource[i:]
        elif edit == 7:
            return rng.choice(["*", "**", "arn:*", "arn:aws:*"]), context
        else:  # an escaped literal star, which is not a wildcard
            resource = resource + "${*}"
        pattern = ":".join(head + [resource])
    return pattern, context


def grow_action(rng: random.Random, action: str) -> str:
    service, name = action.split(":")
    edit = rng.randrange(6)
    if edit == 0:
        i = rng.randrange(len(name))
        name = name[:i] + "*"
    elif edit == 1:
        i = rng.randrange(len(name))
        name = name[:i] + "?" + name[i + 1:]
    elif edit == 2:
        name = name.swapcase()
        service = service.upper()
    elif edit == 3:
        name = "*" + name[rng.randrange(len(name)):]
    elif edit == 4:
        return "*"
    return f"{service}:{name}"


@dataclass
class Generated:
    cases: list[Case] = field(default_factory=list)
    expected: list[bool] = field(default_factory=list)
    """The pack's answer read as IAM reads it (variables resolved, unresolved match nothing)."""
    conservative: list[bool] = field(default_factory=list)
    """The pack's answer for what an Allow grants (unresolved variables are any value)."""
    labels: list[str] = field(default_factory=list)


def _document(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement]}


def _key_policy(action: str) -> dict[str, Any] | None:
    """KMS reads IAM policies only where the key policy delegates to the account (KMS developer
    guide, "Default key policy"); other services need no resource policy in one account."""
    if not action.startswith("kms:"):
        return None
    return _document({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                      "Action": "kms:*", "Resource": "*"})


def resource_cases(rng: random.Random, out: Generated, count: int) -> None:
    for index in range(count):
        action, seed, _ = rng.choice(SEEDS)
        pattern, context = grow_pattern(rng, seed)
        arn = request_variants(rng, seed)
        if rng.random() < 0.3:
            context.pop(VARIABLE, None)  # the request does not carry the variable
        kind = "resource" if index % 5 == 0 else "identity"
        statement = {"Effect": "Allow", "Action": action, "Resource": pattern}
        if kind == "resource":
            statement["Principal"] = {"AWS": PRINCIPAL}
            case = Case(action, arn, PRINCIPAL, resource_policy=_document(statement),
                        context=context, resource_account=ACCOUNT)
        else:
            case = Case(action, arn, PRINCIPAL, identity_policies=[_document(statement)],
                        resource_policy=_key_policy(action), context=context,
                        resource_account=ACCOUNT)
        out.cases.append(case)
        out.expected.append(resource_matches(pattern, arn, kind=kind, reading="deny",
                                             variables=context))
        out.conservative.append(resource_matches(pattern, arn, kind=kind, reading="allow",
                                                 variables=context))
        out.labels.append(f"{kind} Resource {pattern!r} vs {arn!r} context {context}")


def action_cases(rng: random.Random, out: Generated, count: int) -> None:
    for _ in range(count):
        action, arn, others = rng.choice(SEEDS)
        pattern = grow_action(rng, rng.choice([action, *others]))
        statement = {"Effect": "Allow", "Action": pattern, "Resource": "*"}
        out.cases.append(Case(action, arn, PRINCIPAL, identity_policies=[_document(statement)],
                              resource_policy=_key_policy(action), resource_account=ACCOUNT))
        expected = action_matches(pattern, action, reading="deny")
        out.expected.append(expected)
        out.conservative.append(action_matches(pattern, action, reading="allow"))
        out.labels.append(f"Action {pattern!r} vs {action!r}")


# Condition keys and the values requests carry for them: global keys only, because the simulator
# keeps in a request only the keys the action supports. aws:PrincipalTag/sub carries OIDC-style
# subjects, to exercise the patterns trust policies use.
CONDITION_KEYS = {
    "aws:SourceAccount": [ACCOUNT, "444455556666", "000000000009"],
    "aws:SourceArn": [f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/web/abc",
                      "arn:aws:ecs:eu-west-1:444455556666:task/web/abc",
                      f"arn:aws:s3:::bucket-{ACCOUNT}"],
    "aws:PrincipalTag/sub": [
        "repo:org/app:ref:refs/heads/main", "repo:org/app-fork:ref:refs/heads/main",
        "repo:other/app:environment:prod", "repo:org/app:environment:prod"],
    "aws:PrincipalOrgID": ["o-abc123", "o-zzprobe9"],
    "aws:SecureTransport": ["true", "false"],
    "aws:PrincipalTag/team": ["web", "data"],
}
OPERATORS = ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike",
             "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "ArnLike", "ArnEquals",
             "ArnNotLike", "Bool", "Null"]


def condition_value(rng: random.Random, key: str, operator: str) -> str:
    if operator == "Null":
        return rng.choice(["true", "false"])
    if operator == "Bool":
        return rng.choice(["true", "false", "True", "FALSE"])
    value = rng.choice(CONDITION_KEYS[key])
    edit = rng.randrange(6)
    if edit == 0:
        value = value[:rng.randrange(1, len(value))] + "*"
    elif edit == 1:
        i = rng.randrange(len(value))
        value = value[:i] + "?" + value[i + 1:]
    elif edit == 2:
        value = value.upper()
    elif edit == 3:
        value = "*"
    elif edit == 4 and key != "aws:PrincipalTag/team":
        value = value.replace("app", "${aws:PrincipalTag/team}")
    return value


def condition_cases(rng: random.Random, out: Generated, count: int) -> None:
    action, arn, _ = SEEDS[0]
    for _ in range(count):
        condition: dict[str, dict[str, Any]] = {}
        for _ in range(rng.randint(1, 2)):
            key = rng.choice(list(CONDITION_KEYS))
            operator = rng.choice(OPERATORS)
            if operator == "Bool" and key != "aws:SecureTransport":
                operator = "StringEquals"
            prefix = rng.choice(["", "", "", "ForAnyValue:", "ForAllValues:"])
            suffix = rng.choice(["", "", "IfExists"]) if operator != "Null" else ""
            name = rng.choice([str.lower, str.upper, str]) (key) if rng.random() < 0.2 else key
            values = [condition_value(rng, key, operator) for _ in range(rng.randint(1, 2))]
            condition.setdefault(prefix + operator + suffix, {})[name] = (
                values if len(values) > 1 else values[0])
        context = {k: rng.choice(v) for k, v in CONDITION_KEYS.items() if rng.random() < 0.7}
        statement = {"Effect": "Allow", "Action": action, "Resource": "*",
                     "Condition": condition}
        out.cases.append(Case(action, arn, PRINCIPAL, identity_policies=[_document(statement)],
                              context=context, resource_account=ACCOUNT))
        verdict = conditions.matches(condition, context)
        out.expected.append(bool(verdict))
        out.conservative.append(verdict is not False)
        out.labels.append(f"Condition {condition} with {context}")


@cache
def generated() -> tuple[Generated, list]:
    rng = random.Random(18)
    out = Generated()
    resource_cases(rng, out, RESOURCE_CASES)
    action_cases(rng, out, ACTION_CASES)
    condition_cases(rng, out, CONDITION_CASES)
    return out, simulate(out.cases)


def test_the_pack_matches_as_the_simulator_does():
    out, results = generated()
    assert len(out.cases) == RESOURCE_CASES + ACTION_CASES + CONDITION_CASES
    errors = [(label, r.errors) for label, r in zip(out.labels, results, strict=True)
              if r.decision is Decision.ERROR]
    assert errors == []
    differences = [label for label, expected, result in
                   zip(out.labels, out.expected, results, strict=True)
                   if expected != result.allowed]
    assert differences == [], f"{len(differences)} differences, e.g. {differences[:5]}"


def test_the_conservative_reading_never_grants_less_than_iam():
    out, results = generated()
    missed = [label for label, conservative, result in
              zip(out.labels, out.conservative, results, strict=True)
              if result.allowed and not conservative]
    assert missed == []


def test_the_generated_cases_exercise_both_outcomes():
    _, results = generated()
    for start, end in ((0, RESOURCE_CASES), (RESOURCE_CASES, RESOURCE_CASES + ACTION_CASES),
                       (RESOURCE_CASES + ACTION_CASES, len(results))):
        allowed = sum(r.allowed for r in results[start:end])
        assert 0.15 < allowed / (end - start) < 0.85, (start, allowed)
