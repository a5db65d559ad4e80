"""The delivery project under mocks: exact trust policies, Deployments settings, policy groups,
ESC environments and token-exchange rules; and its refusals of unsafe input."""

import json

import pytest
import yaml
from conftest import PROJECT, committed_stack_config, inputs, one
from delivery_mocks import ORG_FILE, PACK_VERSION, delivery_run
from shipyard_delivery.app_stacks import PROGRAM_NAMES

from shipyard_preview.analyzer import analyze

DELIVERY = PROJECT / "delivery"
ORG, PROJECT_NAME, ACCOUNT = "acme-corp", "shipyard", "111122223333"


def resource_prefixes(stack: str) -> list[str]:
    """What the stack's resources are named after: its services (as its stack file lists them),
    then the program's own top-level names."""
    services = json.loads(committed_stack_config(stack).config["shipyard:services"])
    return list(dict.fromkeys([*(s["name"] for s in services), *PROGRAM_NAMES]))
PULUMI_OIDC = "api.pulumi.com/oidc"
GITHUB_OIDC = "token.actions.githubusercontent.com"
_STACKS = yaml.safe_load(ORG_FILE.read_text())["config"][
    "shipyard-delivery:stacks"]
STACK_ACCOUNTS = {name: str(entry.get("aws_account_id", ACCOUNT)) for name, entry in _STACKS.items()}


@pytest.fixture(scope="module")
def delivery():
    return delivery_run()


def role(recording, name):
    return one(recording, "aws:iam/role:Role", name)


def test_oidc_providers_and_audiences(delivery):
    providers = inputs(delivery, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert providers["pulumi-cloud-oidc"]["url"] == "https://api.pulumi.com/oidc"
    # Only ESC tokens ("aws:<org>") are trusted; Deployments' own OIDC (audience <org>) is not.
    assert providers["pulumi-cloud-oidc"]["clientIdLists"] == [f"aws:{ORG}"]
    assert providers["github-oidc"]["url"] == "https://token.actions.githubusercontent.com"
    assert providers["github-oidc"]["clientIdLists"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_role_trusts_only_its_esc_environment_by_its_exact_subject(delivery, stack):
    trust = json.loads(role(delivery, f"deploy-{stack}")["assumeRolePolicy"])
    federated = f"arn:aws:iam::{ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
    # Pulumi ESC docs, "Configuring OIDC" > "Custom token claim": with subjectAttributes the
    # subject is the fixed prefix plus `:<attribute>:<value>` pairs.
    assert trust["Statement"] == [
        {"Sid": "EscEnvironmentOfThisStack", "Effect": "Allow",
         "Principal": {"Federated": federated}, "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {
             f"{PULUMI_OIDC}:aud": f"aws:{ORG}",
             f"{PULUMI_OIDC}:sub": "pulumi:environments:pulumi.organization.login:acme-corp"
                                   f":currentEnvironment.name:shipyard/aws-{stack}"}}},
    ]
    assert role(delivery, f"deploy-{stack}")["name"] == f"shipyard-deploy-{stack}"


def _policy(recording, name):
    return json.loads(one(recording, "aws:iam/policy:Policy", name)["policy"])


def _actions(document):
    return sorted(a for s in document["Statement"] for a in
                  (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))


def test_preview_role_trusts_pull_requests_of_this_repository_in_both_subject_forms(delivery):
    trust = json.loads(role(delivery, "preview-readonly")["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC}"}
    assert statement["Condition"] == {"StringEquals": {
        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
        f"{GITHUB_OIDC}:sub": ["repo:acme-corp/shipyard:pull_request",
                               "repo:acme-corp@1234567/shipyard@7654321:pull_request"]}}
    policy = json.loads(one(delivery, "aws:iam/rolePolicy:RolePolicy", "preview-readonly")["policy"])
    assert _actions(policy) == ["ec2:DescribeAvailabilityZones", "ec2:DescribeRouteTables",
                                "ec2:DescribeVpcs", "ecr:DescribeImages",
                                "ecr:GetAuthorizationToken", "ecs:DescribeServices",
                                "ecs:DescribeTaskDefinition", "ecs:ListServices"]


def test_a_stack_in_its_own_account_gets_its_own_preview_role_and_deploy_role():
    recording = delivery_run()
    assert sorted(inputs(recording, "aws:iam/role:Role")) == [
        "artifacts-builder", "deploy-prod", "deploy-staging", "preview-readonly",
        "preview-readonly-444455556666"]
    provider = one(recording, "pulumi:providers:aws", "aws-444455556666")
    assert json.loads(provider["allowedAccountIds"]) == ["444455556666"]
    assert json.loads(provider["assumeRoles"]) == [{
        "roleArn": "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole",
        "sessionName": "shipyard-delivery"}]
    in_prod_account = {(r.type, r.name) for r in recording.resources
                       if "::aws-444455556666::" in r.provider}
    assert in_prod_account == {
        ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "pulumi-cloud-oidc-444455556666"),
        ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc-444455556666"),
        ("aws:iam/policy:Policy", "workload-boundary-444455556666"),
        ("aws:iam/role:Role", "deploy-prod"),
        ("aws:iam/role:Role", "preview-readonly-444455556666"),
        ("aws:iam/rolePolicy:RolePolicy", "preview-readonly-444455556666"),
        *{(t, n) for t in ("aws:iam/policy:Policy",
                           "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          for n in inputs(recording, t) if n.startswith("deploy-prod-")}}
    parts = {n.removeprefix("deploy-prod-") for n in inputs(recording, "aws:iam/policy:Policy")
             if n.startswith("deploy-prod-")}
    assert {"read", "network", "edge", "firewall", "compute", "scaling", "storage",
            "identity"} <= parts
    assert set(recording.outputs["preview_roles"]) == {"staging", "prod"}


def test_artifacts_builder_trusts_only_the_artifacts_environment(delivery):
    trust = json.loads(role(delivery, "artifacts-builder")["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Condition"] == {"StringEquals": {
        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
        f"{GITHUB_OIDC}:sub": ["repo:acme-corp/shipyard:environment:artifacts",
                               "repo:acme-corp@1234567/shipyard@7654321:environment:artifacts"]}}
    policy = json.loads(one(delivery, "aws:iam/rolePolicy:RolePolicy", "artifacts-builder")["policy"])
    repositories = {s["Sid"]: s for s in policy["Statement"]}["PushToArtifactRepositories"]
    # Push and read only: no repository, mutability, lifecycle, policy or image deletion call.
    assert repositories["Action"] == [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
        "ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:ListImages",
        "ecr:PutImage", "ecr:UploadLayerPart"]
    # Exactly the artifacts stack's repositories, one per service container built from source.
    built = dict.fromkeys(
        f"{service['name']}/{container['name']}" for stack in ("staging", "prod")
        for service in json.loads(committed_stack_config(stack).config["shipyard:services"])
        for container in service["containers"] if "source" in container)
    assert repositories["Resource"] == [
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/shipyard/{name}" for name in built]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_role_creates_roles_only_under_the_boundary_and_never_retrusts(delivery, stack):
    identity = _policy(delivery, f"deploy-{stack}-identity")
    by_sid = {s["Sid"]: s for s in identity["Statement"]}
    account = STACK_ACCOUNTS[stack]
    boundary = f"arn:aws:iam::{account}:policy/shipyard-workload-boundary"
    creating = [s for s in identity["Statement"] if "iam:CreateRole" in s["Action"]]
    assert len(creating) == 1
    assert creating[0]["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == boundary
    assert creating[0]["Condition"]["StringEquals"]["aws:RequestTag/environment"] == stack
    assert by_sid["PassOwnRolesToTheirServicesOnly"] == {
        "Sid": "PassOwnRolesToTheirServicesOnly", "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": [f"arn:aws:iam::{account}:role/{p}-*"
                     for p in resource_prefixes(stack)],
        "Condition": {"StringEquals": {"iam:PassedToService": [
            "ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "vpc-flow-logs.amazonaws.com"]}}}
    assert by_sid["NeverRetrustOrLoosen"]["Effect"] == "Deny"
    assert "iam:UpdateAssumeRolePolicy" in by_sid["NeverRetrustOrLoosen"]["Action"]
    assert by_sid["NeverRetrustOrLoosen"]["Resource"] == "*"
    assert by_sid["NeverTouchTheDeployers"]["Resource"] == [
        boundary, f"arn:aws:iam::{account}:role/shipyard-deploy-staging",
        f"arn:aws:iam::{account}:role/shipyard-deploy-prod"]
    attached = {a["policyArn"].rsplit("/", 1)[-1]
                for n, a in inputs(delivery, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                .items() if n.startswith(f"deploy-{stack}-")}
    assert attached == {f"shipyard-{n}" for n in inputs(delivery, "aws:iam/policy:Policy")
                        if n.startswith(f"deploy-{stack}-")}
    boundary_doc = _policy(delivery, "workload-boundary")
    # A part per role kind (tests/test_effective_permissions.py evaluates what each allows).
    assert {s["Sid"] for s in boundary_doc["Statement"]} == {
        "EcrToken", "PullOwnImages", "WriteOwnLogs", "ReadOwnSecrets", "DecryptProjectKeys",
        "EcsExecChannel", "ReadLoadBalancerState", "MoveTasksBetweenProjectTargetGroups",
        "ShiftTrafficOnProjectRules", "FindLogGroups", "DescribeProjectLogStreams"}


def test_deployment_settings(delivery):
    settings = inputs(delivery, "pulumiservice:index:DeploymentSettings")
    for stack in ("staging", "prod"):
        s = settings[f"deployments-{stack}"]
        assert "github" not in s
        # Deployments neither deploys on push nor previews pull requests: the workflows start
        # runs, and a Deployments PR preview would run PR code with the stack's credentials.
        # The committed stack's own source folders (app/ for the sample), in service order.
        sources = dict.fromkeys(
            c["source"].strip("/") for service in json.loads(
                committed_stack_config(stack).config["shipyard:services"])
            for c in service["containers"] if "source" in c)
        assert s["vcs"] == {
            "provider": "github", "repository": "acme-corp/shipyard", "deployCommits": False,
            "previewPullRequests": False, "pullRequestTemplate": False,
            "paths": ["__main__.py", "stack_settings.py", "stack_topology.py",
                      "artifact_images.py", "Pulumi.yaml", "components/**", "policy/**",
                      "pyproject.toml", "uv.lock", f"Pulumi.{stack}.yaml",
                      *[f"{source}/**" for source in sources]]}
        assert s["sourceContext"] == {"git": {"branch": "refs/heads/main", "repoDir": "."}}
        assert s["executorContext"] == {"executorImage": "pulumi/pulumi:3.272.0"}
        context = s["operationContext"]
        assert context["preRunCommands"] == [
            "python3 -m pip install --quiet 'uv==0.13.9'", "uv sync --locked --group dev",
            ".venv/bin/python -m pytest -q -p no:cacheprovider",
            f".venv/bin/shipyard preview {stack}"]
        assert context == {"preRunCommands": context["preRunCommands"],
                           "options": {"skipInstallDependencies": True}}  # no `oidc` block
        assert s["cacheOptions"] == {"enable": True}


def test_review_stacks_come_only_from_non_production_stacks():
    recording = delivery_run(review_stacks=True)
    settings = inputs(recording, "pulumiservice:index:DeploymentSettings")
    assert settings["deployments-staging"]["vcs"]["pullRequestTemplate"] is True
    assert settings["deployments-prod"]["vcs"]["pullRequestTemplate"] is False


def test_policy_groups_are_preventative_per_stack_on_the_published_version(delivery):
    groups = inputs(delivery, "pulumiservice:index:PolicyGroup")
    for stack in ("staging", "prod"):
        group = groups[f"guardrails-{stack}"]
        assert group["mode"] == "preventative" and group["entityType"] == "stacks"
        assert group["stacks"] == [{"name": stack, "routingProject": "shipyard"}]
        (pack,) = group["policyPacks"]
        assert pack["name"] == "shipyard-guardrails" and pack["versionTag"] == PACK_VERSION
        assert pack["config"] == json.loads(
            (PROJECT / "policy" / f"config.{stack}.json").read_text())


def test_esc_environments_log_in_with_the_stack_role_and_the_trusted_subject(delivery):
    environments = {r.name: r for r in delivery.resources
                    if r.type == "pulumiservice:index:Environment"}
    assert sorted(environments) == ["aws-prod", "aws-staging"]
    props = inputs(delivery, "pulumiservice:index:Environment")["aws-prod"]
    assert (props["organization"], props["project"], props["name"]) == (
        ORG, "shipyard", "aws-prod")
    text = props["yaml"]["text"] if isinstance(props["yaml"], dict) else props["yaml"]
    body = yaml.safe_load(text.get("text", text) if isinstance(text, dict) else text)
    oidc = body["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]
    assert oidc["roleArn"].endswith(":role/shipyard-deploy-prod")
    assert oidc["subjectAttributes"] == ["currentEnvironment.name"]
    # The delivered stack deploys the artifacts stack's digests.
    # and, being production, only the digests a release passes.
    assert body["values"]["pulumiConfig"] == {"shipyard:artifacts_registry": ACCOUNT,
                                              "shipyard:released_digests_required": "true"}
    assert set(body["values"]["environmentVariables"]) == {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_only_releasers_open_prod_and_changes_to_it_need_their_approval(delivery):
    permissions = inputs(delivery, "pulumiservice:index:TeamEnvironmentPermission")
    assert sorted((p["environment"], p["team"], p["permission"], p["maxOpenDuration"])
                  for p in permissions.values()) == [
        ("aws-prod", "shipyard-releasers", "open", "1h"),
        ("aws-staging", "shipyard-deployers", "open", "1h")]
    # Machine teams: nobody is a member.
    assert {t["name"]: t["members"] for t in inputs(delivery, "pulumiservice:index:Team")
            .values()} == {"shipyard-previewers": [], "shipyard-deployers": [],
                           "shipyard-releasers": []}
    rule = one(delivery, "pulumiservice:index:ApprovalRule")
    assert rule["environmentIdentifier"] == {"organization": ORG, "project": "shipyard",
                                             "name": "aws-prod"}
    assert rule["targetActionTypes"] == ["update"]
    assert rule["approvalRuleConfig"] == {
        "allowSelfApproval": False, "numApprovalsRequired": 1, "requireReapprovalOnChange": True,
        "eligibleApprovers": [{"teamName": "shipyard-approvers"}]}


def test_drift_is_detected_on_non_production_stacks_only(delivery):
    # Drift detection runs main's HEAD with the stack's credentials: never prod's.
    drift = one(delivery, "pulumiservice:index:DriftSchedule")
    assert drift == {"organization": ORG, "project": "shipyard", "stack": "staging",
                     "scheduleCron": "0 */6 * * *", "autoRemediate": False}


def test_notifications_when_a_webhook_url_is_set():
    assert not inputs(delivery_run(), "pulumiservice:index:Webhook")
    hooks = inputs(delivery_run(notification_webhook_url="https://hooks.slack.test/x"),
                   "pulumiservice:index:Webhook")
    assert sorted(hooks) == ["notify-prod", "notify-staging"]
    assert hooks["notify-prod"]["format"] == "slack"
    assert hooks["notify-prod"]["stackName"] == "prod"
    assert hooks["notify-prod"]["filters"] == [
        "deployment_succeeded", "deployment_failed", "update_failed", "drift_detected",
        "drift_detection_failed"]


def test_stack_files_import_their_environment_as_the_subject_names_it():
    # currentEnvironment.name resolves to the import as written (ESC built-in properties).
    for stack in ("staging", "prod"):
        doc = yaml.safe_load((PROJECT / f"Pulumi.{stack}.yaml").read_text())
        assert doc["environment"] == [f"shipyard/aws-{stack}"]


def test_github_token_exchange(delivery):
    issuer = one(delivery, "pulumiservice:index:OidcIssuer")
    assert issuer["url"] == "https://token.actions.githubusercontent.com"
    classic, immutable = "repo:acme-corp/shipyard", "repo:acme-corp@1234567/shipyard@7654321"

    def team(context, name):
        return [{"decision": "allow", "tokenType": "team", "teamName": name,
                 "rules": {"aud": "urn:pulumi:org:acme-corp", "sub": f"{repo}:{context}"}}
                for repo in (classic, immutable)]

    assert issuer["policies"] == [
        *team("pull_request", "shipyard-previewers"),
        *team("environment:artifacts", "shipyard-deployers"),
        *team("environment:staging", "shipyard-deployers"),
        *team("environment:production", "shipyard-releasers"),
        *[{"decision": "allow", "tokenType": "organization", "authorizedPermissions": ["admin"],
           "rules": {"aud": "urn:pulumi:org:acme-corp", "sub": f"{repo}:environment:policy"}}
          for repo in (classic, immutable)],
    ]


def test_delivery_iam_passes_the_policy_pack(delivery):
    run = analyze(delivery, PROJECT / "policy")
    assert [(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run.verdicts
            if v.enforcement_level == "mandatory"] == []


def test_every_program_module_triggers_a_deployment():
    # A module beside __main__.py changes what a stack deploys: a new one must be in the paths.
    from shipyard_delivery.app_stacks import PROGRAM_PATHS

    modules = sorted(p.name for p in PROJECT.glob("*.py"))
    assert modules and [m for m in modules if m not in PROGRAM_PATHS] == []


def test_the_organization_fixture_is_the_shipped_example_while_it_ships():
    """A change to the example organization (before anyone fills in theirs) must reach the frozen
    copy the product tests run, or they test a stale design."""
    committed = (PROJECT / "delivery" / "Pulumi.org.yaml").read_text()
    if "shipyard-delivery:pulumi_org: acme-corp\n" in committed:
        assert ORG_FILE.read_text().split("\n", 3)[3] == committed, (
            "tests/fixtures/delivery/Pulumi.org.yaml differs from delivery/Pulumi.org.yaml; copy "
            "the committed file below the fixture's three header lines")
