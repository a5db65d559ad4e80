"""Secrets, logs, keys and the access-log bucket."""

from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from . import conditions
from .arns import action_matches, resource_matches
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
from .normalize import enum, flag, integer, reading, text

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ROTATION_TAG = "rotation"


def _secret_rotation(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    rotations = list(of_type(args.resources, SECRET_ROTATION))

    def rotated(rotation: Any, secret: Any) -> bool:
        # SecretRotation.secretId takes the secret's ARN or its name (Secrets Manager API,
        # RotateSecret SecretId).
        name = secret.props.get("name")
        return depends_on(rotation, "secretId", secret) or (
            isinstance(name, str) and bool(name) and rotation.props.get("secretId") == name)

    def judge(index: int, secret: Any) -> Iterator[tuple[str, str]]:
        if any(rotated(r, secret) for r in rotations):
            return
        tags = mapping(secret.props.get("tags"), "tags")
        if tags.get(ROTATION_TAG):
            return  # Declared as rotated outside AWS (e.g. by `pulumi config set --secret`).
        yield secret.urn, ("The secret neither rotates (aws.secretsmanager.SecretRotation) nor "
                           f"declares who rotates it (tag '{ROTATION_TAG}').")
    yield from each_known(list(of_type(args.resources, SECRET)), judge)


@reading("aws-managed-key", "A KMS key named by alias or ARN: 'alias/aws/<service>' (or an ARN "
                            "ending in it) is the AWS-managed key.")
def _aws_managed_key(key: str | None, service: str) -> bool:
    return not key or key.endswith(f"alias/aws/{service}")


def _secret_kms(args: ResourceValidationArgs) -> Iterable[str]:
    if _aws_managed_key(text(args.props, "kmsKeyId"), "secretsmanager"):
        yield "The secret uses the AWS-managed key; set kmsKeyId to a customer-managed key."


def _log_retention(args: ResourceValidationArgs) -> Iterable[str]:
    minimum = int((args.get_config() or {}).get("minimumRetentionDays", 14))
    days = integer(args.props, "retentionInDays")
    if not days:
        # 0 and unset both keep events forever (CloudWatch Logs PutRetentionPolicy).
        yield "The log group keeps logs forever (no retentionInDays)."
    elif days < minimum:
        yield f"retentionInDays is {days}; this stack requires at least {minimum}."


def _log_kms(args: ResourceValidationArgs) -> Iterable[str]:
    if not text(args.props, "kmsKeyId"):
        yield "The log group is not encrypted with a KMS key."


def _kms_rotation(args: ResourceValidationArgs) -> Iterable[str]:
    spec = enum(args.props, "customerMasterKeySpec", "kms", "CustomerMasterKeySpec",
                default="SYMMETRIC_DEFAULT")
    if text(args.props, "customKeyStoreId") or text(args.props, "xksKeyId"):
        # AWS cannot rotate keys in CloudHSM or external key stores automatically
        # (KMS developer guide, "Rotating AWS KMS keys": supported key types).
        return
    if spec == "SYMMETRIC_DEFAULT" and not flag(args.props, "enableKeyRotation"):
        yield "Key rotation is off; set enableKeyRotation."


# Requests a TLS-enforcing policy must refuse over plain HTTP: object reads and writes and bucket
# reads and changes (the S3.5 control: deny s3:* on the bucket and its objects).
_INSECURE_REQUESTS = (("s3:GetObject", "/zzprobe/object"), ("s3:PutObject", "/zzprobe/object"),
                      ("s3:DeleteObject", "/zzprobe/object"), ("s3:ListBucket", ""),
                      ("s3:GetBucketPolicy", ""), ("s3:PutBucketPolicy", ""))
_INSECURE = {"aws:SecureTransport": "false"}


def _denies_everyone(statement: Statement) -> bool:
    principal = statement.principal
    if isinstance(principal, str):
        return principal.strip() == "*"
    return hasattr(principal, "get") and "*" in [str(p).strip()
                                                for p in as_list(principal.get("AWS"))]


def _covers(statement: Statement, action: str, arn: str, context: dict) -> bool:
    """Whether a Deny statement surely applies to the request: read so that a doubtful element
    (an unresolved variable, an operator the pack does not evaluate) covers nothing."""
    if statement.not_actions is not None:
        acts = not any(action_matches(a, action) for a in statement.not_actions)
    else:
        acts = any(action_matches(a, action, reading="deny") for a in statement.actions)
    if statement.not_resources is not None:
        on = not any(resource_matches(r, arn, kind="resource") for r in statement.not_resources)
    else:
        on = any(resource_matches(r, arn, kind="resource", reading="deny")
                 for r in statement.resources)
    return acts and on and _denies_everyone(statement) and \
        conditions.matches(statement.condition, context) is True


def _enforces_tls(policy: Any, bucket_name: str) -> bool:
    document = parse_json(policy.props.get("policy"), "bucket policy")
    denies = [s for s in statements(document, "bucket policy") if s.effect == "Deny"]
    bucket = f"arn:aws:s3:::{bucket_name}"
    return all(any(_covers(d, action, bucket + suffix, _INSECURE) for d in denies)
               for action, suffix in _INSECURE_REQUESTS)


def _bucket_name(resource: Any) -> str:
    name = resource.props.get("bucket")
    return name if isinstance(name, str) and name else "zzprobe-bucket"


def _expires(lifecycle: Any, log_prefixes: list[str]) -> bool:
    """An enabled rule with an expiration in days whose filter covers every log prefix (a rule
    filtered by tag or size, or by another prefix, leaves the logs in place)."""
    for rule in objects(lifecycle.props.get("rules"), "rules"):
        if text(rule, "status") != "Enabled":
            continue
        if not integer(mapping(rule.get("expiration"), "expiration"), "days",
                       "rules[].expiration.days"):
            continue
        rule_filter = mapping(rule.get("filter"), "rules[].filter")
        if set(rule_filter) - {"prefix"}:
            continue
        prefix = text(rule_filter, "prefix") or text(rule, "prefix") or ""
        if all(p.startswith(prefix) for p in log_prefixes):
            return True
    return False


def _log_bucket_hardened(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    resources = list(args.resources)
    balancers = list(of_type(resources, LOAD_BALANCER))

    def writers(bucket: Any) -> list:
        return [lb for lb in balancers if depends_on(lb, "accessLogs", bucket)]

    log_buckets = [b for b in of_type(resources, BUCKET, BUCKET_V2) if writers(b)]

    def attached(bucket: Any, *types: str) -> list:
        return [r for r in of_type(resources, *types) if depends_on(r, "bucket", bucket)]

    def blocks_public(bucket: Any) -> Iterator[tuple[str, str]]:
        if not any(all(flag(r.props, k) for k in (
                "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                "restrictPublicBuckets")) for r in attached(bucket, PUBLIC_ACCESS_BLOCK)):
            yield bucket.urn, "The access-log bucket does not block all public access."

    def enforces_tls(bucket: Any) -> Iterator[tuple[str, str]]:
        if not any(_enforces_tls(p, _bucket_name(p)) for p in attached(bucket, BUCKET_POLICY)):
            yield bucket.urn, ("The access-log bucket does not deny every request without TLS "
                               "(a Deny of s3:* to every principal on the bucket and its "
                               "objects when aws:SecureTransport is false).")

    def expires(bucket: Any) -> Iterator[tuple[str, str]]:
        prefixes = [text(mapping(lb.props.get("accessLogs"), "accessLogs"), "prefix") or ""
                    for lb in writers(bucket)]
        if not any(_expires(lc, prefixes) for lc in attached(bucket, LIFECYCLE, LIFECYCLE_V2)):
            yield bucket.urn, "The access-log bucket never expires old logs."

    # Each check of each bucket on its own: a policy document still unknown at preview does
    # not hide a missing public access block.
    checks = [(bucket, check) for bucket in log_buckets
              for check in (blocks_public, enforces_tls, expires)]
    yield from each_known(checks, lambda index, pair: pair[1](pair[0]))


POLICIES = [
    stack_policy("secret-rotation", "Secrets rotate, or declare who rotates them.",
                 _secret_rotation, severity=Severity.MEDIUM,
                 enforcement=EnforcementLevel.ADVISORY,
                 refs=Refs(why="A secret that never rotates stays valid for as long as it has "
                               "leaked.",
                           fsbp=("SecretsManager.1",)),
                 reads=(),
                 remediation="Add aws.secretsmanager.SecretRotation, or tag the secret "
                             "'rotation' with the process that rotates it."),
    resource_policy("secret-kms", "Secrets are encrypted with a customer-managed KMS key.",
                    (SECRET,), _secret_kms, severity=Severity.LOW,
                    enforcement=EnforcementLevel.ADVISORY,
                    refs=Refs(why="A customer-managed key puts reads of the secret under a key "
                                  "policy you control.",
                              checkov=("CKV_AWS_149",),
                              doc="https://docs.aws.amazon.com/secretsmanager/latest/userguide/sec"
                                  "urity-encryption.html"),
                    reads=("text", "aws-managed-key"),
                    remediation="Set kms_key_id to a customer-managed key."),
    resource_policy("log-retention", "Log groups expire logs after a retention period no "
                    "shorter than the stack's minimum.", (LOG_GROUP,), _log_retention,
                    severity=Severity.MEDIUM,
                    config_schema=PolicyConfigSchema(properties={"minimumRetentionDays": {
                        "type": "integer", "minimum": 1, "default": 14}}),
                    refs=Refs(why="Logs are needed for investigations for as long as the stack "
                                  "requires, and no longer.",
                              fsbp=("CloudWatch.16",),
                              checkov=("CKV_AWS_338",)),
                    reads=("int",),
                    remediation="Set retention_in_days (ContainerService: log_retention_days)."),
    resource_policy("log-kms", "Log groups are encrypted with a KMS key.", (LOG_GROUP,), _log_kms,
                    severity=Severity.LOW, enforcement=EnforcementLevel.ADVISORY,
                    refs=Refs(why="Application logs can carry personal data; a key policy controls"
                                  " who reads them.",
                              checkov=("CKV_AWS_158",),
                              doc="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encryp"
                                  "t-log-data-kms.html"),
                    reads=("text",),
                    remediation="Set kms_key_id; the key policy must allow logs.<region>."),
    resource_policy("kms-rotation", "Symmetric KMS keys rotate automatically.", (KMS_KEY,),
                    _kms_rotation, severity=Severity.MEDIUM,
                    refs=Refs(why="Rotation limits how much data one key version protects.",
                              fsbp=("KMS.4",),
                              checkov=("CKV_AWS_7",)),
                    reads=("bool", "enum", "text"),
                    remediation="Set enable_key_rotation=True."),
    stack_policy("s3-log-bucket-hardened", "The ALB access-log bucket blocks public access, "
                 "enforces TLS and expires old logs.", _log_bucket_hardened,
                 severity=Severity.MEDIUM,
                 refs=Refs(why="The access-log bucket holds request records: it must not be "
                               "public, must require TLS and must expire old logs.",
                           fsbp=("S3.8", "S3.5", "S3.13")),
                 reads=("bool", "int", "text", "iam-action", "iam-resource",
                        "iam-condition-evaluation"),
                 remediation="Use the AccessLogBucket component, or add the public access "
                             "block, a Deny-without-TLS policy and an expiration rule."),
]
