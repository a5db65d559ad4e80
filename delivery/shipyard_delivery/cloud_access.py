"""Pulumi Cloud access for GitHub workflows by OIDC token exchange (pulumi/auth-actions): no
Pulumi access token is stored in GitHub. Each workflow context gets the narrowest token:

- pull requests: a team token for the previewers (read the stacks; open no aws-* environment);
- the merge workflow's `artifacts` and `staging` GitHub environments: the deployers' team token
  (write the artifacts and non-production stacks; open their environments);
- the release workflow's `production` environment (required reviewers): the releasers' team
  token, the only team that can open the production environment;
- the policy workflow's `policy` environment: an organization admin token, because publishing
  a policy pack is admin-only. Requested nowhere else."""

from dataclasses import dataclass

import pulumi_pulumiservice as pulumiservice

from .settings import DeliverySettings
from .trust import github_subjects

PREVIEWERS = "{project}-previewers"
DEPLOYERS = "{project}-deployers"
# GitHub environments (each its own OIDC subject `repo:<owner>/<repo>:environment:<name>`).
ARTIFACTS_ENVIRONMENT = "artifacts"
STAGING_ENVIRONMENT = "staging"
RELEASE_ENVIRONMENT = "production"
POLICY_ENVIRONMENT = "policy"


@dataclass(frozen=True)
class Teams:
    previewers: str
    deployers: str
    releasers: str


def teams(settings: DeliverySettings) -> Teams:
    return Teams(previewers=PREVIEWERS.format(project=settings.app_project),
                 deployers=DEPLOYERS.format(project=settings.app_project),
                 releasers=settings.releasers_team)


def github_exchange_policies(settings: DeliverySettings
                             ) -> list[pulumiservice.AuthPolicyDefinitionArgs]:
    audience = f"urn:pulumi:org:{settings.pulumi_org}"
    ids = {"owner": settings.owner, "repo": settings.repo_name,
           "owner_id": settings.github_owner_id, "repo_id": settings.github_repository_id}
    allow = pulumiservice.AuthPolicyDecision.ALLOW
    team = pulumiservice.AuthPolicyTokenType.TEAM
    names = teams(settings)

    def team_token(context: str, team_name: str) -> list[pulumiservice.AuthPolicyDefinitionArgs]:
        return [pulumiservice.AuthPolicyDefinitionArgs(
            decision=allow, token_type=team, team_name=team_name,
            rules={"aud": audience, "sub": subject})
            for subject in github_subjects(**ids, context=context)]

    policies = team_token("pull_request", names.previewers)
    policies += team_token(f"environment:{ARTIFACTS_ENVIRONMENT}", names.deployers)
    policies += team_token(f"environment:{STAGING_ENVIRONMENT}", names.deployers)
    policies += team_token(f"environment:{RELEASE_ENVIRONMENT}", names.releasers)
    policies += [pulumiservice.AuthPolicyDefinitionArgs(
        decision=allow, token_type=pulumiservice.AuthPolicyTokenType.ORGANIZATION,
        authorized_permissions=[pulumiservice.AuthPolicyPermissionLevel.ADMIN],
        rules={"aud": audience, "sub": subject})
        for subject in github_subjects(**ids, context=f"environment:{POLICY_ENVIRONMENT}")]
    return policies
