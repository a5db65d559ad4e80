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

    def judge(index: int, secret: Any) -> Iterator[tuple[str, str]]:
        if any(depends_on(r, "secretId", secret) for r in rotations):
            return
        tags = mapping(secret.props.get("tags"), "tags")
        if tags.get(ROTATION_TAG):
            return  # Declared as rotated outside AWS (e.g. by `pulumi config set --secret`).
        yield secret.urn, ("The secret neither rotates (aws.secretsmanager.SecretRotation) nor "
                           f"declares who rotates it (tag '{ROTATION_TAG}').")
    yield from each_known(list(of_type(args.resources, SECRET)), judge)


def _secret_kms(args: ResourceValidationArgs) -> Iterable[str]:
    key = args.props.get("kmsKeyId")
    if not key or str(key).endswith("alias/aws/secretsmanager"):
        yield "The secret uses the AWS-managed key; set kmsKeyId to a customer-managed key."


def _log_retention(args: ResourceValidationArgs) -> Iterable[str]:
    minimum = int((args.get_config() or {}).get("minimumRetentionDays", 14))
    days = args.props.get("retentionInDays")
    if days is not None and not isinstance(days, int | float):
        yield f"retentionInDays is {days!r}, not a number of days."
    elif not days:
        yield "The log group keeps logs forever (no retentionInDays)."
    elif int(days) < minimum:
        yield f"retentionInDays is {int(days)}; this stack requires at least {minimum}."


def _log_kms(args: ResourceValidationArgs) -> Iterable[str]:
    if not args.props.get("kmsKeyId"):
        yield "The log group is not encrypted with a KMS key."


def _kms_rotation(args: ResourceValidationArgs) -> Iterable[str]:
    spec = args.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if args.props.get("customKeyStoreId") or args.props.get("xksKeyId"):
        # AWS cannot rotate keys in CloudHSM or external key stores automatically
        # (KMS developer guide, "Rotating AWS KMS keys": supported key types).
        return
    if spec == "SYMMETRIC_DEFAULT" and args.props.get("enableKeyRotation") is not True:
        yield "Key rotation is off; set enableKeyRotation."


def _enforces_tls(policy) -> bool:
    document = parse_json(policy.props.get("policy"), "bucket policy")
    for statement in statements(document, "bucket policy"):
        if statement.effect != "Deny":
            continue
        block = mapping(statement.condition.get("Bool"), "Condition.Bool")
        values = [str(v).lower() for v in as_list(block.get("aws:SecureTransport"))]
        # Written as "false", false or ["false"]: the same condition to IAM.
        if values and all(v == "false" for v in values):
            return True
    return False


def _log_bucket_hardened(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    resources = list(args.resources)
    balancers = list(of_type(resources, LOAD_BALANCER))
    log_buckets = [b for b in of_type(resources, BUCKET, BUCKET_V2)
                   if any(depends_on(lb, "accessLogs", b) for lb in balancers)]

    def attached(bucket: Any, *types: str) -> list:
        return [r for r in of_type(resources, *types) if depends_on(r, "bucket", bucket)]

    def blocks_public(bucket: Any) -> Iterator[tuple[str, str]]:
        if not any(all(r.props.get(k) is True for k in (
                "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                "restrictPublicBuckets")) for r in attached(bucket, PUBLIC_ACCESS_BLOCK)):
            yield bucket.urn, "The access-log bucket does not block all public access."

    def enforces_tls(bucket: Any) -> Iterator[tuple[str, str]]:
        if not any(_enforces_tls(p) for p in attached(bucket, BUCKET_POLICY)):
            yield bucket.urn, "The access-log bucket does not deny requests without TLS."

    def expires(bucket: Any) -> Iterator[tuple[str, str]]:
        if not any(rule.get("status") == "Enabled"
                   and mapping(rule.get("expiration"), "expiration").get("days")
                   for lc in attached(bucket, LIFECYCLE, LIFECYCLE_V2)
                   for rule in objects(lc.props.get("rules"), "rules")):
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
                    remediation="Set retention_in_days (ContainerService: log_retention_days)."),
    resource_policy("log-kms", "Log groups are encrypted with a KMS key.", (LOG_GROUP,), _log_kms,
                    severity=Severity.LOW, enforcement=EnforcementLevel.ADVISORY,
                    refs=Refs(why="Application logs can carry personal data; a key policy controls"
                                  " who reads them.",
                              checkov=("CKV_AWS_158",),
                              doc="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encryp"
                                  "t-log-data-kms.html"),
                    remediation="Set kms_key_id; the key policy must allow logs.<region>."),
    resource_policy("kms-rotation", "Symmetric KMS keys rotate automatically.", (KMS_KEY,),
                    _kms_rotation, severity=Severity.MEDIUM,
                    refs=Refs(why="Rotation limits how much data one key version protects.",
                              fsbp=("KMS.4",),
                              checkov=("CKV_AWS_7",)),
                    remediation="Set enable_key_rotation=True."),
    stack_policy("s3-log-bucket-hardened", "The ALB access-log bucket blocks public access, "
                 "enforces TLS and expires old logs.", _log_bucket_hardened,
                 severity=Severity.MEDIUM,
                 refs=Refs(why="The access-log bucket holds request records: it must not be "
                               "public, must require TLS and must expire old logs.",
                           fsbp=("S3.8", "S3.5", "S3.13")),
                 remediation="Use the AccessLogBucket component, or add the public access "
                             "block, a Deny-without-TLS policy and an expiration rule."),
]
