"""The IAM evaluator (tests/iam_evaluation.py) against the examples AWS publishes in the IAM User
Guide. Each case names the page (under https://docs.aws.amazon.com/IAM/latest/UserGuide/) whose
example policy and stated outcome it reproduces, so a disagreement with AWS shows up here before
it can make a seam test wrong. The whole requests (EXAMPLES) are also put to the maintained IAM
simulator by test_iam_evaluator_agrees.py, so the two evaluators answer them alike."""

from dataclasses import dataclass, field

import pytest
from iam_evaluation import (
    Decision,
    Request,
    UnsupportedPolicy,
    action_matches,
    arn_condition_matches,
    arn_matches,
    conditions_hold,
    evaluate,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
ALLOW, EXPLICIT, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def decide(action: str, resource: str, document: dict, **context) -> Decision:
    return evaluate(Request(action, resource, context=context), identity_policies=[document])


@dataclass(frozen=True)
class Example:
    """One request of a User Guide example, every policy that applies, and AWS's outcome."""
    page: str
    request: Request
    expected: Decision
    identity: tuple[dict, ...] = ()
    resource_policy: dict | None = None
    key_policy: bool = False
    principal: str = field(default=ROLE)
    """The caller's ARN (or service principal), as the simulator takes it."""

    def decide(self) -> Decision:
        return evaluate(self.request, identity_policies=self.identity,
                        resource_policy=self.resource_policy, key_policy=self.key_policy)


def _identity(page: str, document: dict, cases: list[tuple], *more: dict) -> list[Example]:
    return [Example(page, Request(action, resource, context=context), expected,
                    identity=(document, *more))
            for action, resource, context, expected in cases]


_ALLOW_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
_DENY_DELETE = {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
_INSTANCE = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0"
_VOLUME = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/vol-0123456789abcdef0"
_BUCKET_POLICY = policy(
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::b/*"})
_QUEUE = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:queue"
_TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic"
_SNS = "sns.amazonaws.com"
_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
_DECRYPT = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": _KEY})
_ROOT_KEY_POLICY = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                           "Action": "kms:*", "Resource": "*"})


def _queue_policy(operator: str) -> dict:
    return policy({"Effect": "Allow", "Principal": {"Service": _SNS}, "Action": "sqs:SendMessage",
                   "Resource": _QUEUE, "Condition": {operator: {"aws:SourceArn": _TOPIC}}})


EXAMPLES: list[Example] = [
    # reference_policies_evaluation-logic.html: "An explicit deny in any of these policies
    # overrides the allow"; without an Allow the request is implicitly denied; a Deny in another
    # attached policy counts the same.
    *_identity("reference_policies_evaluation-logic.html", policy(_ALLOW_S3, _DENY_DELETE), [
        ("s3:GetObject", "arn:aws:s3:::b/k", {}, ALLOW),
        ("s3:DeleteBucket", "arn:aws:s3:::b", {}, EXPLICIT),
        ("sqs:SendMessage", _QUEUE, {}, IMPLICIT)]),
    *_identity("reference_policies_evaluation-logic.html", policy(_ALLOW_S3), [
        ("s3:DeleteBucket", "arn:aws:s3:::b", {}, EXPLICIT)], policy(_DENY_DELETE)),
    # reference_policies_elements_notaction.html: Allow with NotAction "iam:*" on "*" allows every
    # action except IAM's.
    *_identity("reference_policies_elements_notaction.html",
               policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), [
        ("s3:GetObject", "arn:aws:s3:::b/k", {}, ALLOW),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", {}, IMPLICIT)]),
    # reference_policies_elements_notaction.html: deny everything but IAM to users who did not
    # sign in with MFA; long-term access keys carry no MFA key at all, so IfExists applies it.
    *_identity("reference_policies_elements_notaction.html", policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*",
         "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}),
        [("ec2:RunInstances", _INSTANCE, {"aws:MultiFactorAuthPresent": "false"}, EXPLICIT),
         ("ec2:RunInstances", _INSTANCE, {}, EXPLICIT),
         ("ec2:RunInstances", _INSTANCE, {"aws:MultiFactorAuthPresent": "true"}, ALLOW),
         ("iam:ListUsers", "*", {}, ALLOW)]),
    # reference_policies_elements_notresource.html: deny S3 outside the payroll folder.
    *_identity("reference_policies_elements_notresource.html", policy(
        _ALLOW_S3, {"Effect": "Deny", "Action": "s3:*", "NotResource": [
            "arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}), [
        ("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv", {}, ALLOW),
        ("s3:GetObject", "arn:aws:s3:::HRBucket/Other/jan.csv", {}, EXPLICIT)]),
    # reference_policies_elements_condition_operators.html, Numeric: {"NumericLessThanEquals":
    # {"s3:max-keys": "10"}} lets a user list at most 10 objects per request.
    *_identity("reference_policies_elements_condition_operators.html", policy(
        {"Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
         "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}}), [
        ("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {"s3:max-keys": "10"}, ALLOW),
        ("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {"s3:max-keys": 11}, IMPLICIT),
        ("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {}, IMPLICIT)]),
    # reference_policies_elements_condition_operators.html, Boolean: the bucket policy that denies
    # requests not sent over TLS.
    *[Example("reference_policies_elements_condition_operators.html",
              Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE},
                      context={"aws:SecureTransport": tls}), expected,
              resource_policy=_BUCKET_POLICY)
      for tls, expected in (("true", ALLOW), (False, EXPLICIT))],
    # reference_policies_elements_condition_operators.html, ARN: the SQS queue policy that lets an
    # SNS topic send ({"ArnEquals": {"aws:SourceArn": ...}}), with either ARN operator.
    *[Example("reference_policies_elements_condition_operators.html",
              Request("sqs:SendMessage", _QUEUE, {"Service": service}, context), expected,
              resource_policy=_queue_policy(operator), principal=service)
      for operator in ("ArnEquals", "ArnLike")
      for service, context, expected in (
          (_SNS, {"aws:SourceArn": _TOPIC}, ALLOW),
          (_SNS, {"aws:SourceArn": _TOPIC + "2"}, IMPLICIT),
          (_SNS, {}, IMPLICIT),
          ("events.amazonaws.com", {"aws:SourceArn": _TOPIC}, IMPLICIT))],
    # reference_policies_elements_condition_operators.html, IfExists: allow RunInstances for
    # t1/t2/m3 types; a resource in the same request without an instance type passes.
    *_identity("reference_policies_elements_condition_operators.html", policy(
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
         "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}), [
        ("ec2:RunInstances", _INSTANCE, {"ec2:InstanceType": "t2.micro"}, ALLOW),
        ("ec2:RunInstances", _INSTANCE, {"ec2:InstanceType": "m5.large"}, IMPLICIT),
        ("ec2:RunInstances", _INSTANCE, {}, ALLOW)]),
    # reference_policies_condition_examples-multi-valued-context-keys.html: "DenyRestrictedTags"
    # (ForAllValues:StringLike over aws:TagKeys with a Null check); without the Null check
    # ForAllValues would be vacuously true for a request with no tags.
    *_identity("reference_policies_condition_examples-multi-valued-context-keys.html", policy(
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Sid": "DenyRestrictedTags", "Effect": "Deny", "Action": ["iam:Tag*", "iam:UnTag*"],
         "Resource": ["*"], "Condition": {"Null": {"aws:TagKeys": "false"},
                                          "ForAllValues:StringLike": {
                                              "aws:TagKeys": ["key1*", "key2*", "key3*"]}}}), [
        ("iam:TagRole", f"arn:aws:iam::{ACCOUNT}:role/r", {"aws:TagKeys": ["key1a", "key3b"]},
         EXPLICIT),
        ("iam:TagRole", f"arn:aws:iam::{ACCOUNT}:role/r", {"aws:TagKeys": ["key1a", "other"]},
         ALLOW),
        ("iam:TagRole", f"arn:aws:iam::{ACCOUNT}:role/r", {}, ALLOW)]),
    # The same page, the EC2 snapshot example (ForAnyValue:StringEquals {"aws:TagKeys":
    # ["environment", "webserver"]}).
    *_identity("reference_policies_condition_examples-multi-valued-context-keys.html", policy(
        {"Effect": "Allow", "Action": "ec2:CreateSnapshot", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:CreateSnapshot", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "webserver"]}}}),
        [("ec2:CreateSnapshot", _VOLUME, {"aws:TagKeys": ["owner", "webserver"]}, EXPLICIT),
         ("ec2:CreateSnapshot", _VOLUME, {"aws:TagKeys": ["owner"]}, ALLOW),
         ("ec2:CreateSnapshot", _VOLUME, {}, ALLOW)]),
    # reference_policies_elements_principal.html, AWS account principals: naming an account in a
    # resource policy delegates to that account's IAM policies; it grants nothing by itself. A
    # principal named directly is granted by the resource policy alone (same account).
    Example("reference_policies_elements_principal.html",
            Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE}), IMPLICIT,
            resource_policy=policy({"Effect": "Allow", "Principal": {
                "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*"})),
    Example("reference_policies_elements_principal.html",
            Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE}), ALLOW,
            identity=(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),),
            resource_policy=policy({"Effect": "Allow", "Principal": {
                "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*"})),
    Example("reference_policies_elements_principal.html",
            Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE}), ALLOW,
            resource_policy=policy({"Effect": "Allow", "Principal": {"AWS": ROLE},
                                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})),
    Example("reference_policies_elements_principal.html",
            Request("s3:GetObject", "arn:aws:s3:::b/k",
                    principal={"AWS": "arn:aws:iam::999999999999:role/app"}), IMPLICIT,
            resource_policy=policy({"Effect": "Allow", "Principal": {"AWS": ROLE},
                                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            principal="arn:aws:iam::999999999999:role/app"),
    # KMS Developer Guide, key-policies.html: an IAM policy alone never grants use of a key; the
    # key policy must allow the principal or let the account's IAM decide.
    Example("KMS key-policies.html", Request("kms:Decrypt", _KEY, principal={"AWS": ROLE}),
            IMPLICIT, identity=(_DECRYPT,), key_policy=True, resource_policy=policy(
                {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                 "Action": "kms:*", "Resource": "*"})),
    Example("KMS key-policies.html", Request("kms:Decrypt", _KEY, principal={"AWS": ROLE}),
            ALLOW, identity=(_DECRYPT,), resource_policy=_ROOT_KEY_POLICY, key_policy=True),
    Example("KMS key-policies.html", Request("kms:Decrypt", _KEY, principal={"AWS": ROLE}),
            IMPLICIT, resource_policy=_ROOT_KEY_POLICY, key_policy=True),
    # reference_policies_elements_resource.html: the resource part may hold "/" and ":", ARNs
    # are case-sensitive there, "*" and "?" stay inside the partition, region and account
    # segments.
    *[Example("reference_policies_elements_resource.html", Request(action, arn), expected,
              identity=(policy({"Effect": "Allow", "Action": action, "Resource": pattern}),))
      for action, pattern, arn, expected in [
          ("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*",
           "arn:aws:s3:::amzn-s3-demo-bucket/a/b.txt", ALLOW),
          ("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*",
           "arn:aws:s3:::AMZN-s3-demo-bucket/a", IMPLICIT),
          ("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/accounting/*",
           f"arn:aws:iam::{ACCOUNT}:user/accounting/bob", ALLOW),
          ("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/accounting/*",
           f"arn:aws:iam::{ACCOUNT}:user/sales/bob", IMPLICIT),
          ("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:app:*",
           f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app:log-stream:x", ALLOW),
          ("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:app:*",
           f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app2:log-stream:x", IMPLICIT),
          ("sqs:SendMessage", f"arn:aws:sqs:*:{ACCOUNT}:q", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q",
           ALLOW),
          ("secretsmanager:GetSecretValue",
           f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-??????",
           f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbC123", ALLOW),
          ("secretsmanager:GetSecretValue",
           f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-??????",
           f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-admin-AbC123", IMPLICIT),
      ]],
]


@pytest.mark.parametrize("example", EXAMPLES,
                         ids=[f"{e.page.split('.')[0]}-{n}" for n, e in enumerate(EXAMPLES)])
def test_the_guide_examples(example):
    assert example.decide() is example.expected, example


# reference_policies_elements_action.html: "The prefix and the action name are case
# insensitive. For example, iam:ListAccessKeys is the same as IAM:listaccesskeys."
def test_action_names_are_case_insensitive():
    assert action_matches("iam:ListAccessKeys", "IAM:listaccesskeys")
    assert action_matches("IAM:listaccesskeys", "iam:ListAccessKeys")


# reference_policies_elements_action.html: "iam:*AccessKey*" covers the access key actions;
# "s3:*" every S3 action; a wildcard does not cross into another service.
@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("iam:*AccessKey*", "iam:DeleteAccessKey", True),
    ("iam:*AccessKey*", "iam:ListAccessKeys", True),
    ("iam:*AccessKey*", "iam:UpdateAccessKey", True),
    ("iam:*AccessKey*", "iam:CreateUser", False),
    ("s3:*", "s3:GetObject", True),
    ("s3:*", "s3express:CreateSession", False),
    ("ec2:Describe*", "ec2:DescribeInstances", True),
    ("ec2:Describe*", "ec2:RunInstances", False),
    ("s3:Get?bject", "s3:GetObject", True),
    ("s3:Get?bject", "s3:GetObjectAcl", False),
])
def test_action_wildcards(pattern, action, expected):
    assert action_matches(pattern, action) is expected


# reference_policies_elements_resource.html: ARNs are case-sensitive; "*" and "?" may appear in
# any segment; the resource part may hold "/" and ":".
@pytest.mark.parametrize(("pattern", "arn", "expected"), [
    ("arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket/a/b.txt", True),
    ("arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket", False),
    ("arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::AMZN-s3-demo-bucket/a", False),
    (f"arn:aws:iam::{ACCOUNT}:user/*", f"arn:aws:iam::{ACCOUNT}:user/Bob", True),
    (f"arn:aws:iam::{ACCOUNT}:user/*", f"arn:aws:iam::{ACCOUNT}:role/Bob", False),
    ("arn:aws:logs:*:*:log-group:app:*", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app:"
     "log-stream:x", True),
    ("arn:aws:logs:*:*:log-group:app:*", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app2:"
     "log-stream:x", False),
    # A region wildcard stays inside the region segment.
    (f"arn:aws:sqs:*:{ACCOUNT}:q", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q", True),
    (f"arn:aws:sqs:*:{ACCOUNT}:q", "arn:aws:sqs:eu-west-1:999999999999:q", False),
    ("arn:aws:secretsmanager:eu-west-1:1:secret:db-??????",
     "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC123", True),
    ("arn:aws:secretsmanager:eu-west-1:1:secret:db-??????",
     "arn:aws:secretsmanager:eu-west-1:1:secret:db-admin-AbC123", False),
    ("*", "arn:aws:anything:::x", True),
])
def test_resource_matching(pattern, arn, expected):
    assert arn_matches(pattern, arn) is expected


# The readings the User Guide leaves open are refused, so this evaluator cannot answer where it
# might disagree with IAM or the simulator: a short ARN (its "trailing" wildcard standing for
# the missing segments), a wildcard in the service or the resource type, policy variables.
@pytest.mark.parametrize("pattern", [
    "arn:aws:ecr:eu-west-1:*", "arn:aws:ecr:*", "arn:aws:ecr:eu-west-1:123456789012",
    "arn:aws:*:eu-west-1:123456789012:repository/x",
    "arn:aws:ecr:eu-west-1:123456789012:repo*/x",
    "arn:aws:logs:eu-west-1:123456789012:*:web:*",
    "arn:aws:ecr:eu-west-1:123456789012:repository/${aws:PrincipalTag/team}",
])
def test_patterns_whose_reading_is_open_are_refused(pattern):
    with pytest.raises(UnsupportedPolicy):
        arn_matches(pattern, "arn:aws:ecr:eu-west-1:123456789012:repository/x")


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    (f"arn:aws:sns:*:{ACCOUNT}:topic", f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic", True),
    (f"arn:aws:sns:*:{ACCOUNT}:topic", "arn:aws:sns:eu-west-1:999999999999:topic", False),
    (f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/*",
     f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/fl-1", True),
    (f"arn:aws:SNS:eu-west-1:{ACCOUNT}:topic", f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic", False),
    (f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic", "topic", False),
])
def test_arn_conditions_match_segment_by_segment(pattern, value, expected):
    assert arn_condition_matches(pattern, value) is expected


# reference_policies_elements_condition_operators.html, String: StringEquals is exact and
# case-sensitive, e.g. {"aws:PrincipalTag/job-category": "iamuser-admin"}; condition KEY names
# are case-insensitive (reference_policies_elements_condition.html).
def test_string_equals():
    block = {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}
    assert conditions_hold(block, {"aws:PrincipalTag/job-category": "iamuser-admin"})
    assert conditions_hold(block, {"AWS:PrincipalTag/job-category": "iamuser-admin"})
    assert not conditions_hold(block, {"aws:PrincipalTag/job-category": "IAMUser-Admin"})
    assert not conditions_hold(block, {})
    assert conditions_hold({"StringEqualsIgnoreCase": {"k": "iamuser-admin"}},
                           {"k": "IAMUser-Admin"})


# reference_policies_elements_condition_operators.html, String: StringLike with "*" and "?".
def test_string_like():
    block = {"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}
    assert conditions_hold(block, {"s3:prefix": "home/alice/docs"})
    assert conditions_hold(block, {"s3:prefix": ""})
    assert not conditions_hold(block, {"s3:prefix": "private/"})
    assert conditions_hold({"StringLike": {"k": "a?c"}}, {"k": "abc"})
    assert not conditions_hold({"StringLike": {"k": "a?c"}}, {"k": "abbc"})


# reference_policies_elements_condition_operators.html, Important box: a key missing from the
# request makes the condition false, but true for a negated operator such as StringNotLike or
# ArnNotLike; ...IfExists and Null test for presence instead.
def test_missing_keys():
    assert not conditions_hold({"StringEquals": {"k": "v"}}, {})
    assert conditions_hold({"StringNotEquals": {"k": "v"}}, {})
    assert conditions_hold({"StringNotLike": {"k": "v*"}}, {})
    assert conditions_hold({"ArnNotLike": {"k": "arn:aws:s3:::*"}}, {})
    assert conditions_hold({"StringEqualsIfExists": {"k": "v"}}, {})
    assert not conditions_hold({"StringEqualsIfExists": {"k": "v"}}, {"k": "w"})


# Several values for one key are ORed; a negated operator needs the value to match none of them
# (reference_policies_elements_condition_operators.html and _condition-logic-multiple-*.html).
def test_values_or_keys_and_operators_and():
    assert conditions_hold({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"})
    assert not conditions_hold({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "b"})
    assert conditions_hold({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "c"})
    both = {"StringEquals": {"k": "a", "j": "b"}}
    assert conditions_hold(both, {"k": "a", "j": "b"})
    assert not conditions_hold(both, {"k": "a", "j": "x"})
    two_operators = {"StringEquals": {"k": "a"}, "Bool": {"aws:SecureTransport": "true"}}
    assert not conditions_hold(two_operators, {"k": "a", "aws:SecureTransport": "false"})


# reference_policies_elements_condition_operators.html, Numeric.
def test_numeric():
    for operator, request_value, expected in [
            ("NumericEquals", 5, True), ("NumericNotEquals", 5, False),
            ("NumericLessThan", 5, False), ("NumericGreaterThan", 6, True),
            ("NumericGreaterThanEquals", 5, True), ("NumericLessThan", "four", False)]:
        assert conditions_hold({operator: {"k": "5"}}, {"k": request_value}) is expected, operator


# reference_policies_elements_condition_operators.html, Null: {"Null": {"aws:TokenIssueTime":
# "true"}} holds when the key is absent (long-term credentials).
def test_null():
    assert conditions_hold({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not conditions_hold({"Null": {"aws:TokenIssueTime": "true"}},
                               {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
    assert conditions_hold({"Null": {"aws:TokenIssueTime": "false"}},
                           {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})


# reference_policies_condition_examples-multi-valued-context-keys.html, the ForAllValues:
# StringNotLike example: the Deny applies only when no request tag key starts with key1.
def test_for_all_values_negated_is_per_value():
    block = {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
    assert conditions_hold(block, {"aws:TagKeys": ["key2", "key3"]})
    assert not conditions_hold(block, {"aws:TagKeys": ["key1a", "key2"]})
    assert not conditions_hold({"ForAnyValue:StringNotLike": {"aws:TagKeys": "key1*"}},
                               {"aws:TagKeys": ["key1a"]})
    assert conditions_hold({"ForAnyValue:StringNotLike": {"aws:TagKeys": "key1*"}},
                           {"aws:TagKeys": ["key1a", "x"]})


# Fail closed: an operator or element the evaluator does not implement is an error, never a
# silently skipped condition.
@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
     "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condtion": {}},
    {"Effect": "Allow", "Action": "s3:*"},
    {"Effect": "allow", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"},
])
def test_unsupported_documents_fail_closed(statement):
    with pytest.raises(UnsupportedPolicy):
        decide("s3:GetObject", "arn:aws:s3:::b/k", policy(statement))


def test_version_is_required():
    with pytest.raises(UnsupportedPolicy):
        evaluate(Request("s3:GetObject", "*"), identity_policies=[
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}])
