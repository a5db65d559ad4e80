"""A bucket that only load balancers write access logs to: public access blocked, TLS enforced,
owner-enforced object ownership, SSE-S3 (the only encryption ALB log delivery supports), and
old logs expired."""

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import argument_docs
from . import validation as v
from .errors import ConfigError


def access_log_bucket_policy(bucket_arn: str, account_id: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ElbLogDelivery", "Effect": "Allow",
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*"},
    ]}


class AccessLogBucketArgs(TypedDict):
    """Arguments of AccessLogBucket; all optional."""

    expire_after_days: NotRequired[int]
    """Days after which access logs are deleted (1-3650). Default: 90."""
    protect: NotRequired[bool]
    """Protect the bucket from deletion. Default: false."""


class AccessLogBucket(pulumi.ComponentResource):
    """An S3 bucket only load balancers write access logs to: public access blocked, TLS
    enforced, owner-enforced object ownership, SSE-S3, and logs expired after a set age."""

    bucket_name: pulumi.Output[str]
    """Name of the bucket, for ContainerService's `access_logs_bucket`."""

    def __init__(self, name: str, args: AccessLogBucketArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        given = {**argument_docs.defaults(AccessLogBucketArgs), **(args or {})}
        v.reject_unknown_keys(given, frozenset(AccessLogBucketArgs.__annotations__), name)
        expire_after_days = v.validate_int_range(given["expire_after_days"],
                                                 f"{name}.expire_after_days", 1, 3650)
        protect = given["protect"]
        if not isinstance(protect, bool):
            raise ConfigError(f"{name}.protect", protect, "true or false")
        super().__init__("shipyard:index:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOptions(parent=self)).account_id
        bucket = aws.s3.Bucket(name, force_destroy=False,
                               opts=pulumi.ResourceOptions(parent=self, protect=protect))
        aws.s3.BucketPublicAccessBlock(
            name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(
            name, bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            name, bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))],
            opts=child)
        aws.s3.BucketLifecycleConfiguration(
            name, bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=expire_after_days))],
            opts=child)
        aws.s3.BucketPolicy(
            name, bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account_id).apply(
                lambda a: json.dumps(access_log_bucket_policy(a[0], a[1]))),
            opts=child)
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket_name": self.bucket_name})
