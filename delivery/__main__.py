"""Delivery plumbing for the shipyard stacks: OIDC trust for Pulumi Cloud and GitHub, one
deploy role per stack, a read-only preview role, ESC environments, Deployments settings and a
preventative policy group per stack. A separate project because a stack should not manage its
own deployment settings."""

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_pulumiservice as pulumiservice
from shipyard_delivery import cloud_access, deployments, esc, permissions, trust
from shipyard_delivery.settings import load_delivery_settings

POLICY_DIR = Path(__file__).resolve().parents[1] / "policy"
POLICY_PACK = "shipyard-guardrails"

settings = load_delivery_settings()
org, project, account = settings.pulumi_org, settings.app_project, settings.aws_account_id

pulumi_oidc = aws.iam.OpenIdConnectProvider(
    "pulumi-cloud-oidc", url=f"https://{trust.PULUMI_ISSUER_HOST}",
    # Deployments tokens carry the org as audience; ESC tokens carry "aws:<org>".
    client_id_lists=[org, f"aws:{org}"])
github_oidc = aws.iam.OpenIdConnectProvider(
    "github-oidc", url=f"https://{trust.GITHUB_ISSUER_HOST}",
    client_id_lists=[trust.GITHUB_AUDIENCE])

boundary = aws.iam.Policy(
    "workload-boundary", name=f"{project}-workload-boundary",
    description="The most any role created by the shipyard program may do",
    policy=json.dumps(permissions.workload_boundary(settings)))

deploy_role_names = {s.name: f"{project}-deploy-{s.name}" for s in settings.stacks}
deploy_role_arns = [f"arn:aws:iam::{account}:role/{n}" for n in deploy_role_names.values()]
deploy_policy = json.dumps(permissions.deploy_policy(settings, deploy_role_arns=deploy_role_arns))



def deploy_trust(stack_name: str) -> pulumi.Output[str]:
    return pulumi_oidc.arn.apply(lambda arn: json.dumps(trust.require_scoped_trust(
        trust.deploy_role_trust(pulumi_oidc_arn=arn, org=org, project=project, stack=stack_name),
        f"deploy-{stack_name}.assumeRolePolicy")))


for stack in settings.stacks:
    role = aws.iam.Role(
        f"deploy-{stack.name}", name=deploy_role_names[stack.name],
        description=f"Deploys {project}/{stack.name}; assumed only by its Deployments and ESC",
        max_session_duration=3600, assume_role_policy=deploy_trust(stack.name))
    aws.iam.RolePolicy(f"deploy-{stack.name}", role=role.id, policy=deploy_policy,
                       opts=pulumi.ResourceOptions(depends_on=[boundary]))
    pulumiservice.Environment(
        f"aws-{stack.name}", organization=org, project=project, name=f"aws-{stack.name}",
        yaml=role.arn.apply(lambda arn: pulumi.StringAsset(esc.aws_environment_yaml(arn))))
    pulumiservice.DeploymentSettings(
        f"deployments-{stack.name}",
        **deployments.deployment_settings_args(settings, stack, role.arn))
    pulumiservice.PolicyGroup(
        f"guardrails-{stack.name}", name=f"{project}-{stack.name}", organization_name=org,
        entity_type="stacks", mode="preventative",
        stacks=[{"name": stack.name, "routing_project": project}],
        policy_packs=[{"name": POLICY_PACK, "version_tag": settings.policy_pack_version,
                       "config": json.loads(
                           (POLICY_DIR / f"config.{stack.name}.json").read_text())}])
    pulumi.export(f"deploy_role_{stack.name}", role.arn)

preview_role = aws.iam.Role(
    "preview-readonly", name=f"{project}-preview-readonly",
    description="pulumi preview from pull requests of this repository; reads only",
    max_session_duration=3600,
    assume_role_policy=github_oidc.arn.apply(lambda arn: json.dumps(trust.require_scoped_trust(
        trust.preview_role_trust(github_oidc_arn=arn, owner=settings.owner,
                                 repo=settings.repo_name, owner_id=settings.github_owner_id,
                                 repo_id=settings.github_repository_id),
        "preview-readonly.assumeRolePolicy"))))
aws.iam.RolePolicy("preview-readonly", role=preview_role.id,
                   policy=json.dumps(permissions.preview_policy(settings)))

pulumiservice.OidcIssuer(
    "github-actions", name="github-actions", organization=org,
    url=f"https://{trust.GITHUB_ISSUER_HOST}", max_expiration_seconds=3600,
    policies=cloud_access.github_exchange_policies(settings))

pulumi.export("preview_role", preview_role.arn)
pulumi.export("workload_boundary", boundary.arn)
