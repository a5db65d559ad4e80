"""A bucket that only load balancers write access logs to: public access blocked, TLS enforced,
owner-enforced object ownership, SSE-S3 (the only encryption ALB log delivery supports),
versioned, and old logs and non-current versions expired."""

import json

import pulumi
import pulumi_aws as aws

# How long a replaced or deleted log object is kept before S3 removes it.
NONCURRENT_VERSION_DAYS = 30


def access_log_bucket_policy(bucket_arn: str, account_id: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ElbLogDelivery", "Effect": "Allow",
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*"},
    ]}


class AccessLogBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, *, expire_after_days: int = 90, protect: bool = False,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:index:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOptions(parent=self)).account_id
        bucket = aws.s3.Bucket(name, force_destroy=False,
                               opts=pulumi.ResourceOptions(parent=self, protect=protect))
        # Versioned, so an overwritten or deleted log survives until the non-current expiry
        # below (FSBP S3.14); ALB log delivery writes new keys only, so versions cost little.
        aws.s3.BucketVersioning(
            name, bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"),
            opts=child)
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
                    days=expire_after_days),
                noncurrent_version_expiration=aws.s3.
                BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_VERSION_DAYS))],
            opts=child)
        aws.s3.BucketPolicy(
            name, bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account_id).apply(
                lambda a: json.dumps(access_log_bucket_policy(a[0], a[1]))),
            opts=child)
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket_name": self.bucket_name})
