"""The delivery project's config, validated before anything is registered: names an org must
fill in, and the rules that keep prod behind the release path."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from shipyard.errors import ConfigError

NAMESPACE = "shipyard-delivery"
ORG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
REPO_RE = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
BRANCH_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
TEAM_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
# A published pack version (semver); "latest" would make the policy group follow every publish.
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
# Five cron fields, each digits and the cron punctuation only.
CRON_RE = re.compile(r"^(\S+\s+){4}\S+$")
PLACEHOLDERS = ("replace-me", "example", "your-org", "changeme")
STACK_KEYS = frozenset({"push_to_deploy", "branch", "production", "aws_account_id",
                        "bootstrap_role_name", "pulumi_stack_id"})
# Pulumi Cloud's opaque stack id (not org/project/stack), which a custom role names the stack by.
STACK_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{7,63}$")
WEBHOOK_FORMATS = ("slack", "ms_teams")


@dataclass(frozen=True)
class StackDelivery:
    name: str
    push_to_deploy: bool
    """The merge workflow deploys this stack after the artifact is built (never a production
    stack: prod changes only through a release)."""
    branch: str
    production: bool
    aws_account_id: str
    """The account this stack deploys to. A production stack has its own (refused otherwise);
    non-production stacks may share one, each deploy role confined to its environment's tag."""
    bootstrap_role_name: str | None
    """A role in a stack account other than the delivery stack's own, assumed to create that
    account's OIDC provider and deploy role (e.g. OrganizationAccountAccessRole)."""
    pulumi_stack_id: str = ""
    """The stack's id in Pulumi Cloud: the custom role that lets a team deploy (not configure)
    the stack names it by this id (pulumi-pulumiservice 1.5 has no data source that reads it)."""


@dataclass(frozen=True)
class DeliverySettings:
    pulumi_org: str
    app_project: str
    github_repository: str
    github_owner_id: str
    github_repository_id: str
    github_release_team_id: str
    """Numeric id of the GitHub team whose members approve releases and policy publishing and
    alone create release tags (github_settings.py)."""
    aws_account_id: str
    """The delivery (tooling) account: GitHub's OIDC provider, the preview and artifacts-builder
    roles and the image repositories of the artifacts stack live here."""
    aws_region: str
    stacks: tuple[StackDelivery, ...]
    policy_pack_version: str
    releasers_team: str
    approvers_team: str
    """People who approve changes to a production ESC environment's definition; the team holds
    no stack or environment permission in this design (its members are managed in Pulumi
    Cloud)."""
    drift_schedule: str
    review_stacks: bool
    webhook_format: str
    managed_policies_per_role: int = 10
    """IAM's quota of managed policies attached to a role: 10 unless the account raised it
    (to at most 20) in Service Quotas (IAM User Guide, "IAM and AWS STS quotas"); a deploy role
    needing more is refused."""
    app_dir: str = ".."
    """The application project whose stacks this delivers, relative to the delivery project
    (default: the repository root, where `Pulumi.<stack>.yaml` live)."""

    @property
    def owner(self) -> str:
        return self.github_repository.split("/")[0]

    @property
    def repo_name(self) -> str:
        return self.github_repository.split("/")[1]

    @property
    def accounts(self) -> tuple[str, ...]:
        """Every account a stack deploys to, the delivery stack's own first."""
        seen = dict.fromkeys([self.aws_account_id, *(s.aws_account_id for s in self.stacks)])
        return tuple(seen)


def _required(raw: Mapping[str, Any], key: str, pattern: re.Pattern, allowed: str) -> str:
    value = raw.get(key)
    setting = f"{NAMESPACE}:{key}"
    if value is None or value == "":
        raise ConfigError(setting, value, f"required: {allowed}")
    return _matching(value, setting, pattern, allowed)


def _matching(value: object, setting: str, pattern: re.Pattern, allowed: str) -> str:
    if not isinstance(value, str) or not pattern.match(value) or any(
            p in value.lower() for p in PLACEHOLDERS):
        raise ConfigError(setting, value, allowed)
    return value


STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _stack(name: str, raw: object, default_account: str) -> StackDelivery:
    setting = f"{NAMESPACE}:stacks.{name}"
    if not isinstance(name, str) or not STACK_NAME_RE.match(name):
        # The name becomes part of OIDC subjects: a wildcard would trust every stack.
        raise ConfigError(f"{NAMESPACE}:stacks", name,
                          "stack names of letters, digits, '-', '_' and '.'")
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping with push_to_deploy, branch, production")
    unknown = sorted(set(raw) - STACK_KEYS)
    if unknown:
        raise ConfigError(setting, unknown[0], "unknown key; allowed: " + ", ".join(sorted(STACK_KEYS)))
    production = raw.get("production", name == "prod")
    push = raw.get("push_to_deploy", False)
    branch = raw.get("branch", "main")
    if not isinstance(push, bool) or not isinstance(production, bool):
        raise ConfigError(setting, raw, "push_to_deploy and production are true or false")
    if not isinstance(branch, str) or not BRANCH_RE.match(branch) or "*" in branch:
        raise ConfigError(f"{setting}.branch", branch,
                          "one branch name such as main; a wildcard would deploy every branch")
    if production and push:
        raise ConfigError(f"{setting}.push_to_deploy", push,
                          "a production stack is promoted by a release behind the GitHub "
                          "'production' environment's approval, never deployed on every push")
    account = _matching(raw.get("aws_account_id", default_account), f"{setting}.aws_account_id",
                        ACCOUNT_RE, "the 12-digit AWS account id this stack deploys to")
    bootstrap = raw.get("bootstrap_role_name")
    if bootstrap is not None and (not isinstance(bootstrap, str)
                                  or not re.fullmatch(r"[\w+=,.@-]{1,64}", bootstrap)):
        raise ConfigError(f"{setting}.bootstrap_role_name", bootstrap, "an IAM role name")
    if account != default_account and bootstrap is None:
        raise ConfigError(f"{setting}.bootstrap_role_name", None,
                          f"required when the stack's account ({account}) is not the delivery "
                          f"account ({default_account}): the role to assume there, e.g. "
                          "OrganizationAccountAccessRole")
    stack_id = _matching(raw.get("pulumi_stack_id"), f"{setting}.pulumi_stack_id", STACK_ID_RE,
                         "the stack's id in Pulumi Cloud (its opaque id, not org/project/stack; "
                         "the stack's page or the REST API's stack response shows it)")
    return StackDelivery(name=name, push_to_deploy=push, branch=branch, production=production,
                         aws_account_id=account, bootstrap_role_name=bootstrap,
                         pulumi_stack_id=stack_id)


def _require_own_account(stack: StackDelivery, stacks: tuple[StackDelivery, ...],
                         delivery_account: str) -> None:
    """A production stack has an AWS account of its own: no other stack's deploy role, and none
    of the delivery account's roles (GitHub OIDC, artifacts builder, previews), acts where it
    runs. Tag conditions confine much of a shared account, not all of it (S3, PassRole, the
    calls IAM cannot condition on tags); an account boundary confines everything."""
    if not stack.production:
        return
    setting = f"{NAMESPACE}:stacks.{stack.name}.aws_account_id"
    if stack.aws_account_id == delivery_account:
        raise ConfigError(setting, stack.aws_account_id,
                          "an account of the production stack's own, not the delivery account "
                          f"({delivery_account}): create one with AWS Organizations and set "
                          "bootstrap_role_name (e.g. OrganizationAccountAccessRole)")
    sharing = sorted(s.name for s in stacks
                     if s is not stack and s.aws_account_id == stack.aws_account_id)
    if sharing:
        raise ConfigError(setting, stack.aws_account_id,
                          f"an account of the production stack's own; {', '.join(sharing)} "
                          "deploys there too")


def parse_delivery_settings(raw: Mapping[str, Any]) -> DeliverySettings:
    org = _required(raw, "pulumi_org", ORG_RE, "your Pulumi organization's name")
    repository = _required(raw, "github_repository", REPO_RE,
                           "the GitHub repository as owner/name")
    owner_id = _required(raw, "github_owner_id", re.compile(r"^\d+$"),
                         "the numeric id of the repository owner (GitHub API: owner.id)")
    repository_id = _required(raw, "github_repository_id", re.compile(r"^\d+$"),
                              "the numeric id of the repository (GitHub API: id)")
    release_team = _required(raw, "github_release_team_id", re.compile(r"^\d+$"),
                             "the numeric id of the GitHub team that approves releases "
                             "(GitHub API: orgs/<org>/teams/<slug>, id)")
    account = _required(raw, "aws_account_id", ACCOUNT_RE, "the 12-digit AWS account id")
    region = _required(raw, "aws_region", re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"),
                       "an AWS region such as eu-west-1")
    stacks_raw = raw.get("stacks")
    if not isinstance(stacks_raw, Mapping) or not stacks_raw:
        raise ConfigError(f"{NAMESPACE}:stacks", stacks_raw,
                          "a mapping of stack name to its delivery settings")
    stacks = tuple(_stack(name, value, account) for name, value in stacks_raw.items())
    if not any(s.production for s in stacks):
        raise ConfigError(f"{NAMESPACE}:stacks", sorted(stacks_raw),
                          "one stack must be marked production: true")
    for stack in stacks:
        _require_own_account(stack, stacks, account)
    if "resource_prefixes" in raw:
        raise ConfigError(f"{NAMESPACE}:resource_prefixes", raw["resource_prefixes"],
                          "no such setting any more: remove it; each deploy role's name prefixes "
                          "are its stack's service names and the program's own, read from "
                          "Pulumi.<stack>.yaml")
    version = raw.get("policy_pack_version")
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ConfigError(f"{NAMESPACE}:policy_pack_version", version,
                          "the exact published version of the pack (x.y.z), as in "
                          "policy/PulumiPolicy.yaml once the policy workflow published it")
    releasers = _matching(raw.get("releasers_team", "shipyard-releasers"),
                          f"{NAMESPACE}:releasers_team", TEAM_RE,
                          "the Pulumi team allowed to open the production environment")
    approvers = _matching(raw.get("approvers_team", "shipyard-approvers"),
                          f"{NAMESPACE}:approvers_team", TEAM_RE,
                          "the Pulumi team of people who approve production environment changes")
    if approvers == releasers:
        raise ConfigError(f"{NAMESPACE}:approvers_team", approvers,
                          "a team other than releasers_team: the releasers are a machine team")
    drift = raw.get("drift_schedule", "0 */6 * * *")
    if not isinstance(drift, str) or not CRON_RE.match(drift.strip()):
        raise ConfigError(f"{NAMESPACE}:drift_schedule", drift,
                          "a five-field cron expression such as '0 */6 * * *'")
    review = raw.get("review_stacks", False)
    if not isinstance(review, bool):
        raise ConfigError(f"{NAMESPACE}:review_stacks", review, "true or false")
    webhook_format = raw.get("webhook_format", "slack")
    if webhook_format not in WEBHOOK_FORMATS:
        raise ConfigError(f"{NAMESPACE}:webhook_format", webhook_format,
                          "one of " + ", ".join(WEBHOOK_FORMATS))
    project = raw.get("app_project", "shipyard")
    quota = raw.get("managed_policies_per_role", 10)
    if isinstance(quota, str) and quota.isdigit():
        quota = int(quota)
    if isinstance(quota, bool) or not isinstance(quota, int) or not 10 <= quota <= 20:
        raise ConfigError(f"{NAMESPACE}:managed_policies_per_role", quota,
                          "IAM's managed policies per role quota of the stacks' accounts: 10 "
                          "(the default), or up to 20 once raised in Service Quotas")
    app_dir = raw.get("app_dir", "..")
    if not isinstance(app_dir, str) or not app_dir.strip():
        raise ConfigError(f"{NAMESPACE}:app_dir", app_dir,
                          "the application project's folder, relative to delivery/ (default ..)")
    return DeliverySettings(
        pulumi_org=org, app_project=str(project), github_repository=repository,
        github_owner_id=owner_id, github_repository_id=repository_id,
        github_release_team_id=release_team, aws_account_id=account,
        aws_region=region, stacks=stacks,
        policy_pack_version=version, releasers_team=releasers, approvers_team=approvers,
        drift_schedule=drift.strip(),
        review_stacks=review, webhook_format=str(webhook_format),
        managed_policies_per_role=quota, app_dir=app_dir)


KEYS = ("pulumi_org", "github_repository", "github_owner_id", "github_repository_id",
        "github_release_team_id", "aws_account_id", "aws_region", "stacks", "app_project",
        "policy_pack_version", "releasers_team", "approvers_team", "drift_schedule",
        "review_stacks", "webhook_format", "managed_policies_per_role", "app_dir")
_OBJECTS = ("stacks", "review_stacks")
# Settings that no longer exist, read only to refuse them with what to do instead.
_RETIRED = ("resource_prefixes",)


def load_delivery_settings() -> DeliverySettings:
    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get_object(key) if key in _OBJECTS else config.get(key) for key in KEYS}
    raw |= {key: config.get(key) for key in _RETIRED}
    return parse_delivery_settings({k: v for k, v in raw.items() if v is not None})
