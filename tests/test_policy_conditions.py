"""Class 3 of issue 18: a condition is judged by the principals and requests it admits, through
the running pack: patterns that admit other accounts or repositories fail, IfExists and
ForAllValues (which admit an absent key) fail, denies that do not cover what they protect do not
count; equivalent compliant spellings (operator and key case, ForAnyValue, StringLike without a
wildcard, an extra clause that only narrows) pass."""

import pytest
from conftest import recorded
from policy_helpers import allow, document, messages, stack_messages

ACCOUNT = "111122223333"
ROLE = "aws:iam/role:Role"
GITHUB_HOST = "token.actions.githubusercontent.com"
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_HOST}"
ECS_TRUST = ("statement #1 trusts ecs-tasks.amazonaws.com without an aws:SourceAccount or "
             "aws:SourceArn condition that confines it to an account.")


def ecs_trust(condition: dict | None, service: str = "ecs-tasks.amazonaws.com") -> dict:
    statement = {"Effect": "Allow", "Principal": {"Service": service},
                 "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return {"assumeRolePolicy": document(statement)}


@pytest.mark.parametrize("condition", [
    {"StringLike": {"aws:SourceAccount": "1111*"}},
    {"StringLike": {"aws:SourceAccount": "11112222333?"}},
    {"StringLike": {"aws:SourceAccount": "*"}},
    {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}},
    {"ForAllValues:StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringNotEquals": {"aws:SourceAccount": "444455556666"}},
    {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}},
    {"StringEquals": {"aws:SourceAccount": "not-an-account"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:eu-west-1:*:*"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:eu-west-1:1111*:*"}},
    {"ArnLikeIfExists": {"aws:SourceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:*"}},
    {"StringEquals": {"aws:SourceOrgID": "o-abc123"}},  # an organization is not an account
])
def test_conditions_that_admit_other_accounts_fail(pack, condition):
    assert messages(pack, "iam-trust-scoped", ROLE, ecs_trust(condition)) == [ECS_TRUST]


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"stringequals": {"AWS:SOURCEACCOUNT": ACCOUNT}},
    {"StringEqualsIgnoreCase": {"aws:sourceaccount": [ACCOUNT]}},
    {"StringLike": {"aws:SourceAccount": ACCOUNT}},
    {"ForAnyValue:StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringLike": {"aws:SourceAccount": "*"}, "StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:*"}},
    {"ArnEquals": {"aws:SourceArn": f"arn:aws:ecs:*:{ACCOUNT}:task/*"}},
    {"StringEquals": {"aws:SourceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/web/1"}},
])
def test_equivalent_confining_spellings_pass(pack, condition):
    assert messages(pack, "iam-trust-scoped", ROLE, ecs_trust(condition)) == []


def test_the_service_principal_is_recognized_in_any_case(pack):
    assert messages(pack, "iam-trust-scoped", ROLE,
                    ecs_trust(None, service="ECS-Tasks.amazonaws.com")) == [
        "statement #1 trusts ecs-tasks.amazonaws.com without an aws:SourceAccount or "
        "aws:SourceArn condition that confines it to an account."]


def github_trust(sub: object, operator: str = "StringLike") -> dict:
    condition: dict = {"StringEquals": {f"{GITHUB_HOST}:aud": "sts.amazonaws.com"}}
    condition.setdefault(operator, {})[f"{GITHUB_HOST}:sub"] = sub
    return {"assumeRolePolicy": document({
        "Effect": "Allow", "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition})}


ANY_SUB = (f"statement #1 trusts {GITHUB_HOST} with a '{GITHUB_HOST}:sub' condition that admits "
           "any value; name the repository (or audience) exactly.")


@pytest.mark.parametrize("sub,operator,expected", [
    ("repo:org/app:ref:refs/heads/main", "StringEquals", []),
    ("repo:org/app:*", "StringLike", []),
    ("repo:org/app:environment:prod", "StringLike", []),
    (["repo:org/app:pull_request", "repo:org/app:environment:*"], "StringLike", []),
    ("repo:org/app*", "StringLike", [ANY_SUB]),       # admits repo:org/app-evil:...
    ("repo:org/*:ref:refs/heads/main", "StringLike", [ANY_SUB]),
    ("repo:*", "StringLike", [ANY_SUB]),
    ("repo:org/ap?:*", "StringLike", [ANY_SUB]),
    ("repo:org/app:*", "StringLikeIfExists", [ANY_SUB]),
    ("repo:org/app:*", "ForAllValues:StringLike", [ANY_SUB]),
    ("*", "StringEquals", [ANY_SUB]),
])
def test_oidc_subjects_by_the_repositories_they_admit(pack, sub, operator, expected):
    assert messages(pack, "iam-trust-scoped", ROLE, github_trust(sub, operator)) == expected


REPO_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
PUBLIC = ("statement #1 allows principal '*' without a condition that confines it to an "
          "organization or account; name the accounts or roles that may pull, or add "
          "aws:PrincipalOrgID.")
PULL = {"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage",
                                                          "ecr:GetDownloadUrlForLayer"]}


@pytest.mark.parametrize("statements,expected", [
    ([{**PULL, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}], []),
    ([{**PULL, "Condition": {"StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/*"}}}],
     []),
    ([{**PULL, "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}}],
     []),
    ([{**PULL, "Condition": {"StringLike": {"aws:PrincipalOrgID": "o-*"}}}], [PUBLIC]),
    ([{**PULL, "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}}],
     [PUBLIC]),
    # Allow '*' and deny everyone outside the organization: confined.
    ([PULL, {"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}], []),
    ([PULL, {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}}], []),
    # Denies that do not cover what the Allow grants, or not everyone outside.
    ([PULL, {"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}], [PUBLIC]),
    ([PULL, {"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"},
                           "Bool": {"aws:SecureTransport": "false"}}}], [PUBLIC]),
    ([PULL, {"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
             "Condition": {"StringNotLike": {"aws:PrincipalOrgID": "o-*"}}}], [PUBLIC]),
    ([PULL, {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "ecr:*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}], [PUBLIC]),
])
def test_public_repository_policies_by_who_they_admit(pack, statements, expected):
    assert messages(pack, "ecr-repo-policy-not-public", REPO_POLICY,
                    {"policy": document(*statements)}) == expected


@pytest.mark.parametrize("condition,pinned", [
    ({"StringEquals": {"aws:ResourceTag/project": "shipyard"}}, True),
    ({"stringEqualsIgnoreCase": {"AWS:RESOURCETAG/project": "shipyard"}}, True),
    ({"ForAnyValue:StringEquals": {"aws:ResourceTag/project": ["shipyard"]}}, True),
    ({"StringLike": {"aws:ResourceTag/project": "shipyard"}}, True),
    ({"StringLike": {"aws:ResourceTag/project": "ship*"}}, False),
    ({"StringEqualsIfExists": {"aws:ResourceTag/project": "shipyard"}}, False),
    ({"StringNotEquals": {"aws:ResourceTag/project": "other"}}, False),
])
def test_tag_conditions_confine_by_what_they_admit(pack, condition, pinned):
    statement = allow("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
                      Condition=condition)
    found = messages(pack, "iam-kms-decrypt-scoped", "aws:iam/rolePolicy:RolePolicy",
                     {"policy": document(statement)})
    assert (found == []) is pinned


def bucket_graph(deny: dict) -> list:
    bucket = recorded("aws:s3/bucket:Bucket", "logs", {})
    lb = recorded("aws:lb/loadBalancer:LoadBalancer", "alb",
                  {"accessLogs": {"bucket": "logs-1", "enabled": True, "prefix": "web"}},
                  deps={"accessLogs": [bucket]})
    block = recorded("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab",
                     {k: True for k in ("blockPublicAcls", "blockPublicPolicy",
                                        "ignorePublicAcls", "restrictPublicBuckets")},
                     deps={"bucket": [bucket]})
    policy = recorded("aws:s3/bucketPolicy:BucketPolicy", "policy",
                      {"bucket": "logs-1", "policy": document(deny)}, deps={"bucket": [bucket]})
    expiry = recorded("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lc",
                      {"rules": [{"id": "x", "status": "Enabled", "expiration": {"days": 90},
                                  "filter": {"prefix": ""}}]}, deps={"bucket": [bucket]})
    return [bucket, lb, block, policy, expiry]


TLS = [("logs", "The access-log bucket does not deny every request without TLS (a Deny of s3:* "
                "to every principal on the bucket and its objects when aws:SecureTransport is "
                "false).")]
DENY = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::logs-1", "arn:aws:s3:::logs-1/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.mark.parametrize("change,expected", [
    ({}, []),
    ({"Condition": {"Bool": {"aws:securetransport": False}}}, []),
    ({"Condition": {"BoolIfExists": {"aws:SecureTransport": ["false"]}}}, []),
    ({"Resource": "*"}, []),
    ({"Principal": {"AWS": "*"}}, []),
    ({"Resource": "arn:aws:s3:::logs-1"}, TLS),            # objects not covered
    ({"Resource": "arn:aws:s3:::other/*"}, TLS),           # another bucket
    ({"Action": ["s3:GetObject"]}, TLS),                    # writes not covered
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, TLS),
    ({"Condition": {"Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}, TLS),
    ({"Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}, TLS),
])
def test_a_tls_deny_must_cover_the_bucket_it_protects(pack, change, expected):
    graph = bucket_graph({**DENY, **change})
    assert stack_messages(pack, "s3-log-bucket-hardened", graph) == expected


def test_an_expiration_for_another_prefix_does_not_expire_the_logs(pack):
    graph = bucket_graph(DENY)
    graph[-1] = recorded("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                         "lc", {"rules": [{"id": "x", "status": "Enabled",
                                           "expiration": {"days": "90"},
                                           "filter": {"prefix": "other/"}}]},
                         deps={"bucket": [graph[0]]})
    assert stack_messages(pack, "s3-log-bucket-hardened", graph) == [
        ("logs", "The access-log bucket never expires old logs.")]
