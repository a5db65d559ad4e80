"""ECR repositories (and the creation templates that make them): immutable tags, scanning,
lifecycle, KMS, and no public repository or registry policy."""

from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from .common import (
    Refs,
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
from .patterns import confines, matches

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
POLICY_PROPS = {REPOSITORY_POLICY: "policy", REGISTRY_POLICY: "policy",
                CREATION_TEMPLATE: "repositoryPolicy"}
# Condition keys that, confined to named values, make a '*' principal mean "principals of this
# organization / account" rather than anyone (IAM global condition keys).
_PRINCIPAL_CONFINING_KEYS = {
    "aws:PrincipalOrgID": ("o-zzprobe9",),
    "aws:PrincipalOrgPaths": ("o-zzprobe9/r-zz9/ou-zz9-zzprobe/",),
    "aws:PrincipalAccount": ("000000000009",),
    "aws:SourceAccount": ("000000000009",),
    "aws:SourceOrgID": ("o-zzprobe9",),
    "aws:PrincipalArn": ("arn:aws:iam::000000000009:role/zzprobe",),
}
_PROBE_REPOSITORY = "zzprobe/zzprobe-repository"


def _tag_immutable(args: ResourceValidationArgs) -> Iterable[str]:
    mutability = args.props.get("imageTagMutability") or "MUTABLE"
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
    kinds = [c.get("encryptionType") or "AES256" for c in configs]
    if not any(kind in ("KMS", "KMS_DSSE") for kind in kinds):
        yield "The repository is encrypted with AES256 only; use encryptionType 'KMS'."


def _confined(condition: Any) -> bool:
    return any(confines(condition, key, probes)
               for key, probes in _PRINCIPAL_CONFINING_KEYS.items())


def _not_public(args: ResourceValidationArgs) -> Iterable[str]:
    prop = POLICY_PROPS[args.resource_type]
    if args.props.get(prop) is None:
        return
    document = parse_json(args.props.get(prop), prop)
    for index, statement in enumerate(statements(document, prop)):
        if statement.effect != "Allow":
            continue
        principal = statement.principal
        principals = (as_list(principal.get("AWS")) if hasattr(principal, "get")
                      else as_list(principal))
        if "*" in principals and not _confined(statement.condition):
            yield (f"{statement.label(index)} allows principal '*' without a condition that "
                   "confines it to an organization or account; name the accounts or roles "
                   "that may pull, or add aws:PrincipalOrgID.")


def _registry_scans(resources: list) -> list[str]:
    """Repository-name filters of registry rules that scan on push (or continuously)."""
    filters: list[str] = []
    for configuration in of_type(resources, REGISTRY_SCANNING):
        for rule in objects(configuration.props.get("rules"), "rules"):
            if rule.get("scanFrequency") in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
                filters += [str(f.get("filter")) for f in
                            objects(rule.get("repositoryFilters"), "repositoryFilters")]
    return filters


def _scan_on_push(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    filters = _registry_scans(list(args.resources))

    def judge(index: int, repository: Any) -> Iterator[tuple[str, str]]:
        scanning = mapping(repository.props.get("imageScanningConfiguration"),
                           "imageScanningConfiguration")
        if scanning.get("scanOnPush") is True:
            return
        name = repository.props.get("name")
        target = name if isinstance(name, str) and name else _PROBE_REPOSITORY
        if any(matches(f, target) for f in filters):
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
                    remediation="Set image_tag_mutability='IMMUTABLE'; tag images by commit or "
                                "source hash."),
    stack_policy("ecr-scan-on-push", "ECR images are scanned on push (repository setting, or "
                 "a registry scanning rule whose filter matches the repository).", _scan_on_push,
                 refs=Refs(why="Scanning on push finds known CVEs before the image is "
                               "deployed; the scan gate reads its findings.",
                           fsbp=("ECR.1",), checkov=("CKV_AWS_163",)),
                 remediation="Set image_scanning_configuration.scan_on_push=True."),
    stack_policy("ecr-lifecycle-policy", "Every ECR repository has a lifecycle policy.",
                 _lifecycle, severity=Severity.MEDIUM,
                 refs=Refs(why="Without expiry, old vulnerable images stay pullable and "
                               "storage grows without bound.", fsbp=("ECR.3",)),
                 remediation="Add an aws.ecr.LifecyclePolicy for the repository (ContainerService "
                             "keeps the last N released images)."),
    resource_policy("ecr-kms", "ECR repositories and creation templates are encrypted with a "
                    "KMS key.", (REPOSITORY, CREATION_TEMPLATE), _kms, severity=Severity.MEDIUM,
                    refs=Refs(why="A customer-managed key puts image access under a key policy "
                                  "and CloudTrail-logged key use.", fsbp=("ECR.5",),
                              checkov=("CKV_AWS_136",)),
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
                    remediation="Replace Principal '*' with the account or role ARNs that pull, "
                                "or confine it with aws:PrincipalOrgID."),
]
