"""Who may assume the delivery roles. Every federated statement pins both the audience and the
subject; `require_scoped_trust` refuses a document that does not, before a role is created."""

from typing import Any

from shipyard.errors import ConfigError

PULUMI_ISSUER_HOST = "api.pulumi.com/oidc"
GITHUB_ISSUER_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# ESC's aws-login sends `pulumi:environments:org:<org>:env:<yaml>` for an environment imported by
# a stack (pulumi/pulumi#14509), the same for every environment of the org. With
# `subjectAttributes: [currentEnvironment.name]` the subject names the environment that holds the
# login instead (Pulumi ESC docs, "Configuring OIDC", "Custom token claim"):
#   pulumi:environments:pulumi.organization.login:<org>:currentEnvironment.name:<project>/<env>
ESC_SUBJECT_ATTRIBUTES = ("currentEnvironment.name",)


def esc_subject(*, org: str, project: str, environment: str) -> str:
    return (f"pulumi:environments:pulumi.organization.login:{org}"
            f":currentEnvironment.name:{project}/{environment}")


def esc_audience(org: str) -> str:
    # ESC tokens carry "aws:<org>" (ESC AWS OIDC guide); only the legacy `default` project uses
    # the bare org name, and this project never uses it.
    return f"aws:{org}"


def deploy_role_trust(*, pulumi_oidc_arn: str, org: str, project: str, stack: str) -> dict:
    """The stack's deploy role: only the stack's own ESC environment (`<project>/aws-<stack>`).
    Pulumi Deployments gets its credentials by opening that environment, so whoever cannot open
    it (RBAC on the environment) cannot deploy the stack; Deployments' own OIDC is not trusted,
    because it would hand out the role to anyone who can start a deployment of the stack."""
    return _document(
        {"Sid": "EscEnvironmentOfThisStack", "Effect": "Allow",
         "Principal": {"Federated": pulumi_oidc_arn},
         "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {
             f"{PULUMI_ISSUER_HOST}:aud": esc_audience(org),
             f"{PULUMI_ISSUER_HOST}:sub": esc_subject(org=org, project=project,
                                                      environment=f"aws-{stack}")}}},
    )


def github_subjects(*, owner: str, repo: str, owner_id: str, repo_id: str, context: str) -> list:
    """A workflow context (e.g. `pull_request`) in both subject forms GitHub issues: the classic
    `repo:owner/name:...` and the immutable-id `repo:owner@<id>/name@<id>:...`."""
    return [f"repo:{owner}/{repo}:{context}", f"repo:{owner}@{owner_id}/{repo}@{repo_id}:{context}"]


def github_role_trust(*, github_oidc_arn: str, owner: str, repo: str, owner_id: str,
                      repo_id: str, context: str, sid: str) -> dict:
    """A role assumed only by this repository's workflows in one context (a GitHub environment
    such as `environment:artifacts`, whose deployment-branch rule admits only main)."""
    return _document({
        "Sid": sid, "Effect": "Allow",
        "Principal": {"Federated": github_oidc_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{GITHUB_ISSUER_HOST}:aud": GITHUB_AUDIENCE,
            f"{GITHUB_ISSUER_HOST}:sub": github_subjects(
                owner=owner, repo=repo, owner_id=owner_id, repo_id=repo_id, context=context)}}})


def preview_role_trust(*, github_oidc_arn: str, owner: str, repo: str, owner_id: str,
                       repo_id: str) -> dict:
    """The read-only role: only pull-request workflows of this repository."""
    return _document({
        "Sid": "PullRequestsOfThisRepository", "Effect": "Allow",
        "Principal": {"Federated": github_oidc_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{GITHUB_ISSUER_HOST}:aud": GITHUB_AUDIENCE,
            f"{GITHUB_ISSUER_HOST}:sub": github_subjects(
                owner=owner, repo=repo, owner_id=owner_id, repo_id=repo_id,
                context="pull_request")}}})


def _condition_keys(condition: Any) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for values in (condition or {}).values():
        for key, value in values.items():
            keys.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    return keys


def require_scoped_trust(document: dict, setting: str) -> dict:
    """Refuse a trust policy whose federated statements do not pin `sub` and `aud`."""
    for index, statement in enumerate(document.get("Statement", [])):
        principal = statement.get("Principal") or {}
        federated = principal.get("Federated") if isinstance(principal, dict) else None
        if statement.get("Effect") != "Allow" or not federated:
            continue
        host = federated.split(":oidc-provider/", 1)[-1]
        keys = _condition_keys(statement.get("Condition"))
        for claim in ("aud", "sub"):
            values = keys.get(f"{host}:{claim}", [])
            if not values or any(not v.strip() or "*" in v or "?" in v for v in values):
                raise ConfigError(f"{setting}.Statement[{index}]", statement.get("Sid", index),
                                  f"a trust of {host} must pin '{host}:{claim}' to exact values")
    return document
