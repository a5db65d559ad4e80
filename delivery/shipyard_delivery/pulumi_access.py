"""Who may do what in Pulumi Cloud, as data the delivery program realises and the access report
(`shipyard access <stack>`) evaluates: Pulumi's documented permission sets with their scopes,
the one custom set this design adds, and each team's grants.

Every team here is a machine team: no members (the program manages the member list, so a person
added by hand is removed by the next `pulumi up -s org`), and a token only through the GitHub
OIDC exchange in the one workflow context that needs it (cloud_access.py). People approve in
GitHub (the environments' required reviewers); they never hold a team's token."""

from dataclasses import dataclass

from .cloud_access import Teams
from .settings import DeliverySettings

PERMISSION_SETS_PAGE = "https://www.pulumi.com/docs/administration/concepts/rbac/permission-sets/"
STACK_SCOPES_PAGE = "https://www.pulumi.com/docs/administration/reference/rbac-scopes/stacks/"
ENVIRONMENT_SCOPES_PAGE = \
    "https://www.pulumi.com/docs/administration/reference/rbac-scopes/environments/"
DEPLOYMENT_PERMISSIONS_PAGE = "https://www.pulumi.com/docs/deployments/operations/permissions/"


@dataclass(frozen=True)
class PermissionSet:
    name: str
    entity: str
    """`stack` or `environment`."""
    scopes: frozenset[str]
    source: str


_STACK_READ = frozenset({"stack:read", "stack:export", "stack:encrypt", "stack:decrypt",
                         "stack_deployment:read", "stack_deployment_settings:read",
                         "stack_access:read", "stack_schedule:read"})
_STACK_WRITE = _STACK_READ | {
    "stack:import", "stack:cancel_update", "stack:write", "stack_deployment_settings:write",
    "stack_deployment_settings:encrypt", "stack_deployment_cache:read", "stack_tags:update",
    "stack_schedule:update", "stack_schedule:create", "stack_schedule:pause",
    "stack_schedule:resume", "stack_schedule:delete", "stack_deployment:create",
    "stack_webhook:create", "stack_webhook:update", "stack_webhook:delete", "stack_webhook:read"}
_STACK_ADMIN = _STACK_WRITE | {"stack:delete", "stack:rename", "stack:transfer",
                               "stack_access:update"}
_ENVIRONMENT_READ = frozenset({"environment:read"})
_ENVIRONMENT_OPEN = _ENVIRONMENT_READ | {"environment:read_decrypt", "environment:open",
                                         "environment:clone"}
_ENVIRONMENT_WRITE = _ENVIRONMENT_OPEN | {"environment:write"}
_ENVIRONMENT_ADMIN = _ENVIRONMENT_WRITE | {"environment:delete"}

# Pulumi's default permission sets (Permission sets page; each scope's set is also on the scopes
# pages). TeamStackPermission's scopes 101/102/103 are Stack Read/Write/Admin; a
# TeamEnvironmentPermission's read/open/write/admin the Environment ones.
PERMISSION_SETS = {s.name: s for s in (
    PermissionSet("Stack Read", "stack", _STACK_READ, PERMISSION_SETS_PAGE),
    PermissionSet("Stack Write", "stack", frozenset(_STACK_WRITE), PERMISSION_SETS_PAGE),
    PermissionSet("Stack Admin", "stack", frozenset(_STACK_ADMIN), PERMISSION_SETS_PAGE),
    PermissionSet("Environment Read", "environment", _ENVIRONMENT_READ, ENVIRONMENT_SCOPES_PAGE),
    PermissionSet("Environment Open", "environment", frozenset(_ENVIRONMENT_OPEN),
                  ENVIRONMENT_SCOPES_PAGE),
    PermissionSet("Environment Write", "environment", frozenset(_ENVIRONMENT_WRITE),
                  ENVIRONMENT_SCOPES_PAGE),
    PermissionSet("Environment Admin", "environment", frozenset(_ENVIRONMENT_ADMIN),
                  ENVIRONMENT_SCOPES_PAGE),
)}
# TeamStackPermission's scopes for the documented stack sets (pulumiservice TeamStackPermissionScope).
TEAM_STACK_SCOPES = {"Stack Read": 101, "Stack Write": 102, "Stack Admin": 103}
# What may change what the next deployment runs, other than the commit: the stored deployment
# settings (pre-run commands, executor image), an imported checkpoint, schedules and webhooks
# that start runs, and the tags policy groups match on.
SETTINGS_SCOPES = frozenset({"stack:import", "stack_deployment_settings:write",
                             "stack_deployment_settings:encrypt", "stack_tags:update",
                             "stack_schedule:create", "stack_schedule:update",
                             "stack_schedule:pause", "stack_schedule:resume",
                             "stack_schedule:delete", "stack_webhook:create",
                             "stack_webhook:update", "stack_webhook:delete"})
STACK_DEPLOY = PermissionSet(
    "Stack Deploy", "stack", frozenset(_STACK_WRITE - SETTINGS_SCOPES),
    f"custom: Stack Write ({PERMISSION_SETS_PAGE}) less the scopes that change what a "
    f"deployment runs ({STACK_SCOPES_PAGE})")
"""A REST-API deployment runs with the permissions of whoever started it
(DEPLOYMENT_PERMISSIONS_PAGE): the starting team needs to update the stack, and with this set
it can do nothing else to the stack's future runs."""
# The scopes that mean "changes the stack" and "reads its secrets", for the report.
CHANGES_STACK = frozenset({"stack:write", "stack:import", "stack:delete",
                           "stack_deployment:create"}) | SETTINGS_SCOPES
READS_SECRETS = frozenset({"stack:decrypt", "stack:export"})
OPENS_ENVIRONMENT = frozenset({"environment:open", "environment:read_decrypt"})


@dataclass(frozen=True)
class Grant:
    team: str
    entity: str
    """`stack` or `environment`."""
    name: str
    """`<project>/<stack>` or `<project>/<environment>`."""
    permission_set: PermissionSet


def artifact_stacks(architectures: list[str]) -> list[str]:
    from .artifacts import STACK_NAMES

    return [f"shipyard-artifacts/{STACK_NAMES[a]}" for a in sorted(set(architectures))]


def grants(settings: DeliverySettings, teams: Teams,
           architectures: list[str]) -> list[Grant]:
    """Every grant of the design: previewers read the non-production stacks (a preview decrypts
    the stack's secrets, so no pull request previews prod); deployers update the artifacts
    stacks and deploy (not configure) the non-production stacks; releasers deploy the
    production stacks and read the stacks they promote from. Environments: each stack's own
    opened only by the team that deploys it."""
    project = settings.app_project
    found: list[Grant] = []
    for stack in settings.stacks:
        name = f"{project}/{stack.name}"
        env = f"{project}/aws-{stack.name}"
        if stack.production:
            found.append(Grant(teams.releasers, "stack", name, STACK_DEPLOY))
            found.append(Grant(teams.releasers, "environment", env,
                               PERMISSION_SETS["Environment Open"]))
        else:
            found.append(Grant(teams.previewers, "stack", name, PERMISSION_SETS["Stack Read"]))
            found.append(Grant(teams.deployers, "stack", name, STACK_DEPLOY))
            found.append(Grant(teams.deployers, "environment", env,
                               PERMISSION_SETS["Environment Open"]))
            # The release reads the digests the non-production stack ran (its outputs).
            found.append(Grant(teams.releasers, "stack", name, PERMISSION_SETS["Stack Read"]))
    for artifacts in artifact_stacks(architectures):
        found.append(Grant(teams.deployers, "stack", artifacts, PERMISSION_SETS["Stack Write"]))
    return found


def role_descriptor(scopes: frozenset[str], stack_ids: list[str]) -> dict:
    """An OrganizationRole permission descriptor granting `scopes` on exactly these stacks, in
    Pulumi Cloud's wire grammar as pulumi-pulumiservice's buildStackScopedPermissions writes it
    for one stack (provider/pkg/functions/role_permissions.go: a PermissionDescriptorCondition
    on PermissionExpressionEqual(stack, literal stack identity) gating a
    PermissionDescriptorAllow), grouped for several (PermissionDescriptorGroup)."""
    return {"__type": "PermissionDescriptorGroup", "entries": [
        {"__type": "PermissionDescriptorCondition",
         "condition": {"__type": "PermissionExpressionEqual",
                       "left": {"__type": "PermissionExpressionStack"},
                       "right": {"__type": "PermissionLiteralExpressionStack",
                                 "identity": stack_id}},
         "subNode": {"__type": "PermissionDescriptorAllow", "permissions": sorted(scopes)}}
        for stack_id in stack_ids]}


def granted_scopes(descriptor: dict) -> dict[str, frozenset[str]]:
    """Stack identity -> scopes, read back from a descriptor `role_descriptor` writes; anything
    else in it is refused (the report never guesses at a grant it cannot read)."""
    if descriptor.get("__type") != "PermissionDescriptorGroup":
        raise ValueError(f"unreadable role descriptor: {descriptor.get('__type')!r}")
    found: dict[str, frozenset[str]] = {}
    for entry in descriptor.get("entries") or []:
        condition, allow = entry.get("condition") or {}, entry.get("subNode") or {}
        right = condition.get("right") or {}
        if (entry.get("__type"), condition.get("__type"), (condition.get("left") or {}).get(
                "__type"), right.get("__type"), allow.get("__type")) != (
                "PermissionDescriptorCondition", "PermissionExpressionEqual",
                "PermissionExpressionStack", "PermissionLiteralExpressionStack",
                "PermissionDescriptorAllow"):
            raise ValueError(f"unreadable role descriptor entry: {entry}")
        found[str(right["identity"])] = found.get(str(right["identity"]), frozenset()) | \
            frozenset(allow.get("permissions") or ())
    return found
