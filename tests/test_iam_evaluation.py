"""The IAM evaluator (tests/iam_evaluation.py) against the examples AWS publishes in the IAM User
Guide. Each test names the page (under https://docs.aws.amazon.com/IAM/latest/UserGuide/) whose
example policy and stated outcome it reproduces, so a disagreement with AWS shows up here before
it can make a seam test wrong."""

import pytest
from iam_evaluation import (
    Decision,
    Request,
    UnsupportedPolicy,
    action_matches,
    arn_matches,
    conditions_hold,
    evaluate,
    is_allowed,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def decide(action: str, resource: str, document: dict, **context) -> Decision:
    return evaluate(Request(action, resource, context=context), identity_policies=[document])


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


# reference_policies_evaluation-logic.html: "An explicit deny in any of these policies overrides
# the allow"; without an Allow the request is implicitly denied.
def test_explicit_deny_wins_and_allow_is_needed():
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    assert decide("s3:GetObject", "arn:aws:s3:::b/k", policy(allow, deny)) is Decision.ALLOW
    assert decide("s3:DeleteBucket", "arn:aws:s3:::b", policy(allow, deny)) is \
        Decision.EXPLICIT_DENY
    assert decide("sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q", policy(allow)) is \
        Decision.IMPLICIT_DENY
    # A Deny in another attached policy counts the same.
    assert evaluate(Request("s3:DeleteBucket", "arn:aws:s3:::b"),
                    identity_policies=[policy(allow), policy(deny)]) is Decision.EXPLICIT_DENY


# reference_policies_elements_notaction.html: Allow with NotAction "iam:*" on "*" allows every
# action except IAM's.
def test_notaction_allow_everything_but_iam():
    document = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide("s3:GetObject", "arn:aws:s3:::b/k", document) is Decision.ALLOW
    assert decide("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", document) is \
        Decision.IMPLICIT_DENY


# reference_policies_elements_notaction.html: deny everything but IAM to users who did not sign
# in with MFA ("BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}).
def test_notaction_deny_without_mfa():
    document = policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                      {"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*",
                       "Resource": "*",
                       "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    ec2 = ("ec2:RunInstances", "*")
    assert decide(*ec2, document, **{"aws:MultiFactorAuthPresent": "false"}) is \
        Decision.EXPLICIT_DENY
    # Long-term access keys carry no MFA key at all: IfExists makes the Deny apply.
    assert decide(*ec2, document) is Decision.EXPLICIT_DENY
    assert decide(*ec2, document, **{"aws:MultiFactorAuthPresent": "true"}) is Decision.ALLOW
    assert decide("iam:ListUsers", "*", document) is Decision.ALLOW


# reference_policies_elements_notresource.html: deny S3 outside the payroll folder.
def test_notresource():
    document = policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*",
         "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]})
    assert decide("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv", document) is \
        Decision.ALLOW
    assert decide("s3:GetObject", "arn:aws:s3:::HRBucket/Other/jan.csv", document) is \
        Decision.EXPLICIT_DENY


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


# reference_policies_elements_condition_operators.html, Numeric: {"NumericLessThanEquals":
# {"s3:max-keys": "10"}} lets a user list at most 10 objects per request.
def test_numeric():
    document = policy({"Effect": "Allow", "Action": "s3:ListBucket",
                       "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
                       "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}})
    bucket = "arn:aws:s3:::amzn-s3-demo-bucket"
    assert decide("s3:ListBucket", bucket, document, **{"s3:max-keys": "10"}) is Decision.ALLOW
    assert decide("s3:ListBucket", bucket, document, **{"s3:max-keys": 11}) is \
        Decision.IMPLICIT_DENY
    assert decide("s3:ListBucket", bucket, document) is Decision.IMPLICIT_DENY
    for operator, request_value, expected in [
            ("NumericEquals", 5, True), ("NumericNotEquals", 5, False),
            ("NumericLessThan", 5, False), ("NumericGreaterThan", 6, True),
            ("NumericGreaterThanEquals", 5, True), ("NumericLessThan", "four", False)]:
        assert conditions_hold({operator: {"k": "5"}}, {"k": request_value}) is expected, operator


# reference_policies_elements_condition_operators.html, Boolean: the bucket policy that denies
# requests not sent over TLS ({"Bool": {"aws:SecureTransport": "false"}}).
def test_bool_secure_transport_deny():
    bucket_policy = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                           {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::b/*"})
    get = Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE},
                  context={"aws:SecureTransport": "true"})
    assert evaluate(get, resource_policy=bucket_policy) is Decision.ALLOW
    plain = Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE},
                    context={"aws:SecureTransport": False})
    assert evaluate(plain, resource_policy=bucket_policy) is Decision.EXPLICIT_DENY


# reference_policies_elements_condition_operators.html, ARN: the SQS queue policy that lets an
# SNS topic send ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"}}).
@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
def test_arn_condition_in_a_queue_policy(operator):
    queue = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:queue"
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic"
    queue_policy = policy({"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                           "Action": "sqs:SendMessage", "Resource": queue,
                           "Condition": {operator: {"aws:SourceArn": topic}}})
    sns = {"Service": "sns.amazonaws.com"}
    assert is_allowed(Request("sqs:SendMessage", queue, sns, {"aws:SourceArn": topic}),
                      resource_policy=queue_policy)
    assert not is_allowed(Request("sqs:SendMessage", queue, sns, {"aws:SourceArn": topic + "2"}),
                          resource_policy=queue_policy)
    assert not is_allowed(Request("sqs:SendMessage", queue, sns), resource_policy=queue_policy)
    other = {"Service": "events.amazonaws.com"}
    assert not is_allowed(Request("sqs:SendMessage", queue, other, {"aws:SourceArn": topic}),
                          resource_policy=queue_policy)


# reference_policies_elements_condition_operators.html, IfExists: allow RunInstances for t1/t2/m3
# types; a resource in the same request that has no instance type passes the condition.
def test_if_exists_example():
    document = policy({"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                       "Condition": {"StringLikeIfExists": {
                           "ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}})
    assert decide("ec2:RunInstances", "*", document, **{"ec2:InstanceType": "t2.micro"}) is \
        Decision.ALLOW
    assert decide("ec2:RunInstances", "*", document, **{"ec2:InstanceType": "m5.large"}) is \
        Decision.IMPLICIT_DENY
    assert decide("ec2:RunInstances", "*", document) is Decision.ALLOW


# reference_policies_elements_condition_operators.html, Null: {"Null": {"aws:TokenIssueTime":
# "true"}} holds when the key is absent (long-term credentials).
def test_null():
    assert conditions_hold({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not conditions_hold({"Null": {"aws:TokenIssueTime": "true"}},
                               {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
    assert conditions_hold({"Null": {"aws:TokenIssueTime": "false"}},
                           {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})


# reference_policies_condition_examples-multi-valued-context-keys.html: "DenyRestrictedTags"
# (ForAllValues:StringLike over aws:TagKeys with a Null check) and the EC2 snapshot example
# (ForAnyValue:StringEquals {"aws:TagKeys": ["environment", "webserver"]}).
def test_multivalued_for_all_values_with_null_check():
    document = policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
                      {"Sid": "DenyRestrictedTags", "Effect": "Deny",
                       "Action": ["iam:Tag*", "iam:UnTag*"], "Resource": ["*"],
                       "Condition": {"Null": {"aws:TagKeys": "false"},
                                     "ForAllValues:StringLike": {
                                         "aws:TagKeys": ["key1*", "key2*", "key3*"]}}})
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    assert decide("iam:TagRole", role, document, **{"aws:TagKeys": ["key1a", "key3b"]}) is \
        Decision.EXPLICIT_DENY
    assert decide("iam:TagRole", role, document, **{"aws:TagKeys": ["key1a", "other"]}) is \
        Decision.ALLOW
    # Without the Null check ForAllValues would be vacuously true for a request with no tags.
    assert decide("iam:TagRole", role, document) is Decision.ALLOW
    assert conditions_hold({"ForAllValues:StringLike": {"aws:TagKeys": ["key1*"]}}, {})


def test_multivalued_for_any_value():
    document = policy({"Effect": "Allow", "Action": "ec2:CreateSnapshot", "Resource": "*"},
                      {"Effect": "Deny", "Action": "ec2:CreateSnapshot", "Resource": "*",
                       "Condition": {"ForAnyValue:StringEquals": {
                           "aws:TagKeys": ["environment", "webserver"]}}})
    assert decide("ec2:CreateSnapshot", "*", document,
                  **{"aws:TagKeys": ["owner", "webserver"]}) is Decision.EXPLICIT_DENY
    assert decide("ec2:CreateSnapshot", "*", document, **{"aws:TagKeys": ["owner"]}) is \
        Decision.ALLOW
    assert decide("ec2:CreateSnapshot", "*", document) is Decision.ALLOW


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


# reference_policies_elements_principal.html, AWS account principals: naming an account in a
# resource policy delegates to that account's IAM policies; it grants nothing by itself.
def test_account_principal_delegates_to_identity_policies():
    bucket_policy = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    get = Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": ROLE})
    assert evaluate(get, resource_policy=bucket_policy) is Decision.IMPLICIT_DENY
    identity = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert evaluate(get, resource_policy=bucket_policy, identity_policies=[identity]) is \
        Decision.ALLOW
    # A principal named directly is granted by the resource policy alone (same account).
    direct = policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::b/*"})
    assert evaluate(get, resource_policy=direct) is Decision.ALLOW
    stranger = Request("s3:GetObject", "arn:aws:s3:::b/k",
                       principal={"AWS": "arn:aws:iam::999999999999:role/app"})
    assert evaluate(stranger, resource_policy=direct) is Decision.IMPLICIT_DENY


# KMS Developer Guide, key-policies.html: an IAM policy alone never grants use of a key; the key
# policy must allow the principal or let the account's IAM decide.
def test_key_policy_gates_iam():
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"
    identity = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    decrypt = Request("kms:Decrypt", key, principal={"AWS": ROLE})
    locked = policy({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                     "Action": "kms:*", "Resource": "*"})
    assert evaluate(decrypt, identity_policies=[identity], resource_policy=locked,
                    key_policy=True) is Decision.IMPLICIT_DENY
    delegating = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                         "Action": "kms:*", "Resource": "*"})
    assert evaluate(decrypt, identity_policies=[identity], resource_policy=delegating,
                    key_policy=True) is Decision.ALLOW
    assert evaluate(decrypt, resource_policy=delegating, key_policy=True) is \
        Decision.IMPLICIT_DENY


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
