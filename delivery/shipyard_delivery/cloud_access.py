"""Pulumi Cloud access for GitHub workflows by OIDC token exchange (pulumi/auth-actions): no
Pulumi access token is stored in GitHub."""

import pulumi_pulumiservice as pulumiservice

from .settings import DeliverySettings
from .trust import github_subjects

PREVIEW_TEAM = "{project}-previewers"
RELEASE_ENVIRONMENT = "production"


def github_exchange_policies(settings: DeliverySettings
                             ) -> list[pulumiservice.AuthPolicyDefinitionArgs]:
    """Pull requests get a team token (a team that can read stacks and run previews, and that is
    not granted to open the aws-* environments); only the release workflow, inside the GitHub
    'production' environment (its approval), gets an organization token to publish the pack and
    start the prod deployment."""
    audience = f"urn:pulumi:org:{settings.pulumi_org}"
    ids = {"owner": settings.owner, "repo": settings.repo_name,
           "owner_id": settings.github_owner_id, "repo_id": settings.github_repository_id}
    allow = pulumiservice.AuthPolicyDecision.ALLOW
    policies = [pulumiservice.AuthPolicyDefinitionArgs(
        decision=allow, token_type=pulumiservice.AuthPolicyTokenType.TEAM,
        team_name=PREVIEW_TEAM.format(project=settings.app_project),
        rules={"aud": audience, "sub": subject})
        for subject in github_subjects(**ids, context="pull_request")]
    policies += [pulumiservice.AuthPolicyDefinitionArgs(
        decision=allow, token_type=pulumiservice.AuthPolicyTokenType.ORGANIZATION,
        authorized_permissions=[pulumiservice.AuthPolicyPermissionLevel.ADMIN],
        rules={"aud": audience, "sub": subject})
        for subject in github_subjects(**ids, context=f"environment:{RELEASE_ENVIRONMENT}")]
    return policies
