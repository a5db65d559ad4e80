"""IAM: no wildcard ECR resources (product rule), no admin, no service-wide actions, KMS decrypt
scoped, and trust policies that name who may assume a role and under what condition."""

import fnmatch
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, Severity

from .common import Statement, as_list, parse_json, resource_policy, statements

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
               "aws:iam/userPolicyAttachment:UserPolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
               "aws:iam/policyAttachment:PolicyAttachment")
IDENTITY_DOCUMENTS = (ROLE_POLICY, POLICY, USER_POLICY, GROUP_POLICY, ROLE)

# Every ECR action (botocore's ECR operations plus the IAM-only ReplicateImage and
# BatchImportUpstreamImage; a test keeps this in step with botocore).
ECR_ACTIONS = (
    "BatchCheckLayerAvailability", "BatchDeleteImage", "BatchGetImage",
    "BatchGetRepositoryScanningConfiguration", "BatchImportUpstreamImage", "CompleteLayerUpload",
    "CreatePullThroughCacheRule", "CreateRepository", "CreateRepositoryCreationTemplate",
    "DeleteLifecyclePolicy", "DeletePullThroughCacheRule", "DeleteRegistryPolicy",
    "DeleteRepository", "DeleteRepositoryCreationTemplate", "DeleteRepositoryPolicy",
    "DeleteSigningConfiguration", "DeregisterPullTimeUpdateExclusion",
    "DescribeImageReplicationStatus", "DescribeImageScanFindings", "DescribeImageSigningStatus",
    "DescribeImages", "DescribePullThroughCacheRules", "DescribeRegistry",
    "DescribeReplicationBackfillResults", "DescribeRepositories",
    "DescribeRepositoryCreationTemplates", "GetAccountSetting", "GetAuthorizationToken",
    "GetDownloadUrlForLayer", "GetLifecyclePolicy", "GetLifecyclePolicyPreview",
    "GetRegistryPolicy", "GetRegistryScanningConfiguration", "GetRepositoryPolicy",
    "GetSigningConfiguration", "InitiateLayerUpload", "ListImageReferrers", "ListImages",
    "ListPullTimeUpdateExclusions", "ListReplicationBackfills", "ListTagsForResource",
    "PutAccountSetting", "PutImage", "PutImageScanningConfiguration", "PutImageTagMutability",
    "PutLifecyclePolicy", "PutRegistryPolicy", "PutRegistryScanningConfiguration",
    "PutReplicationConfiguration", "PutSigningConfiguration", "RegisterPullTimeUpdateExclusion",
    "ReplicateImage", "SetRepositoryPolicy", "StartImageScan", "StartLifecyclePolicyPreview",
    "StartReplicationBackfill", "StopReplicationBackfill", "TagResource", "UntagResource",
    "UpdateImageStorageClass", "UpdatePullThroughCacheRule", "UpdateRepositoryCreationTemplate",
    "UploadLayerPart", "ValidatePullThroughCacheRule",
)
# AWS gives this action no resource-level scope; it is the one exemption.
ECR_TOKEN_ACTION = "ecr:GetAuthorizationToken"
SCOPED_ECR_ACTIONS = tuple(f"ecr:{a}" for a in ECR_ACTIONS if f"ecr:{a}" != ECR_TOKEN_ACTION)

# AWS-managed policies that grant ECR actions on "*".
WILDCARD_ECR_MANAGED_POLICIES = (
    "AmazonECSTaskExecutionRolePolicy", "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly", "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerServiceforEC2Role",
    "AWSAppRunnerServicePolicyForECRAccess", "AdministratorAccess", "PowerUserAccess",
)
_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?([A-Za-z0-9_+=,.@-]+)$")
# Values no real policy would scope to: an ARN field that matches them matches anything.
_PROBE_REGION = "zz-probe-9"
_PROBE_ACCOUNT = "000000000009"
_ECR_PROBES = ("repository/zz-probe-repo", "repository/qq/probe-other")
_KMS_PROBES = ("key/zz-probe-key", "key/qq-probe-other")


def action_matches(pattern: str, action: str) -> bool:
    """IAM action patterns: case-insensitive, with * and ? wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def granted(statement: Statement, candidates: Iterable[str]) -> list[str]:
    """Which of `candidates` an Allow statement grants (Action or NotAction)."""
    if statement.not_actions is not None:
        return [a for a in candidates
                if not any(action_matches(p, a) for p in statement.not_actions)]
    return [a for a in candidates if any(action_matches(p, a) for p in statement.actions)]


def reaches_any(pattern: str, service: str, resource_probes: tuple[str, ...]) -> bool:
    """Whether a Resource pattern reaches arbitrary resources of `service`: '*', or an ARN whose
    region, account or resource part is a wildcard ('arn:aws:ecr:*:...', 'repository/*')."""
    if pattern.strip() == "*":
        return True
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        # A truncated ARN such as 'arn:aws:ecr:*' matches everything after its last field.
        return pattern.endswith("*") and fnmatch.fnmatchcase(
            f"arn:aws:{service}:{_PROBE_REGION}:{_PROBE_ACCOUNT}:{resource_probes[0]}", pattern)
    _, _, arn_service, region, account, resource = parts
    if not fnmatch.fnmatchcase(service, arn_service.lower()):
        return False
    return (fnmatch.fnmatchcase(_PROBE_REGION, region)
            or fnmatch.fnmatchcase(_PROBE_ACCOUNT, account)
            or all(fnmatch.fnmatchcase(probe, resource) for probe in resource_probes))


def wildcard_resources(statement: Statement, service: str,
                       resource_probes: tuple[str, ...]) -> list[str]:
    """The statement's resources that reach arbitrary resources of `service`."""
    if statement.not_resources is not None:
        return [f"NotResource {statement.not_resources}"]
    return [r for r in statement.resources if reaches_any(r, service, resource_probes)]


def documents(args: ResourceValidationArgs, types: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(where, parsed document) for every policy document the resource carries."""
    props = args.props
    if args.resource_type == ROLE:
        if ROLE in types:
            for index, inline in enumerate(as_list(props.get("inlinePolicies"))):
                if inline.get("policy") is not None:
                    where = f"inlinePolicies[{inline.get('name', index)}]"
                    yield where, parse_json(inline.get("policy"), where)
    elif args.resource_type in types:
        yield "policy", parse_json(props.get("policy"), "policy")


def managed_policy_arns(args: ResourceValidationArgs) -> list[str]:
    props = args.props
    if args.resource_type == ROLE:
        return [str(a) for a in as_list(props.get("managedPolicyArns"))]
    if args.resource_type in ATTACHMENTS:
        return [str(props.get("policyArn"))]
    return []


def _allow_statements(args: ResourceValidationArgs, types: tuple[str, ...]
                      ) -> Iterator[tuple[str, str, Statement]]:
    for where, document in documents(args, types):
        for index, statement in enumerate(statements(document, where)):
            if statement.effect == "Allow":
                yield where, statement.label(index), statement


def _no_wildcard_ecr(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(
            args, IDENTITY_DOCUMENTS + (REPOSITORY_POLICY,)):
        actions = granted(statement, SCOPED_ECR_ACTIONS)
        if not actions:
            continue
        wide = wildcard_resources(statement, "ecr", _ECR_PROBES)
        if wide:
            shown = ", ".join(actions[:3]) + (f" (+{len(actions) - 3} more)" if len(actions) > 3
                                              else "")
            yield (f"{where} {label} allows {shown} on {', '.join(wide)}; scope ECR actions to "
                   "repository ARNs (only ecr:GetAuthorizationToken may use '*').")
    for arn in managed_policy_arns(args):
        match = _MANAGED_ARN.match(arn)
        if match and match.group(1) in WILDCARD_ECR_MANAGED_POLICIES:
            yield (f"Attaches AWS-managed policy {arn}, which allows ECR actions on '*'; use an "
                   "inline policy scoped to the repository ARNs.")


def _no_admin(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        full = statement.not_actions is None and any(a in ("*", "*:*") for a in statement.actions)
        everywhere = statement.not_resources is not None or "*" in statement.resources
        if full and everywhere:
            yield f"{where} {label} allows '*' on '*' (administrator access)."


def _no_service_wildcard(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        if statement.not_actions is not None:
            yield f"{where} {label} uses Allow with NotAction, which grants every other action."
            continue
        wide = [a for a in statement.actions if a == "*" or a.endswith(":*")]
        if wide:
            yield f"{where} {label} allows {', '.join(wide)}; list the actions needed."


def _pinned_by_resource_tag(statement: Statement) -> bool:
    """Keys created by the same deployment cannot be named in advance; a StringEquals on a
    resource tag (attribute-based access) scopes a key wildcard to the tagged keys."""
    equals = (statement.condition or {}).get("StringEquals") or {}
    return any(str(key).lower().startswith("aws:resourcetag/") and value not in ("", "*")
               for key, value in equals.items())


def _kms_decrypt_scoped(args: ResourceValidationArgs) -> Iterable[str]:
    for where, label, statement in _allow_statements(args, IDENTITY_DOCUMENTS):
        if granted(statement, ("kms:Decrypt",)) and (
                wildcard_resources(statement, "kms", _KMS_PROBES)) and (
                not _pinned_by_resource_tag(statement)):
            yield (f"{where} {label} allows kms:Decrypt on any key; name the key ARNs or pin "
                   "them with a StringEquals aws:ResourceTag condition.")


def _oidc_host(principal: str) -> str | None:
    marker = ":oidc-provider/"
    return principal.split(marker, 1)[1] if marker in principal else None


def _condition_keys(condition: Any) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for operator_values in (condition or {}).values():
        if hasattr(operator_values, "items"):
            for key, value in operator_values.items():
                keys.setdefault(key.lower(), []).extend(str(v) for v in as_list(value))
    return keys


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
        if "*" in as_list(principal.get("AWS")):
            yield f"{label} trusts AWS principal '*'; name the account or role."
        conditions = _condition_keys(statement.condition)
        if "ecs-tasks.amazonaws.com" in as_list(principal.get("Service")) and not (
                "aws:sourceaccount" in conditions or "aws:sourcearn" in conditions):
            yield (f"{label} trusts ecs-tasks.amazonaws.com without an aws:SourceAccount or "
                   "aws:SourceArn condition.")
        for federated in as_list(principal.get("Federated")):
            host = _oidc_host(str(federated))
            if host is None:
                continue
            for claim in ("sub", "aud"):
                values = conditions.get(f"{host}:{claim}".lower())
                if not values:
                    yield f"{label} trusts {host} without a condition on '{host}:{claim}'."
                elif all(v.strip() in ("*", "") for v in values):
                    yield f"{label} trusts {host} with a wildcard '{host}:{claim}' condition."


POLICIES = [
    resource_policy(
        "iam-no-wildcard-ecr-resource",
        "No IAM statement allows an ECR action on '*', a wildcard region/account or "
        "'repository/*' (ecr:GetAuthorizationToken excepted), and no AWS-managed policy that "
        "does is attached.",
        IDENTITY_DOCUMENTS + (REPOSITORY_POLICY,) + ATTACHMENTS, _no_wildcard_ecr,
        severity=Severity.CRITICAL, enforcement=EnforcementLevel.MANDATORY,
        remediation="Grant ECR actions on the repository ARNs the role uses; keep only "
                    "ecr:GetAuthorizationToken on '*'; replace AmazonECSTaskExecutionRolePolicy "
                    "with ContainerService's scoped execution role."),
    resource_policy("iam-no-admin", "No IAM statement allows '*' on '*'.", IDENTITY_DOCUMENTS,
                    _no_admin, severity=Severity.CRITICAL,
                    remediation="Grant the specific actions on the specific resources needed."),
    resource_policy("iam-no-service-wildcard-action", "IAM statements list actions: no '*', no "
                    "'service:*', no Allow with NotAction.", IDENTITY_DOCUMENTS,
                    _no_service_wildcard,
                    remediation="Replace wildcards with the actions the workload calls."),
    resource_policy("iam-kms-decrypt-scoped", "kms:Decrypt is allowed only on named keys, or "
                    "on keys pinned by a resource-tag condition.",
                    IDENTITY_DOCUMENTS, _kms_decrypt_scoped,
                    remediation="Set Resource to the key ARNs that encrypt the data read."),
    resource_policy("iam-trust-scoped", "Role trust policies name a service or identity "
                    "provider, with aws:SourceAccount for ecs-tasks and sub/aud conditions for "
                    "OIDC.", (ROLE,), _trust_scoped, severity=Severity.CRITICAL,
                    remediation="Add Condition StringEquals aws:SourceAccount for ECS tasks; "
                                "'<host>:sub' and '<host>:aud' for OIDC providers."),
]
