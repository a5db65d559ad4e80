"""The repository's protections as code (pulumi-github): the GitHub environments the workflows
run in, who must approve a job in them, which refs may deploy there, and rulesets for `main`
and the release tags. The OIDC subjects the delivery trusts name these environments, so their
protections are part of who can change prod.

- `production` and `policy`: the release reviewers approve every job (prevent self-review, no
  admin bypass); `production` deploys only release tags, `policy` only `main`. The policy job
  holds the one organization admin token, which could open prod, so it waits for the same
  people who approve a release.
- `artifacts` and `staging`: only `main` deploys there.
- Release tags (`v*`): only the release reviewers create them; nobody moves or deletes one.
- `main`: changes only through a reviewed pull request; no force push, no deletion.

What GitHub does not let a provider manage is listed in docs/delivery.md (the Actions
permission of GITHUB_TOKEN for deployment statuses, the organization's own rulesets)."""

from dataclasses import dataclass

from .cloud_access import (
    ARTIFACTS_ENVIRONMENT,
    POLICY_ENVIRONMENT,
    RELEASE_ENVIRONMENT,
    STAGING_ENVIRONMENT,
)
from .settings import DeliverySettings

RELEASE_TAG_PATTERN = "v*"


@dataclass(frozen=True)
class EnvironmentProtection:
    name: str
    reviewed: bool
    """The release reviewers approve each job that references the environment."""
    branch_pattern: str | None = None
    tag_pattern: str | None = None


PROTECTIONS = (
    EnvironmentProtection(ARTIFACTS_ENVIRONMENT, reviewed=False, branch_pattern="main"),
    EnvironmentProtection(STAGING_ENVIRONMENT, reviewed=False, branch_pattern="main"),
    EnvironmentProtection(RELEASE_ENVIRONMENT, reviewed=True, tag_pattern=RELEASE_TAG_PATTERN),
    EnvironmentProtection(POLICY_ENVIRONMENT, reviewed=True, branch_pattern="main"),
)


def declare(settings: DeliverySettings) -> None:
    """Register the environments and rulesets (the caller runs with a GitHub token of a
    repository admin: GITHUB_TOKEN in the environment of `pulumi up -s org`)."""
    import pulumi
    import pulumi_github as github

    provider = pulumi.ResourceOptions(provider=github.Provider(
        "github", owner=settings.owner))
    reviewers = [github.RepositoryEnvironmentReviewerArgs(
        teams=[int(settings.github_release_team_id)])]
    for protection in PROTECTIONS:
        environment = github.RepositoryEnvironment(
            f"github-env-{protection.name}", repository=settings.repo_name,
            environment=protection.name, can_admins_bypass=False,
            prevent_self_review=protection.reviewed,
            reviewers=reviewers if protection.reviewed else None,
            deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                custom_branch_policies=True, protected_branches=False), opts=provider)
        github.RepositoryEnvironmentDeploymentPolicy(
            f"github-env-{protection.name}", repository=settings.repo_name,
            environment=environment.environment, branch_pattern=protection.branch_pattern,
            tag_pattern=protection.tag_pattern, opts=provider)
    github.RepositoryRuleset(
        "github-release-tags", name="release tags", repository=settings.repo_name,
        target="tag", enforcement="active",
        conditions=github.RepositoryRulesetConditionsArgs(
            ref_name=github.RepositoryRulesetConditionsRefNameArgs(
                includes=[f"refs/tags/{RELEASE_TAG_PATTERN}"], excludes=[])),
        rules=github.RepositoryRulesetRulesArgs(creation=True, update=True, deletion=True,
                                                non_fast_forward=True),
        bypass_actors=[github.RepositoryRulesetBypassActorArgs(
            actor_type="Team", actor_id=int(settings.github_release_team_id),
            bypass_mode="always")], opts=provider)
    github.RepositoryRuleset(
        "github-main", name="main", repository=settings.repo_name, target="branch",
        enforcement="active",
        conditions=github.RepositoryRulesetConditionsArgs(
            ref_name=github.RepositoryRulesetConditionsRefNameArgs(
                includes=["~DEFAULT_BRANCH"], excludes=[])),
        rules=github.RepositoryRulesetRulesArgs(
            deletion=True, non_fast_forward=True,
            pull_request=github.RepositoryRulesetRulesPullRequestArgs(
                required_approving_review_count=1, dismiss_stale_reviews_on_push=True,
                require_last_push_approval=True)), opts=provider)
