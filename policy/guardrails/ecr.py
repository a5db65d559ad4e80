"""ECR repositories: immutable tags, scanning, lifecycle, KMS, and no public repository policy."""

from collections.abc import Iterable

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from .common import (
    as_list,
    depends_on,
    of_type,
    parse_json,
    resource_policy,
    stack_policy,
    statements,
)

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"


def _tag_immutable(args: ResourceValidationArgs) -> Iterable[str]:
    mutability = args.props.get("imageTagMutability", "MUTABLE")
    if mutability != "IMMUTABLE":
        yield f"imageTagMutability is {mutability!r}; set it to 'IMMUTABLE'."


def _kms(args: ResourceValidationArgs) -> Iterable[str]:
    configs = as_list(args.props.get("encryptionConfigurations"))
    kinds = [c.get("encryptionType", "AES256") for c in configs]
    if not any(kind in ("KMS", "KMS_DSSE") for kind in kinds):
        yield "The repository is encrypted with AES256 only; use encryptionType 'KMS'."


def _not_public(args: ResourceValidationArgs) -> Iterable[str]:
    document = parse_json(args.props.get("policy"), "policy")
    for index, statement in enumerate(statements(document, "policy")):
        if statement.effect != "Allow":
            continue
        principal = statement.principal
        principals = (as_list(principal.get("AWS")) if hasattr(principal, "get")
                      else as_list(principal))
        if "*" in principals:
            yield (f"{statement.label(index)} allows principal '*'; name the accounts or roles "
                   "that may pull.")


def _scan_on_push(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    registry_scans = any(
        any(r.get("scanFrequency") in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")
            for r in as_list(s.props.get("rules")))
        for s in of_type(args.resources, REGISTRY_SCANNING))
    if registry_scans:
        return
    for repository in of_type(args.resources, REPOSITORY):
        scanning = repository.props.get("imageScanningConfiguration") or {}
        if not scanning.get("scanOnPush"):
            yield repository.urn, ("Images are not scanned on push; set "
                                   "imageScanningConfiguration.scanOnPush or registry scanning.")


def _lifecycle(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    policies = list(of_type(args.resources, LIFECYCLE_POLICY))
    for repository in of_type(args.resources, REPOSITORY):
        name = repository.props.get("name")
        covered = any(depends_on(p, "repository", repository)
                      or (name is not None and p.props.get("repository") == name)
                      for p in policies)
        if not covered:
            yield repository.urn, ("The repository has no lifecycle policy; untagged and old "
                                   "images accumulate forever.")


POLICIES = [
    resource_policy("ecr-tag-immutable", "ECR repositories have immutable image tags.",
                    (REPOSITORY,), _tag_immutable,
                    remediation="Set image_tag_mutability='IMMUTABLE'; tag images by commit or "
                                "source hash."),
    stack_policy("ecr-scan-on-push", "ECR images are scanned on push (repository or registry "
                 "scanning).", _scan_on_push,
                 remediation="Set image_scanning_configuration.scan_on_push=True."),
    stack_policy("ecr-lifecycle-policy", "Every ECR repository has a lifecycle policy.",
                 _lifecycle, severity=Severity.MEDIUM,
                 remediation="Add an aws.ecr.LifecyclePolicy for the repository (ContainerService "
                             "keeps the last N released images)."),
    resource_policy("ecr-kms", "ECR repositories are encrypted with a KMS key.", (REPOSITORY,),
                    _kms, severity=Severity.MEDIUM,
                    remediation="Set encryption_configurations=[{encryption_type: 'KMS', "
                                "kms_key: <key ARN>}]."),
    resource_policy("ecr-repo-policy-not-public", "ECR repository policies allow no "
                    "anonymous ('*') principal.", (REPOSITORY_POLICY,), _not_public,
                    severity=Severity.CRITICAL,
                    remediation="Replace Principal '*' with the account or role ARNs that pull."),
]
