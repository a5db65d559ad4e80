"""Who can change a stack, or read its secrets: every identity the delivery design creates, each
evaluated over what the delivery program really registers (its recording, offline).

- GitHub workflow subjects: which Pulumi token each can exchange its OIDC token for
  (the OidcIssuer's policies) and which AWS roles trust it directly.
- Pulumi teams and their tokens: members, and the scopes of Pulumi's documented permission sets
  (shipyard_delivery.pulumi_access, each with its page) granted by TeamStackPermission,
  TeamEnvironmentPermission and custom roles (read back from the role descriptor).
- ESC environments: who may open each, and the AWS role its login assumes.
- AWS roles: their identity policies evaluated in the IAM simulator
  (shipyard_preview.iam_simulator) against calls on the stack's own resources: changes that
  reach it (a service update, a route, a re-tag, a role passed, ...) and reads of its secrets.

An identity may change the stack only on the approved path: a GitHub environment whose jobs the
release reviewers approve. The seven ways issue 17 found to reach prod without that approval are
judged one by one from the same facts."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format

from .engine import Recording
from .plan import clean

GITHUB_HOST = "token.actions.githubusercontent.com"
PULUMI_OIDC_HOST = "api.pulumi.com/oidc"
ADMIN_TOKEN = "organization admin token"


@dataclass
class Finding:
    identity: str
    kind: str
    """`github subject`, `pulumi team`, `esc environment`, `aws role`, `person`."""
    reaches: list[str] = field(default_factory=list)
    """What this identity obtains (tokens, environments, roles)."""
    changes: list[str] = field(default_factory=list)
    """How it can change the stack (empty: it cannot)."""
    reads_secrets: list[str] = field(default_factory=list)
    approved: bool = False
    """On the approved path (behind the release reviewers' approval)."""

    @property
    def violation(self) -> bool:
        return bool(self.changes or self.reads_secrets) and not self.approved


@dataclass
class PathVerdict:
    number: int
    path: str
    can: bool
    why: str

    @property
    def verdict(self) -> str:
        return "CAN" if self.can else "cannot"


@dataclass
class AccessReport:
    stack: str
    findings: list[Finding]
    paths: list[PathVerdict]

    @property
    def holds(self) -> bool:
        return not any(f.violation for f in self.findings) and not any(p.can for p in self.paths)


def _inputs(recording: Recording) -> dict[str, list[tuple[Any, dict]]]:
    found: dict[str, list[tuple[Any, dict]]] = {}
    for resource in recording.resources:
        found.setdefault(resource.type, []).append(
            (resource, clean(json_format.MessageToDict(resource.properties))))
    return found


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _trusted_subjects(trust: dict, host: str) -> list[str]:
    subjects: list[str] = []
    for statement in trust.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for values in (statement.get("Condition") or {}).values():
            subjects += _list(values.get(f"{host}:sub"))
    return subjects


def _context(subject: str) -> str:
    """`repo:owner/name:environment:production` -> `environment:production`."""
    return subject.split(":", 2)[2] if subject.count(":") >= 2 else subject


@dataclass
class AwsRole:
    name: str
    arn: str
    account: str
    trust: dict
    policies: list[dict]


@dataclass
class Design:
    """The facts of one delivery recording the report reasons over."""

    settings: Any
    teams: dict[str, list[str]]
    exchange: list[dict]
    stack_scopes: dict[str, dict[str, frozenset[str]]]
    """team -> `<project>/<stack>` -> scopes."""
    environment_openers: dict[str, list[str]]
    """`<project>/<env>` -> teams that may open it."""
    environment_roles: dict[str, str]
    roles: list[AwsRole]
    github_environments: dict[str, dict]
    rulesets: list[dict]
    schedules: list[tuple[str, str]]
    """(type, stack) of every schedule that runs a deployment of a stack."""
    repository_policies: list[dict]


def read_design(recording: Recording) -> Design:
    from shipyard_delivery import pulumi_access
    from shipyard_delivery.settings import KEYS, NAMESPACE, parse_delivery_settings

    raw: dict[str, Any] = {}
    for key in KEYS:
        value = recording.stack.config.get(f"{NAMESPACE}:{key}")
        if value is not None:
            try:
                raw[key] = json.loads(value) if key in ("stacks", "review_stacks") else value
            except json.JSONDecodeError:
                raw[key] = value
    settings = parse_delivery_settings(raw)
    by_type = _inputs(recording)
    project = settings.app_project
    teams = {props["name"]: list(props.get("members") or [])
             for _, props in by_type.get("pulumiservice:index:Team", [])}
    exchange = [p for _, issuer in by_type.get("pulumiservice:index:OidcIssuer", [])
                for p in issuer.get("policies") or []]
    stack_scopes: dict[str, dict[str, frozenset[str]]] = {}
    by_number = {n: pulumi_access.PERMISSION_SETS[name].scopes
                 for name, n in pulumi_access.TEAM_STACK_SCOPES.items()}
    for _, grant in by_type.get("pulumiservice:index:TeamStackPermission", []):
        name = f"{grant['project']}/{grant['stack']}"
        scopes = by_number[int(grant["permission"])]
        team = stack_scopes.setdefault(grant["team"], {})
        team[name] = team.get(name, frozenset()) | scopes
    roles_by_urn = {r.urn: props for r, props in by_type.get(
        "pulumiservice:index:OrganizationRole", [])}
    stack_by_id = {s.pulumi_stack_id: f"{project}/{s.name}" for s in settings.stacks}
    for resource, assignment in by_type.get("pulumiservice:index:TeamRoleAssignment", []):
        for urn in resource.property_dependencies.get("roleId", []):
            for stack_id, scopes in pulumi_access.granted_scopes(
                    roles_by_urn[urn]["permissions"]).items():
                name = stack_by_id.get(stack_id, f"unknown stack id {stack_id}")
                team = stack_scopes.setdefault(assignment["teamName"], {})
                team[name] = team.get(name, frozenset()) | scopes
    openers: dict[str, list[str]] = {}
    for _, grant in by_type.get("pulumiservice:index:TeamEnvironmentPermission", []):
        if grant["permission"] in ("open", "write", "admin"):
            openers.setdefault(f"{grant['project']}/{grant['environment']}", []).append(
                grant["team"])
    environment_roles = {}
    for _, env in by_type.get("pulumiservice:index:Environment", []):
        text = env["yaml"]
        text = text.get("text", "") if isinstance(text, dict) else text
        body = yaml.safe_load(text) or {}
        login = body["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]
        environment_roles[f"{env['project']}/{env['name']}"] = login["roleArn"]
    policies_by_urn = {r.urn: json.loads(p["policy"])
                       for r, p in by_type.get("aws:iam/policy:Policy", [])}
    roles = []
    for resource, props in by_type.get("aws:iam/role:Role", []):
        account = next((a for a in settings.accounts if f"::aws-{a}::" in resource.provider),
                       settings.aws_account_id)
        documents = [json.loads(p["policy"]) for r, p in by_type.get(
            "aws:iam/rolePolicy:RolePolicy", []) if resource.urn in r.property_dependencies.get(
            "role", [])]
        documents += [policies_by_urn[urn] for r, _ in by_type.get(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment", [])
            if resource.urn in r.property_dependencies.get("role", [])
            for urn in r.property_dependencies.get("policyArn", [])]
        roles.append(AwsRole(props["name"], f"arn:aws:iam::{account}:role/{props['name']}",
                             account, json.loads(props["assumeRolePolicy"]), documents))
    github_environments = {props["environment"]: props for _, props in by_type.get(
        "github:index/repositoryEnvironment:RepositoryEnvironment", [])}
    for _, policy in by_type.get(
            "github:index/repositoryEnvironmentDeploymentPolicy:"
            "RepositoryEnvironmentDeploymentPolicy", []):
        protected = github_environments.get(policy["environment"])
        if protected is not None:
            protected.setdefault("refPatterns", []).append(
                ("tag", policy["tagPattern"]) if policy.get("tagPattern")
                else ("branch", policy.get("branchPattern")))
    rulesets = [props for _, props in by_type.get(
        "github:index/repositoryRuleset:RepositoryRuleset", [])]
    schedules = [(t.rsplit(":", 1)[-1], f"{props['project']}/{props['stack']}")
                 for t in ("pulumiservice:index:DriftSchedule",
                           "pulumiservice:index:DeploymentSchedule",
                           "pulumiservice:index:TtlSchedule")
                 for _, props in by_type.get(t, [])]
    repository_policies = [json.loads(p["policy"]) for _, p in by_type.get(
        "aws:ecr/repositoryPolicy:RepositoryPolicy", [])]
    return Design(settings, teams, exchange, stack_scopes, openers, environment_roles, roles,
                  github_environments, rulesets, schedules, repository_policies)


def probes(*, account: str, region: str, environment: str, prefix: str,
           retag_to: Iterable[str] = ()) -> list[tuple[str, str, str, dict]]:
    """(what, action, resource, context) of calls on a stack's own resources, as they are named
    and tagged: changes that reach the stack, then reads of its secrets. `retag_to`: the other
    environments of the design; a role of one of them that could re-tag the stack's resources
    as its own would have them in its reach next."""
    tags = {"aws:ResourceTag/environment": environment, "aws:ResourceTag/project": "shipyard",
            "aws:RequestedRegion": region}
    ec2 = f"arn:aws:ec2:{region}:{account}"
    route_table = f"{ec2}:route-table/rtb-0a1b2c3d4e5f67890"
    # Both authorization tags written, as a role that means to claim the resource would.
    retags = [("change", "ec2:CreateTags", route_table,
               {**tags, "aws:RequestTag/environment": other, "aws:RequestTag/project": "shipyard",
                "aws:TagKeys": ["environment", "project"]})
              for other in dict.fromkeys([*retag_to, "elsewhere"]) if other != environment]
    return [
        ("change", "ecs:UpdateService",
         f"arn:aws:ecs:{region}:{account}:service/cluster-1a2b3c4/{prefix}-service-5d6e7f", tags),
        ("change", "ecs:RegisterTaskDefinition",
         f"arn:aws:ecs:{region}:{account}:task-definition/{prefix}:7",
         {**tags, "aws:RequestTag/environment": environment, "aws:RequestTag/project": "shipyard",
          "aws:TagKeys": ["environment", "project"]}),
        ("change", "iam:PassRole", f"arn:aws:iam::{account}:role/{prefix}-execution-8a9b0c1",
         {**tags, "iam:PassedToService": "ecs-tasks.amazonaws.com"}),
        # Re-tag a resource of the stack into another environment's reach.
        *retags,
        ("change", "ec2:CreateRoute", route_table, tags),
        ("change", "ec2:AuthorizeSecurityGroupIngress",
         f"{ec2}:security-group/sg-0a1b2c3d4e5f67890", tags),
        ("change", "elasticloadbalancing:ModifyListener",
         (f"arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{prefix}-alb-1a2/"
          "50dc6c/f2f7"), tags),
        ("change", "logs:DeleteLogGroup",
         f"arn:aws:logs:{region}:{account}:log-group:{prefix}-logs-5c6", tags),
        ("change", "cloudwatch:DeleteAlarms",
         f"arn:aws:cloudwatch:{region}:{account}:alarm:{prefix}-unhealthy-6d7", tags),
        ("change", "wafv2:DeleteWebACL",
         f"arn:aws:wafv2:{region}:{account}:regional/webacl/{prefix}-waf-4c5/a1b2", tags),
        ("change", "application-autoscaling:PutScheduledAction",
         f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/056f0a1b2c3d",
         tags),
        ("change", "iam:DeleteRole", f"arn:aws:iam::{account}:role/{prefix}-task-2b3c4d5", tags),
        ("change", "s3:DeleteBucket", f"arn:aws:s3:::{prefix}-logs-3a4b5c", tags),
        ("change", "secretsmanager:PutSecretValue",
         f"arn:aws:secretsmanager:{region}:{account}:secret:{prefix}-api-token-1f2-AbCdEf", tags),
        ("secret", "secretsmanager:GetSecretValue",
         f"arn:aws:secretsmanager:{region}:{account}:secret:{prefix}-api-token-1f2-AbCdEf", tags),
        ("secret", "kms:Decrypt",
         f"arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab", tags),
    ]


def probe_case(role: "AwsRole", call: tuple[str, str, str, dict], region: str,
               account: str) -> Any:
    """The simulator case of one probe by one role on resources of `account` (named even where
    the ARN has no account, as S3's do: a role of another account then needs the bucket's own
    policy too). A key's own policy decides first (KMS): the component's key policy delegates
    to the account's IAM policies, so the role's statements count; without it every key call
    would read as refused."""
    from shipyard.iam import kms_key_policy

    from .iam_simulator import Case

    _, action, resource, context = call
    return Case(action=action, resource=resource, principal=role.arn,
                identity_policies=role.policies, context=context, resource_account=account,
                resource_policy=kms_key_policy(account_id=account, region=region)
                if action.startswith("kms:") else None)


_REACH: dict[str, dict[str, tuple[list[str], list[str]]]] = {}
"""Role reach already evaluated, by everything it depends on: a design varied in its Pulumi or
GitHub facts only (the tests reopen each path that way) asks the simulator once."""


def _role_reach(design: Design, stack: Any, app_environment: str, prefix: str,
                environments: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    """AWS role name -> (changes, secret reads) it is allowed on the stack's own resources."""
    key = json.dumps([[(r.name, r.arn, r.policies) for r in design.roles], stack.aws_account_id,
                      design.settings.aws_region, app_environment, prefix, environments],
                     sort_keys=True)
    if key not in _REACH:
        _REACH[key] = _evaluate_reach(design, stack, app_environment, prefix, environments)
    return {name: (list(changes), list(secrets))
            for name, (changes, secrets) in _REACH[key].items()}


def _evaluate_reach(design: Design, stack: Any, app_environment: str, prefix: str,
                    environments: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    from .iam_simulator import simulate

    settings = design.settings
    calls = probes(account=stack.aws_account_id, region=settings.aws_region,
                   environment=app_environment, prefix=prefix, retag_to=environments)
    cases = [probe_case(role, call, settings.aws_region, stack.aws_account_id)
             for role in design.roles for call in calls]
    results = simulate(cases)
    reach: dict[str, tuple[list[str], list[str]]] = {}
    index = 0
    for role in design.roles:
        changes: list[str] = []
        secrets: list[str] = []
        for what, action, resource, _ in calls:
            result = results[index]
            index += 1
            if result.errors:
                raise RuntimeError(f"iam-simulate could not evaluate {action} for {role.name}: "
                                   f"{result.errors}")
            if result.allowed:
                (changes if what == "change" else secrets).append(f"{action} on {resource}")
        reach[role.name] = (changes, secrets)
    return reach


def _reviewed(design: Design, context: str) -> bool:
    if not context.startswith("environment:"):
        return False
    env = design.github_environments.get(context.split(":", 1)[1])
    return bool(env and env.get("reviewers") and env.get("preventSelfReview")
                and env.get("canAdminsBypass") is False)


def build_report(recording: Recording, app: Any, project_dir: Path) -> AccessReport:
    return report_from_design(read_design(recording), app, project_dir)


def report_from_design(design: Design, app: Any, project_dir: Path) -> AccessReport:
    """`app`: the stack as its stack file describes it (shipyard_delivery.app_stacks.AppStack:
    its environment tag and the names its resources start with)."""
    from shipyard_delivery import pulumi_access
    from shipyard_delivery.trust import esc_subject

    settings = design.settings
    stack_name = app.name
    stack = next((s for s in settings.stacks if s.name == stack_name), None)
    if stack is None:
        from shipyard.errors import ConfigError

        raise ConfigError("stack", stack_name, "a stack of delivery/Pulumi.org.yaml: "
                          + ", ".join(s.name for s in settings.stacks))
    project = settings.app_project
    target = f"{project}/{stack_name}"
    target_env = f"{project}/aws-{stack_name}"
    from shipyard_delivery.app_stacks import read_app_stack

    # Every environment of the design (a role of each could re-tag this stack's resources).
    environments = [read_app_stack(s.name, project_dir).environment for s in settings.stacks
                    if (project_dir / f"Pulumi.{s.name}.yaml").is_file()]
    role_reach = _role_reach(design, stack, app.environment, app.resource_prefixes[0],
                             environments)
    # By name: role names are unique across the design, and an ARN recorded offline carries the
    # mock's account, not the provider's.
    roles_by_name = {r.name: r for r in design.roles}
    esc_role = {env: roles_by_name.get(arn.rsplit("/", 1)[-1])
                for env, arn in design.environment_roles.items()}

    def team_capabilities(scopes_by_stack: dict[str, frozenset[str]],
                          opens: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
        reaches, changes, secrets = [], [], []
        scopes = scopes_by_stack.get(target, frozenset())
        if scopes & pulumi_access.CHANGES_STACK:
            changes.append(f"{target}: {', '.join(sorted(scopes & pulumi_access.CHANGES_STACK))}")
        if scopes & pulumi_access.READS_SECRETS:
            secrets.append(f"{target}: {', '.join(sorted(scopes & pulumi_access.READS_SECRETS))}")
        for env in sorted(set(opens)):
            role = esc_role.get(env)
            reaches.append(f"opens {env}" + (f" -> {role.name}" if role else ""))
            if env == target_env:
                secrets.append(f"opens {env} (the stack's credentials)")
            if role is not None:
                role_changes, role_secrets = role_reach[role.name]
                changes += [f"{role.name}: {c}" for c in role_changes]
                secrets += [f"{role.name}: {s}" for s in role_secrets]
        return reaches, changes, secrets

    findings: list[Finding] = []
    team_opens: dict[str, list[str]] = {}
    for env, teams in design.environment_openers.items():
        for team in teams:
            team_opens.setdefault(team, []).append(env)
    team_findings: dict[str, Finding] = {}
    for team in sorted(set(design.teams) | set(design.stack_scopes) | set(team_opens)):
        reaches, changes, secrets = team_capabilities(design.stack_scopes.get(team, {}),
                                                      team_opens.get(team, []))
        granted = [f"{s}: {len(v)} scopes" for s, v in sorted(design.stack_scopes.get(
            team, {}).items())]
        team_findings[team] = Finding(team, "pulumi team", granted + reaches, changes, secrets)
    admin_reaches, admin_changes, admin_secrets = team_capabilities(
        {f"{project}/{s.name}": pulumi_access.PERMISSION_SETS["Stack Admin"].scopes
         for s in settings.stacks}, design.environment_roles)
    admin = Finding(ADMIN_TOKEN, "pulumi token", ["every scope (organization admin)"]
                    + admin_reaches, admin_changes, admin_secrets)

    # GitHub subjects: every context a token exchange rule or a role trust names.
    contexts: dict[str, Finding] = {}
    for rule in design.exchange:
        context = _context(str((rule.get("rules") or {}).get("sub", "")))
        finding = contexts.setdefault(context, Finding(f"repo:{settings.github_repository}:"
                                                       f"{context}", "github subject"))
        source = (team_findings.get(rule.get("teamName", "")) if rule.get("tokenType") == "team"
                  else admin if rule.get("tokenType") == "organization" else None)
        label = (f"team token {rule.get('teamName')}" if rule.get("tokenType") == "team"
                 else ADMIN_TOKEN if "admin" in (rule.get("authorizedPermissions") or [])
                 else f"{rule.get('tokenType')} token")
        if label not in finding.reaches:
            finding.reaches.append(label)
            if source is not None:
                finding.changes += source.changes
                finding.reads_secrets += source.reads_secrets
    for role in design.roles:
        for subject in _trusted_subjects(role.trust, GITHUB_HOST):
            context = _context(subject)
            finding = contexts.setdefault(context, Finding(
                f"repo:{settings.github_repository}:{context}", "github subject"))
            if f"aws role {role.name}" not in finding.reaches:
                finding.reaches.append(f"aws role {role.name}")
                changes, secrets = role_reach[role.name]
                finding.changes += [f"{role.name}: {c}" for c in changes]
                finding.reads_secrets += [f"{role.name}: {s}" for s in secrets]
    for context, finding in contexts.items():
        finding.approved = _reviewed(design, context)
        findings.append(finding)
    # A token is only as approved as every context that can obtain it.
    for team, finding in team_findings.items():
        obtainers = [c for c, f in contexts.items() if f"team token {team}" in f.reaches]
        finding.approved = bool(obtainers) and all(_reviewed(design, c) for c in obtainers)
        finding.reaches.insert(0, "token from: " + (", ".join(obtainers) or "no context"))
        findings.append(finding)
        for member in design.teams.get(team, []):
            findings.append(Finding(member, "person", [f"member of {team}"], finding.changes,
                                    finding.reads_secrets))
    admin_obtainers = [c for c, f in contexts.items() if ADMIN_TOKEN in f.reaches]
    admin.approved = all(_reviewed(design, c) for c in admin_obtainers)
    admin.reaches.insert(0, "token from: " + (", ".join(admin_obtainers) or "no context"))
    findings.append(admin)
    for env, role_arn in sorted(design.environment_roles.items()):
        login = esc_role.get(env)
        openers = design.environment_openers.get(env, [])
        changes, secrets = role_reach[login.name] if login else ([], [])
        findings.append(Finding(env, "esc environment",
                                [f"opened by {', '.join(openers) or 'no team'}",
                                 f"logs in as {login.arn if login else role_arn}"],
                                [f"{login.name if login else role_arn}: {c}" for c in changes],
                                [f"{login.name if login else role_arn}: {s}" for s in secrets]
                                + (["the stack's credentials"] if env == target_env else []),
                                approved=all(team_findings[t].approved for t in openers)))
    for role in design.roles:
        changes, secrets = role_reach[role.name]
        esc = [s for s in _trusted_subjects(role.trust, PULUMI_OIDC_HOST)]
        gh = list(dict.fromkeys(_context(s) for s in _trusted_subjects(role.trust, GITHUB_HOST)))
        envs = [env for env in design.environment_roles
                if esc_subject(org=settings.pulumi_org, project=project,
                               environment=env.split("/", 1)[1]) in esc]
        approved = (all(_reviewed(design, c) for c in gh)
                    and all(f.approved for f in findings
                            if f.kind == "esc environment" and f.identity in envs))
        findings.append(Finding(role.arn, "aws role",
                                [f"trusts {', '.join(envs + gh) or 'nobody'}"], changes, secrets,
                                approved=approved))
    paths = judge_paths(design, stack, target, target_env, role_reach, contexts, team_findings,
                        findings, project_dir)
    return AccessReport(stack_name, findings, paths)


def judge_paths(design: Design, stack: Any, target: str, target_env: str,
                role_reach: dict[str, tuple[list[str], list[str]]],
                contexts: dict[str, Finding], team_findings: dict[str, Finding],
                findings: list[Finding], project_dir: Path) -> list[PathVerdict]:
    from shipyard_delivery import pulumi_access
    from shipyard_delivery.github_settings import RELEASE_TAG_PATTERN

    settings = design.settings
    own_role = f"{settings.app_project}-deploy-{stack.name}"
    others = [name for name, (changes, secrets) in role_reach.items()
              if name != own_role and (changes or secrets)]
    shared = sorted(s.name for s in settings.stacks
                    if s is not stack and s.aws_account_id == stack.aws_account_id)
    settings_holders = sorted(
        f"{team} on {name}" for team, by_stack in design.stack_scopes.items()
        for name, scopes in by_stack.items() if scopes & pulumi_access.SETTINGS_SCOPES)
    production = {f"{settings.app_project}/{s.name}" for s in settings.stacks if s.production}
    delivered = {f"{settings.app_project}/{s.name}" for s in settings.stacks}
    nonprod_settings = [h for h in settings_holders
                        if h.split(" on ")[1] in delivered - production]
    prod_settings = [h for h in settings_holders if h.split(" on ")[1] in production]
    unreviewed_admin = [c for c, f in contexts.items()
                        if ADMIN_TOKEN in f.reaches and not _reviewed(design, c)]
    release = design.github_environments.get("production", {})
    tag_only = release.get("refPatterns") == [("tag", RELEASE_TAG_PATTERN)]
    tag_rules = [r for r in design.rulesets if r.get("target") == "tag"
                 and f"refs/tags/{RELEASE_TAG_PATTERN}" in ((r.get("conditions") or {}).get(
                     "refName") or {}).get("includes", [])
                 and all((r.get("rules") or {}).get(k) for k in ("creation", "update",
                                                                  "deletion"))
                 and r.get("enforcement") == "active"]
    workflow = project_dir / ".github" / "workflows" / "release.yml"
    release_text = workflow.read_text() if workflow.is_file() else ""
    trusts_github_record = "/deployments" in release_text and "gh api" in release_text
    openers = design.environment_openers.get(target_env, [])
    human_openers = [f"{m} ({t})" for t in openers for m in design.teams.get(t, [])]
    unapproved_openers = [t for t in openers if not team_findings[t].approved]
    schedules = [f"{kind} on {name}" for kind, name in design.schedules if name == target]
    return [
        PathVerdict(1, "another stack's deploy role acts on this stack (a shared account, a "
                       "re-tag, a role passed)",
                    bool(others or (stack.production and shared)),
                    f"roles other than {own_role} reaching it: {', '.join(others) or 'none'}; "
                    f"stacks in its account: {', '.join(shared) or 'none'}"),
        PathVerdict(2, "settings or an import on a non-production stack that the next "
                       "deployment inherits", bool(nonprod_settings),
                    "teams holding settings, import, schedule or webhook scopes: "
                    + (", ".join(nonprod_settings) or "none")),
        PathVerdict(3, "settings or an import on the production stack that the next approved "
                       "release inherits", bool(prod_settings),
                    "teams holding them: " + (", ".join(prod_settings) or "none")),
        PathVerdict(4, "a merge to policy/ runs with the organization admin token",
                    bool(unreviewed_admin),
                    "contexts that get the admin token without the release reviewers: "
                    + (", ".join(unreviewed_admin) or "none")),
        PathVerdict(5, "a tag on a branch commit with an edited release.yml, or a forged "
                       "staging deployment status", not (tag_only and tag_rules)
                    or trusts_github_record,
                    f"production deploys {'only' if tag_only else 'not only'} release tags; "
                    f"{len(tag_rules)} active ruleset(s) restrict creating, moving and deleting "
                    f"them; the release checks staging through "
                    f"{'GitHub deployment statuses' if trusts_github_record else 'Pulumi'}"),
        PathVerdict(6, "a person opens the production ESC environment at any time",
                    bool(human_openers or unapproved_openers),
                    f"openers of {target_env}: {', '.join(openers) or 'none'}; members: "
                    f"{', '.join(human_openers) or 'none'}; openers obtainable without the "
                    f"approval: {', '.join(unapproved_openers) or 'none'}"),
        PathVerdict(7, "drift detection runs unreleased code with the stack's credentials",
                    bool(schedules),
                    "schedules that run it: " + (", ".join(schedules) or "none")),
    ]


def render(report: AccessReport) -> str:
    lines = [f"Who can change {report.stack} or read its secrets", ""]
    for kind in ("github subject", "pulumi team", "pulumi token", "person", "esc environment",
                 "aws role"):
        group = [f for f in report.findings if f.kind == kind]
        if not group:
            continue
        lines.append(f"{kind}s:")
        for finding in group:
            status = ("approved path" if finding.approved and (finding.changes
                                                               or finding.reads_secrets)
                      else "VIOLATION" if finding.violation else "no access")
            lines.append(f"  {finding.identity}  [{status}]")
            for reach in finding.reaches:
                lines.append(f"      reaches: {reach}")
            for change in finding.changes[:4]:
                lines.append(f"      changes: {change}")
            if len(finding.changes) > 4:
                lines.append(f"      changes: ... {len(finding.changes) - 4} more")
            for secret in finding.reads_secrets[:4]:
                lines.append(f"      reads secrets: {secret}")
        lines.append("")
    lines.append("Ways to change it or get its credentials without the approval:")
    for path in report.paths:
        lines.append(f"  {path.number}. {path.path}: {path.verdict} ({path.why})")
    lines.append("")
    lines.append("verdict: only the approved release path can change it or read its secrets"
                 if report.holds else "verdict: OTHER IDENTITIES CAN CHANGE IT OR READ ITS "
                                      "SECRETS")
    return "\n".join(lines) + "\n"
