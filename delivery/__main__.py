"""Delivery plumbing for the shipyard stacks: OIDC trust for Pulumi Cloud and GitHub in every
stack account, one deploy role per stack (assumed only through the stack's ESC environment),
a read-only preview role, the artifacts builder role, ESC environments with their access and
approval rules, Deployments settings, preventative policy groups, drift detection and
notifications. A separate project because a stack should not manage its own deployment
settings."""

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_pulumiservice as pulumiservice
from shipyard.errors import ConfigError
from shipyard_delivery import (
    artifacts,
    cloud_access,
    deployments,
    esc,
    feedback,
    github_settings,
    permissions,
    pulumi_access,
    trust,
)
from shipyard_delivery.app_stacks import policy_levels, read_app_stack
from shipyard_delivery.repositories import artifact_repositories
from shipyard_delivery.settings import NAMESPACE, load_delivery_settings

POLICY_PACK = "shipyard-guardrails"

settings = load_delivery_settings()
org, project = settings.pulumi_org, settings.app_project
# The stack files of the application project (`..` unless the config names another folder).
app_dir = (Path(__file__).resolve().parent / settings.app_dir).resolve()
app_stacks = {s.name: read_app_stack(s.name, app_dir) for s in settings.stacks}
production = [s for s in settings.stacks if s.production]
for stack in settings.stacks:
    for prod in production:
        if not stack.production and app_stacks[stack.name].architecture != \
                app_stacks[prod.name].architecture:
            raise ConfigError(
                f"{NAMESPACE}:stacks.{stack.name}", app_stacks[stack.name].architecture,
                f"the architecture of {prod.name} ({app_stacks[prod.name].architecture}): prod "
                "deploys the digest this stack ran, so both run one architecture")
# A policy group on a version that was never published fails every update of its stacks: ask
# Pulumi Cloud (a blocking invoke, before any resource is registered).
packs = pulumiservice.get_policy_packs(organization_name=org).policy_packs or []
published = sorted({tag for pack in packs if pack.name == POLICY_PACK
                    for tag in pack.version_tags or ()})
if settings.policy_pack_version not in published:
    raise ConfigError(f"{NAMESPACE}:policy_pack_version", settings.policy_pack_version,
                      f"a version of {POLICY_PACK} published in {org} "
                      f"({', '.join(published) or 'none yet'}); the policy workflow publishes "
                      "the version in policy/PulumiPolicy.yaml when policy/ changes")

# Every trust policy is checked for exact subjects and audiences before anything exists (the
# provider ARN is only known later; its form does not change what the check reads).
for stack in settings.stacks:
    trust.require_scoped_trust(trust.deploy_role_trust(
        pulumi_oidc_arn=f"arn:aws:iam::{stack.aws_account_id}:oidc-provider/"
                        f"{trust.PULUMI_ISSUER_HOST}", org=org, project=project,
        stack=stack.name), f"deploy-{stack.name}.assumeRolePolicy")

# The workload boundary of every account, built (and refused if IAM would refuse it) before
# anything is registered.
boundary_documents = {account: permissions.workload_boundary(settings, account, app_stacks)
                      for account in settings.accounts}

# One provider per account a stack deploys to; the delivery stack's own account uses the default.
providers: dict[str, pulumi.ResourceOptions] = {settings.aws_account_id: pulumi.ResourceOptions()}
for stack in settings.stacks:
    if stack.aws_account_id in providers:
        continue
    providers[stack.aws_account_id] = pulumi.ResourceOptions(provider=aws.Provider(
        f"aws-{stack.aws_account_id}", region=settings.aws_region,
        allowed_account_ids=[stack.aws_account_id],
        assume_roles=[aws.ProviderAssumeRoleArgs(
            role_arn=f"arn:aws:iam::{stack.aws_account_id}:role/{stack.bootstrap_role_name}",
            session_name="shipyard-delivery")]))

pulumi_oidc_arns: dict[str, pulumi.Output[str]] = {}
boundaries: dict[str, aws.iam.Policy] = {}
for account, opts in providers.items():
    suffix = "" if account == settings.aws_account_id else f"-{account}"
    pulumi_oidc_arns[account] = aws.iam.OpenIdConnectProvider(
        f"pulumi-cloud-oidc{suffix}", url=f"https://{trust.PULUMI_ISSUER_HOST}",
        # ESC tokens carry "aws:<org>" as audience.
        client_id_lists=[trust.esc_audience(org)], opts=opts).arn
    boundaries[account] = aws.iam.Policy(
        f"workload-boundary{suffix}", name=f"{project}-workload-boundary",
        description="The most any role created by the shipyard program may do",
        policy=json.dumps(boundary_documents[account]), opts=opts)

# GitHub's OIDC provider in every account a workflow acts in (pull-request previews read each
# stack's account; the artifacts builder acts in the delivery account).
github_oidc_arns = {account: aws.iam.OpenIdConnectProvider(
    "github-oidc" + ("" if account == settings.aws_account_id else f"-{account}"),
    url=f"https://{trust.GITHUB_ISSUER_HOST}", client_id_lists=[trust.GITHUB_AUDIENCE],
    opts=opts).arn for account, opts in providers.items()}
deploy_role_names = {s.name: f"{project}-deploy-{s.name}" for s in settings.stacks}
teams = cloud_access.teams(settings)
# Machine teams: no members (a person added by hand is removed by the next `up`); a token only
# through the GitHub OIDC exchange in one workflow context each (cloud_access.py).
team_resources = {name: pulumiservice.Team(
    f"team-{name}", organization_name=org, team_type="pulumi", name=name, display_name=name,
    description=description, members=[])
    for name, description in ((teams.previewers, "Pull-request previews: read staging"),
                              (teams.deployers, "Merge workflow: artifacts and staging"),
                              (teams.releasers, "Release workflow: the only deployers of prod"))}
architectures = sorted({app.architecture for app in app_stacks.values()})
# The artifacts stacks exist before the first merge (the pinned pulumi/actions does not create a
# missing stack: `upsert` defaults to false).
artifact_stack_resources = [pulumiservice.Stack(
    f"stack-{name.replace('/', '-')}", organization_name=org, project_name=name.split("/")[0],
    stack_name=name.split("/")[1]) for name in pulumi_access.artifact_stacks(architectures)]

def scoped_trust(document: dict, setting: str) -> str:
    return json.dumps(trust.require_scoped_trust(document, setting))


def deploy_trust(stack_name: str, account: str) -> pulumi.Output[str]:
    return pulumi_oidc_arns[account].apply(lambda arn: scoped_trust(
        trust.deploy_role_trust(pulumi_oidc_arn=arn, org=org, project=project, stack=stack_name),
        f"deploy-{stack_name}.assumeRolePolicy"))


environments: dict[str, pulumiservice.Environment] = {}
for stack in settings.stacks:
    account, opts = stack.aws_account_id, providers[stack.aws_account_id]
    app = app_stacks[stack.name]
    protected = [f"arn:aws:iam::{account}:role/{n}" for n in deploy_role_names.values()]
    role = aws.iam.Role(
        f"deploy-{stack.name}", name=deploy_role_names[stack.name],
        description=f"Deploys {project}/{stack.name}; assumed only through ESC {project}/aws-"
                    f"{stack.name}", max_session_duration=3600,
        assume_role_policy=deploy_trust(stack.name, account), opts=opts)
    for part, document in permissions.deploy_policies(
            settings, account=account, environment=app.environment,
            protected_role_arns=protected, stack=stack.name,
            app_stacks=app_stacks).items():
        policy = aws.iam.Policy(
            f"deploy-{stack.name}-{part}", name=f"{project}-deploy-{stack.name}-{part}",
            policy=json.dumps(document), opts=opts)
        aws.iam.RolePolicyAttachment(
            f"deploy-{stack.name}-{part}", role=role.name, policy_arn=policy.arn,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                depends_on=[boundaries[account]])))
    def environment_definition(arn: str, production: bool = stack.production
                               ) -> pulumi.StringAsset:
        # Bound now: a plain closure would give every environment the last stack's flag.
        return pulumi.StringAsset(esc.aws_environment_yaml(arn, settings.aws_account_id,
                                                           production))

    environment = environments[f"aws-{stack.name}"] = pulumiservice.Environment(
        f"aws-{stack.name}", organization=org, project=project, name=f"aws-{stack.name}",
        yaml=role.arn.apply(environment_definition))
    if stack.production:
        # pulumiservice 1.5's ApprovalRule targets `update` only (TargetActionType): a change to
        # the production environment's definition needs an approver's approval (people, who
        # hold no stack or environment permission here). Opening it is gated by RBAC
        # (releasers only, pulumi_access.py) and by the GitHub 'production' environment.
        pulumiservice.ApprovalRule(
            f"approve-aws-{stack.name}", name=f"{project}-aws-{stack.name}-changes",
            enabled=True, environment_identifier=pulumiservice.EnvironmentIdentifierArgs(
                organization=org, project=project, name=f"aws-{stack.name}"),
            target_action_types=[pulumiservice.TargetActionType.UPDATE],
            approval_rule_config=pulumiservice.ApprovalRuleConfigArgs(
                allow_self_approval=False, num_approvals_required=1,
                require_reapproval_on_change=True,
                eligible_approvers=[pulumiservice.EligibleApproverArgs(
                    team_name=settings.approvers_team)]),
            opts=pulumi.ResourceOptions(depends_on=[environment]))
    else:
        # Drift detection runs the settings' branch (main's HEAD) with the stack's credentials:
        # for a production stack that is unreleased code with prod's credentials, so prod gets
        # none (drift shows in the release's own update).
        pulumiservice.DriftSchedule(
            f"drift-{stack.name}", organization=org, project=project, stack=stack.name,
            schedule_cron=settings.drift_schedule, auto_remediate=False)
    settings_resource = pulumiservice.DeploymentSettings(
        f"deployments-{stack.name}", **deployments.deployment_settings_args(settings, stack, app))
    pulumiservice.PolicyGroup(
        f"guardrails-{stack.name}", name=f"{project}-{stack.name}", organization_name=org,
        entity_type="stacks", mode="preventative",
        stacks=[{"name": stack.name, "routing_project": project}],
        policy_packs=[{"name": POLICY_PACK, "version_tag": settings.policy_pack_version,
                       "config": policy_levels(app, app_dir)}])
    pulumi.export(f"deploy_role_{stack.name}", role.arn)

stack_ids = {f"{project}/{s.name}": s.pulumi_stack_id for s in settings.stacks}
deploy_scopes: dict[str, list[str]] = {}
for grant in pulumi_access.grants(settings, teams, architectures):
    depends = pulumi.ResourceOptions(depends_on=[team_resources[grant.team],
                                                 *artifact_stack_resources])
    grant_project, entity = grant.name.split("/")
    logical = f"{grant.team}-{grant.entity}-{grant.name.replace('/', '-')}"
    if grant.permission_set is pulumi_access.STACK_DEPLOY:
        deploy_scopes.setdefault(grant.team, []).append(stack_ids[grant.name])
    elif grant.entity == "stack":
        pulumiservice.TeamStackPermission(
            logical, organization=org, project=grant_project, stack=entity, team=grant.team,
            permission=pulumiservice.TeamStackPermissionScope(
                pulumi_access.TEAM_STACK_SCOPES[grant.permission_set.name]), opts=depends)
    else:
        pulumiservice.TeamEnvironmentPermission(
            logical, organization=org, project=grant_project, environment=entity,
            team=grant.team, permission=pulumiservice.EnvironmentPermission.OPEN,
            max_open_duration="1h", opts=pulumi.ResourceOptions.merge(
                depends, pulumi.ResourceOptions(depends_on=[environments[entity]])))
# One custom role per team (Pulumi Cloud assigns one role per team): deploy, never configure.
for team, ids in deploy_scopes.items():
    deploy_role = pulumiservice.OrganizationRole(
        f"role-{team}", organization_name=org, name=f"{team}-deploy",
        description=f"{team}: {pulumi_access.STACK_DEPLOY.name} on its stacks",
        permissions=pulumi_access.role_descriptor(pulumi_access.STACK_DEPLOY.scopes, ids))
    pulumiservice.TeamRoleAssignment(f"role-{team}", organization_name=org, team_name=team,
                                     role_id=deploy_role.role_id,
                                     opts=pulumi.ResourceOptions(depends_on=[team_resources[team]]))

webhook_url = pulumi.Config(NAMESPACE).get_secret("notification_webhook_url")
if webhook_url is not None:
    for stack in settings.stacks:
        pulumiservice.Webhook(f"notify-{stack.name}", **feedback.webhook_args(
            settings, stack, webhook_url))


# The artifacts repositories, in the delivery account: IMMUTABLE tags, images never deleted, only
# untagged layers expire; the stack accounts' execution roles pull and their deploy roles read.
pull_accounts = sorted({s.aws_account_id for s in settings.stacks})
for repository in artifact_repositories(settings, app_stacks):
    ecr = aws.ecr.Repository(
        f"artifacts-{repository.service}-{repository.container}", name=repository.name,
        image_tag_mutability="IMMUTABLE", force_delete=False,
        encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
            encryption_type="KMS")],
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True),
        opts=pulumi.ResourceOptions(protect=True))
    aws.ecr.RepositoryPolicy(
        f"artifacts-{repository.service}-{repository.container}", repository=ecr.name,
        policy=json.dumps(artifacts.repository_policy(
            project=project, service=repository.service, pull_accounts=pull_accounts)))
    aws.ecr.LifecyclePolicy(
        f"artifacts-{repository.service}-{repository.container}", repository=ecr.name,
        policy=json.dumps(artifacts.lifecycle_policy()))


def github_role(name: str, description: str, context: str, policy: dict,
                account: str = settings.aws_account_id) -> aws.iam.Role:
    logical = name + ("" if account == settings.aws_account_id else f"-{account}")
    role = aws.iam.Role(
        logical, name=f"{project}-{name}", description=description, max_session_duration=3600,
        assume_role_policy=github_oidc_arns[account].apply(lambda arn: scoped_trust(
            trust.github_role_trust(
                github_oidc_arn=arn, owner=settings.owner, repo=settings.repo_name,
                owner_id=settings.github_owner_id, repo_id=settings.github_repository_id,
                context=context, sid="ThisRepository" + context.title().replace(":", "")
                .replace("_", "")), f"{logical}.assumeRolePolicy")), opts=providers[account])
    aws.iam.RolePolicy(logical, role=role.id, policy=json.dumps(policy), opts=providers[account])
    return role


preview_roles = {account: github_role(
    "preview-readonly", "pulumi preview from pull requests of this repository; reads only",
    "pull_request", permissions.preview_policy(settings, app_stacks), account) for account in providers}
builder_role = github_role(
    "artifacts-builder", "Merge workflow: builds and pushes the images of the artifacts stack",
    f"environment:{cloud_access.ARTIFACTS_ENVIRONMENT}",
    permissions.artifacts_builder_policy(settings, app_stacks))

github_settings.declare(settings)

pulumiservice.OidcIssuer(
    "github-actions", name="github-actions", organization=org,
    url=f"https://{trust.GITHUB_ISSUER_HOST}", max_expiration_seconds=3600,
    policies=cloud_access.github_exchange_policies(settings),
    opts=pulumi.ResourceOptions(depends_on=list(team_resources.values())))

# GitHub variables PREVIEW_ROLE_ARN_<STACK> (the pull-request workflow reads them per stack).
pulumi.export("preview_roles", {s.name: preview_roles[s.aws_account_id].arn
                                for s in settings.stacks})
pulumi.export("artifacts_builder_role", builder_role.arn)
pulumi.export("workload_boundaries", {a: b.arn for a, b in boundaries.items()})
