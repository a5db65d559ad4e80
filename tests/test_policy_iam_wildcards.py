"""Class 2 of issue 18: IAM wildcards mean what IAM says, through the running pack. A short ARN
is padded with '*' (so a trailing '*' spans the remaining segments), segments match one by one,
and the matcher is linear: the differential test (test_policy_iam_differential.py) holds the
matcher to the simulator; these hold the rules to their messages."""

import time

import pytest
from policy_helpers import allow, document, messages

RP = "aws:iam/rolePolicy:RolePolicy"
ECR = "iam-no-wildcard-ecr-resource"
ADVICE = ("name the repository ARNs without wildcards (only ECR actions AWS gives no resource "
          "scope, such as ecr:GetAuthorizationToken, may use '*').")
ACCOUNT = "111122223333"


def ecr(resource: str, actions: str = "ecr:BatchGetImage") -> str:
    return f"policy statement #1 allows {actions} on {resource}; {ADVICE}"


@pytest.mark.parametrize("resource", [
    "arn:aws:ecr:eu-west-1:*",          # the example: every repository of the Region
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:*",
    "arn:aws:ecr:*",
    "arn:aws:ecr",                      # short, no wildcard: IAM still pads it with '*'
    "arn:aws:ecr:eu-west-1",
    "arn:*:ecr:*:*:repository/app",
    f"arn:aws:ECR:eu-west-1:{ACCOUNT}:repository/*",  # service matched ignoring case
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app?",
    "arn:aws:*:*:*:*",
    "arn:*",
])
def test_wide_ecr_resources_as_iam_reads_them(pack, resource):
    assert messages(pack, ECR, RP, {"policy": document(allow("ecr:BatchGetImage", resource))}) \
        == [ecr(resource)]


@pytest.mark.parametrize("resource", [
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app",
    f"arn:aws:ecr:EU-WEST-1:{ACCOUNT}:repository/app",   # the same repository
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app${{*}}",  # an escaped, literal '*'
    "arn:aws:s3:::bucket/*",                            # cannot name a repository
    "arn:aws:logs:eu-west-1:*",
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repo*/app",       # a wildcard in the type matches nothing
])
def test_exact_or_unrelated_resources_pass(pack, resource):
    assert messages(pack, ECR, RP, {"policy": document(allow("ecr:BatchGetImage", resource))}) \
        == []


def test_a_short_arn_in_a_repository_policy_matches_only_with_a_wildcard(pack):
    # Resource-based policies: IAM pads a short ARN only when it has a wildcard.
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                 "Action": "ecr:BatchGetImage"}
    policy = "aws:ecr/repositoryPolicy:RepositoryPolicy"
    assert messages(pack, ECR, policy, {"policy": document(
        {**statement, "Resource": "arn:aws:ecr"})}) == []
    assert messages(pack, ECR, policy, {"policy": document(
        {**statement, "Resource": "arn:aws:ecr:*"})}) == [
        f"policy statement #1 allows ecr:BatchGetImage on arn:aws:ecr:*; {ADVICE}"]


@pytest.mark.parametrize("rule,statement,expected", [
    ("iam-kms-decrypt-scoped", allow("kms:Decrypt", "arn:aws:kms:eu-west-1:*"),
     ["policy statement #1 allows kms:Decrypt on any key; name the key ARNs or pin them with a "
      "StringEquals aws:ResourceTag condition."]),
    ("iam-kms-decrypt-scoped", allow("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:*"),
     ["policy statement #1 allows kms:Decrypt on any key; name the key ARNs or pin them with a "
      "StringEquals aws:ResourceTag condition."]),
    ("iam-no-wildcard-resource",
     allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:*"),
     ["policy statement #1 allows secretsmanager:GetSecretValue (accepts Secret) on "
      f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:*; name the resources of those types "
      "instead of a wildcard."]),
    ("iam-no-admin", allow("*", "arn:*"),
     ["policy statement #1 allows '*' on '*' (administrator access)."]),
    ("iam-no-admin", allow("*:*", "arn"),
     ["policy statement #1 allows '*' on '*' (administrator access)."]),
])
def test_trailing_stars_span_segments_in_every_iam_rule(pack, rule, statement, expected):
    assert messages(pack, rule, RP, {"policy": document(statement)}) == expected


def test_a_backtracking_pattern_gets_a_verdict_at_once(pack):
    # 'a*a*...b' against a long name: exponential for a backtracking regex, linear here.
    resource = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/" + "a*" * 2000 + "b"
    started = time.monotonic()
    found = messages(pack, ECR, RP, {"policy": document(allow("ecr:BatchGetImage", resource))})
    assert time.monotonic() - started < 5
    assert found == [ecr(resource)]


def test_the_matcher_is_linear_on_hostile_patterns():
    import sys

    from conftest import POLICY_DIR
    sys.path.insert(0, str(POLICY_DIR))
    from guardrails.glob import matches
    started = time.monotonic()
    assert not matches("a*" * 5000 + "b", "a" * 5000)
    assert not matches("*a?a?a?" * 500 + "b", "a" * 5000)
    assert matches("*" + "?" * 4999, "a" * 5000)
    assert time.monotonic() - started < 2
