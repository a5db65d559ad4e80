"""The delivery project under mocks: exact trust policies, Deployments settings, policy groups,
ESC environments and token-exchange rules; and its refusals of unsafe input."""

import json

import pytest
import yaml
from conftest import PROJECT, inputs, one

from shipyard_preview.analyzer import analyze
from shipyard_preview.engine import run_program
from shipyard_preview.stack_config import load_stack_config

DELIVERY = PROJECT / "delivery"
ORG, PROJECT_NAME, ACCOUNT = "acme-corp", "shipyard", "111122223333"
PULUMI_OIDC = "api.pulumi.com/oidc"
GITHUB_OIDC = "token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def delivery():
    return run_program(DELIVERY, load_stack_config(DELIVERY, "org"))


def role(recording, name):
    return one(recording, "aws:iam/role:Role", name)


def test_oidc_providers_and_audiences(delivery):
    providers = inputs(delivery, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert providers["pulumi-cloud-oidc"]["url"] == "https://api.pulumi.com/oidc"
    assert providers["pulumi-cloud-oidc"]["clientIdLists"] == [ORG, f"aws:{ORG}"]
    assert providers["github-oidc"]["url"] == "https://token.actions.githubusercontent.com"
    assert providers["github-oidc"]["clientIdLists"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_role_trusts_only_its_stack(delivery, stack):
    trust = json.loads(role(delivery, f"deploy-{stack}")["assumeRolePolicy"])
    federated = trust["Statement"][0]["Principal"]["Federated"]
    assert federated == f"arn:aws:iam::{ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
    assert trust["Statement"] == [
        {"Sid": "DeploymentsOfThisStack", "Effect": "Allow",
         "Principal": {"Federated": federated}, "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {
             "StringEquals": {f"{PULUMI_OIDC}:aud": ORG},
             "StringLike": {f"{PULUMI_OIDC}:sub":
                            f"pulumi:deploy:org:{ORG}:project:{PROJECT_NAME}:stack:{stack}"
                            ":operation:*:scope:write"}}},
        {"Sid": "EscEnvironmentOfThisStack", "Effect": "Allow",
         "Principal": {"Federated": federated}, "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {
             f"{PULUMI_OIDC}:aud": f"aws:{ORG}",
             f"{PULUMI_OIDC}:sub": f"pulumi:environments:org:{ORG}:env:{PROJECT_NAME}/aws-{stack}"}}},
    ]
    assert role(delivery, f"deploy-{stack}")["name"] == f"shipyard-deploy-{stack}"


def test_preview_role_trusts_pull_requests_of_this_repository_in_both_subject_forms(delivery):
    trust = json.loads(role(delivery, "preview-readonly")["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC}"}
    assert statement["Condition"] == {"StringEquals": {
        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
        f"{GITHUB_OIDC}:sub": ["repo:acme-corp/shipyard:pull_request",
                               "repo:acme-corp@1234567/shipyard@7654321:pull_request"]}}
    policy = json.loads(one(delivery, "aws:iam/rolePolicy:RolePolicy", "preview-readonly")["policy"])
    actions = sorted(a for s in policy["Statement"] for a in
                     (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
    assert actions == ["ec2:DescribeAvailabilityZones", "ec2:DescribeRouteTables",
                       "ec2:DescribeVpcs", "ecr:GetAuthorizationToken"]


def test_deploy_role_creates_roles_only_under_the_boundary(delivery):
    policy = json.loads(one(delivery, "aws:iam/rolePolicy:RolePolicy", "deploy-prod")["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/shipyard-workload-boundary"
    assert by_sid["RolesOnlyUnderTheBoundary"]["Condition"] == {
        "StringEquals": {"iam:PermissionsBoundary": boundary}}
    assert "iam:CreateRole" in by_sid["RolesOnlyUnderTheBoundary"]["Action"]
    assert all("iam:CreateRole" not in s["Action"] for sid, s in by_sid.items()
               if sid != "RolesOnlyUnderTheBoundary" and s["Effect"] == "Allow")
    assert by_sid["PassOwnRolesToEcsTasksOnly"] == {
        "Sid": "PassOwnRolesToEcsTasksOnly", "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": [f"arn:aws:iam::{ACCOUNT}:role/{p}-*"
                     for p in ("web", "cluster", "network", "alb-logs")],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}
    deny = by_sid["NeverLoosenTheBoundaryOrTheDeployers"]
    assert deny["Effect"] == "Deny" and boundary in deny["Resource"]
    assert f"arn:aws:iam::{ACCOUNT}:role/shipyard-deploy-prod" in deny["Resource"]
    assert by_sid["OwnRepositories"]["Resource"][0] == (
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web-*")
    boundary_doc = json.loads(one(delivery, "aws:iam/policy:Policy")["policy"])
    assert {s["Sid"] for s in boundary_doc["Statement"]} == {
        "EcrToken", "PullOwnImages", "WriteOwnLogs", "ReadOwnSecrets", "DecryptProjectKeys",
        "EcsExecChannel"}


def test_deployment_settings(delivery):
    settings = inputs(delivery, "pulumiservice:index:DeploymentSettings")
    staging, prod = settings["deployments-staging"], settings["deployments-prod"]
    assert staging["vcs"]["deployCommits"] is True
    assert prod["vcs"]["deployCommits"] is False
    for stack, s in (("staging", staging), ("prod", prod)):
        assert "github" not in s
        assert s["vcs"]["provider"] == "github" and s["vcs"]["repository"] == "acme-corp/shipyard"
        assert s["vcs"]["previewPullRequests"] is True
        assert s["vcs"]["paths"] == ["__main__.py", "stack_settings.py", "Pulumi.yaml",
                                     f"Pulumi.{stack}.yaml", "components/**", "policy/**",
                                     "app/**", "pyproject.toml", "uv.lock"]
        assert s["sourceContext"] == {"git": {
            "repoUrl": "https://github.com/acme-corp/shipyard.git", "branch": "refs/heads/main",
            "repoDir": "."}}
        context = s["operationContext"]
        assert context["preRunCommands"] == [
            "python3 -m pip install --quiet 'uv==0.13.9'", "uv sync --locked --group dev",
            ".venv/bin/python -m pytest -q -p no:cacheprovider",
            f".venv/bin/shipyard preview {stack}"]
        assert context["options"] == {"skipInstallDependencies": True}
        assert context["oidc"]["aws"]["roleARN"] == (
            f"arn:aws:iam::{ACCOUNT}:role/shipyard-deploy-{stack}")
        assert s["cacheOptions"] == {"enable": True}


def test_policy_groups_are_preventative_per_stack(delivery):
    groups = inputs(delivery, "pulumiservice:index:PolicyGroup")
    for stack in ("staging", "prod"):
        group = groups[f"guardrails-{stack}"]
        assert group["mode"] == "preventative" and group["entityType"] == "stacks"
        assert group["stacks"] == [{"name": stack, "routingProject": "shipyard"}]
        (pack,) = group["policyPacks"]
        assert pack["name"] == "shipyard-guardrails" and pack["versionTag"] == "0.1.0"
        assert pack["config"] == json.loads(
            (PROJECT / "policy" / f"config.{stack}.json").read_text())


def test_esc_environments_log_in_with_the_stack_role(delivery):
    environments = {r.name: r for r in delivery.resources
                    if r.type == "pulumiservice:index:Environment"}
    assert sorted(environments) == ["aws-prod", "aws-staging"]
    props = inputs(delivery, "pulumiservice:index:Environment")["aws-prod"]
    assert (props["organization"], props["project"], props["name"]) == (
        ORG, "shipyard", "aws-prod")
    text = props["yaml"]["text"] if isinstance(props["yaml"], dict) else props["yaml"]
    body = yaml.safe_load(text.get("text", text) if isinstance(text, dict) else text)
    oidc = body["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]
    assert oidc["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/shipyard-deploy-prod"
    assert set(body["values"]["environmentVariables"]) == {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_stack_files_import_their_environment():
    for stack in ("staging", "prod"):
        doc = yaml.safe_load((PROJECT / f"Pulumi.{stack}.yaml").read_text())
        assert doc["environment"] == [f"shipyard/aws-{stack}"]


def test_github_token_exchange(delivery):
    issuer = one(delivery, "pulumiservice:index:OidcIssuer")
    assert issuer["url"] == "https://token.actions.githubusercontent.com"
    assert issuer["policies"] == [
        {"decision": "allow", "tokenType": "team", "teamName": "shipyard-previewers",
         "rules": {"aud": "urn:pulumi:org:acme-corp",
                   "sub": "repo:acme-corp/shipyard:pull_request"}},
        {"decision": "allow", "tokenType": "team", "teamName": "shipyard-previewers",
         "rules": {"aud": "urn:pulumi:org:acme-corp",
                   "sub": "repo:acme-corp@1234567/shipyard@7654321:pull_request"}},
        {"decision": "allow", "tokenType": "organization", "authorizedPermissions": ["admin"],
         "rules": {"aud": "urn:pulumi:org:acme-corp",
                   "sub": "repo:acme-corp/shipyard:environment:production"}},
        {"decision": "allow", "tokenType": "organization", "authorizedPermissions": ["admin"],
         "rules": {"aud": "urn:pulumi:org:acme-corp",
                   "sub": "repo:acme-corp@1234567/shipyard@7654321:environment:production"}},
    ]


def test_delivery_iam_passes_the_policy_pack(delivery):
    run = analyze(delivery, PROJECT / "policy")
    assert [(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run.verdicts
            if v.enforcement_level == "mandatory"] == []
