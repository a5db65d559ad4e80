"""ECR repositories (and the creation templates that make them): immutable tags, scanning,
lifecycle, KMS, and no public repository or registry policy."""

from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from . import iam_data
from .arns import action_matches, covers_every
from .common import (
    Refs,
    Statement,
    as_list,
    depends_on,
    each_known,
    mapping,
    objects,
    of_type,
    parse_json,
    resource_policy,
    stack_policy,
    statements,
)
from .conditions import clauses, confines, literal_value
from .glob import has_wildcard, matches
from .normalize import enum, flag, text

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
POLICY_PROPS = {REPOSITORY_POLICY: "policy", REGISTRY_POLICY: "policy",
                CREATION_TEMPLATE: "repositoryPolicy"}
def _account(value: str, pattern: bool) -> bool:
    return literal_value(value, pattern) and value.isascii() and value.isdigit() \
        and len(value) == 12


def _org_path(value: str, pattern: bool) -> bool:
    # o-<org>/r-<root>/ou-...: confined to the organization when the org part is literal.
    org = value.split("/", 1)[0]
    return org.startswith("o-") and literal_value(org, pattern)


def _arn_of_account(value: str, pattern: bool) -> bool:
    fields = value.split(":")
    return len(fields) >= 6 and "${" not in value and _account(fields[4], pattern)


# Condition keys that, confined to named values, make a '*' principal mean "principals of this
# organization / account" rather than anyone (IAM global condition context keys).
PRINCIPAL_KEYS = {
    "aws:PrincipalOrgID": literal_value, "aws:SourceOrgID": literal_value,
    "aws:PrincipalOrgPaths": _org_path, "aws:SourceOrgPaths": _org_path,
    "aws:PrincipalAccount": _account, "aws:SourceAccount": _account,
    "aws:PrincipalArn": _arn_of_account, "aws:SourceArn": _arn_of_account,
}
_NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals",
            "arnnotlike"}


def _tag_immutable(args: ResourceValidationArgs) -> Iterable[str]:
    mutability = enum(args.props, "imageTagMutability", "ecr", "ImageTagMutability",
                      default="MUTABLE")
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        filters = [str(mapping(f, "imageTagMutabilityExclusionFilters").get("filter"))
                   for f in as_list(args.props.get("imageTagMutabilityExclusionFilters"))]
        yield ("imageTagMutability is 'IMMUTABLE_WITH_EXCLUSION': tags matching "
               f"{filters} stay mutable, and a task that runs such a tag can change under it; "
               "set 'IMMUTABLE' and keep moving tags in another repository.")
    elif mutability != "IMMUTABLE":
        yield f"imageTagMutability is {mutability!r}; set it to 'IMMUTABLE'."


def _kms(args: ResourceValidationArgs) -> Iterable[str]:
    configs = objects(args.props.get("encryptionConfigurations"), "encryptionConfigurations")
    kinds = [enum(c, "encryptionType", "ecr", "EncryptionType",
                  "encryptionConfigurations[].encryptionType", default="AES256")
             for c in configs]
    if not any(kind in ("KMS", "KMS_DSSE") for kind in kinds):
        yield "The repository is encrypted with AES256 only; use encryptionType 'KMS'."


def _confined(condition: Any) -> bool:
    return any(confines(condition, key, accept) for key, accept in PRINCIPAL_KEYS.items())


def _anyone(principal: Any) -> bool:
    if isinstance(principal, str):
        return principal.strip() == "*"
    return hasattr(principal, "get") and "*" in [str(p).strip()
                                                for p in as_list(principal.get("AWS"))]


def _denies_outsiders(deny: Statement, actions: list[str]) -> bool:
    """A Deny that applies to every principal outside named organizations or accounts, for
    every action the Allow grants and every repository: all its clauses are negated operators
    on principal keys with values that name one thing (StringNotEquals aws:PrincipalOrgID
    o-...). Any other clause narrows when the deny applies, so it does not count."""
    if not _anyone(deny.principal) or deny.not_actions is not None:
        return False
    if not all(any(action_matches(p, a, reading="deny") for p in deny.actions)
               for a in actions):
        return False
    if deny.not_resources is not None or (deny.resources and not covers_every(
            deny.resources, _repository_template(), kind="resource")):
        return False
    found = clauses(deny.condition)
    return bool(found) and all(
        c.base in _NEGATED and c.set_operator is None and c.values and any(
            c.key.lower() == key.lower() and all(accept(v, c.patterns) for v in c.values)
            for key, accept in PRINCIPAL_KEYS.items())
        for c in found)


def _repository_template() -> str:
    return str(iam_data.resource_types("ecr")["repository"]["arn"])


def _not_public(args: ResourceValidationArgs) -> Iterable[str]:
    prop = POLICY_PROPS[args.resource_type]
    if args.props.get(prop) is None:
        return
    document = parse_json(args.props.get(prop), prop)
    found = statements(document, prop)
    denies = [s for s in found if s.effect == "Deny"]
    every_ecr_action = iam_data.service_action_names("ecr")
    for index, statement in enumerate(found):
        if statement.effect != "Allow" or not _anyone(statement.principal):
            continue
        if _confined(statement.condition):
            continue
        if statement.not_actions is not None:
            actions = [a for a in every_ecr_action
                       if not any(action_matches(p, a, reading="deny")
                                  for p in statement.not_actions)]
        else:
            actions = [a for a in every_ecr_action
                       if any(action_matches(p, a) for p in statement.actions)]
        if actions and any(_denies_outsiders(d, actions) for d in denies):
            continue
        yield (f"{statement.label(index)} allows principal '*' without a condition that "
               "confines it to an organization or account; name the accounts or roles "
               "that may pull, or add aws:PrincipalOrgID.")


def _registry_scans(resources: list) -> list[str]:
    """Repository-name filters of registry rules that scan on push (or continuously)."""
    filters: list[str] = []
    for configuration in of_type(resources, REGISTRY_SCANNING):
        for rule in objects(configuration.props.get("rules"), "rules"):
            frequency = enum(rule, "scanFrequency", "ecr", "ScanFrequency",
                             "rules[].scanFrequency", default="MANUAL")
            if frequency in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
                filters += [str(f.get("filter")) for f in
                            objects(rule.get("repositoryFilters"), "repositoryFilters")]
    return filters


def _scan_on_push(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    filters = _registry_scans(list(args.resources))

    def judge(index: int, repository: Any) -> Iterator[tuple[str, str]]:
        scanning = mapping(repository.props.get("imageScanningConfiguration"),
                           "imageScanningConfiguration")
        if flag(scanning, "scanOnPush", "imageScanningConfiguration.scanOnPush"):
            return
        name = text(repository.props, "name")
        # A repository without a fixed name gets a generated one: only a filter matching any
        # name covers it (ECR registry scanning filters: '*' wildcards).
        if name and not has_wildcard(name):
            if any(matches(f, name) for f in filters):
                return
        elif any(f.strip("*") == "" for f in filters):
            return
        yield repository.urn, ("Images are not scanned on push; set "
                               "imageScanningConfiguration.scanOnPush or a registry scanning "
                               "rule whose filter matches this repository.")
    yield from each_known(list(of_type(args.resources, REPOSITORY)), judge)


def _lifecycle(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    policies = list(of_type(args.resources, LIFECYCLE_POLICY))

    def judge(index: int, repository: Any) -> Iterator[tuple[str, str]]:
        if any(depends_on(p, "repository", repository) for p in policies):
            return
        name = repository.props.get("name")
        if name is not None and any(p.props.get("repository") == name for p in policies):
            return
        yield repository.urn, ("The repository has no lifecycle policy; untagged and old "
                               "images accumulate forever.")
    yield from each_known(list(of_type(args.resources, REPOSITORY)), judge)


POLICIES = [
    resource_policy("ecr-tag-immutable", "ECR repositories and repository creation templates "
                    "have immutable image tags ('IMMUTABLE'; 'IMMUTABLE_WITH_EXCLUSION' leaves "
                    "the excluded tags mutable and is reported).",
                    (REPOSITORY, CREATION_TEMPLATE), _tag_immutable,
                    refs=Refs(why="A mutable tag can be repointed after review and scanning, so "
                                  "the same reference can run different code.",
                              fsbp=("ECR.2",), checkov=("CKV_AWS_51",)),
                    reads=("enum",),
                    remediation="Set image_tag_mutability='IMMUTABLE'; tag images by commit or "
                                "source hash."),
    stack_policy("ecr-scan-on-push", "ECR images are scanned on push (repository setting, or "
                 "a registry scanning rule whose filter matches the repository).", _scan_on_push,
                 refs=Refs(why="Scanning on push finds known CVEs before the image is "
                               "deployed; the scan gate reads its findings.",
                           fsbp=("ECR.1",), checkov=("CKV_AWS_163",)),
                 reads=("bool", "enum", "text"),
                 remediation="Set image_scanning_configuration.scan_on_push=True."),
    stack_policy("ecr-lifecycle-policy", "Every ECR repository has a lifecycle policy.",
                 _lifecycle, severity=Severity.MEDIUM,
                 refs=Refs(why="Without expiry, old vulnerable images stay pullable and "
                               "storage grows without bound.", fsbp=("ECR.3",)),
                 reads=(),
                 remediation="Add an aws.ecr.LifecyclePolicy for the repository (ContainerService "
                             "keeps the last N released images)."),
    resource_policy("ecr-kms", "ECR repositories and creation templates are encrypted with a "
                    "KMS key.", (REPOSITORY, CREATION_TEMPLATE), _kms, severity=Severity.MEDIUM,
                    refs=Refs(why="A customer-managed key puts image access under a key policy "
                                  "and CloudTrail-logged key use.", fsbp=("ECR.5",),
                              checkov=("CKV_AWS_136",)),
                    reads=("enum",),
                    remediation="Set encryption_configurations=[{encryption_type: 'KMS', "
                                "kms_key: <key ARN>}]."),
    resource_policy("ecr-repo-policy-not-public", "ECR repository, registry and creation-"
                    "template policies allow no anonymous ('*') principal unless a condition "
                    "confines it to an organization or account.", tuple(POLICY_PROPS),
                    _not_public, severity=Severity.CRITICAL,
                    refs=Refs(why="A '*' principal lets any AWS account pull (or push) the "
                                  "images.", cdk_nag=("AwsSolutions-ECR1",),
                              checkov=("CKV_AWS_32",),
                              doc="https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                                  "repository-policies.html"),
                    reads=("iam-action", "iam-covers-every", "iam-condition-confines"),
                    remediation="Replace Principal '*' with the account or role ARNs that pull, "
                                "or confine it with aws:PrincipalOrgID."),
]
