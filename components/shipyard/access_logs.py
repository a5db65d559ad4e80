"""A bucket that only load balancers write access logs to: public access blocked, TLS enforced,
owner-enforced object ownership, SSE-S3 (the only encryption ALB log delivery supports),
versioned, and old logs and non-current versions expired.

Where the load balancer writes, and who writes, come from AWS's "Enable access logs for your
Application Load Balancer" (elasticloadbalancing/latest/application/enable-access-logging.html):
- keys are `bucket/<prefix>/AWSLogs/<account>/...`, so the policy names each prefix that will
  write (a load balancer's `access_logs.prefix`) and nothing else;
- in the regions listed there, the writer is the region's Elastic Load Balancing account
  (`arn:aws:iam::<elb-account-id>:root`); in every other region of the `aws` partition it is the
  service principal `logdelivery.elasticloadbalancing.amazonaws.com`. Other partitions (China,
  GovCloud) are refused: their principals were not verified here.
"""

import json
import re
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .errors import ConfigError
from .regions import partition_of

# How long a replaced or deleted log object is kept before S3 removes it.
NONCURRENT_VERSION_DAYS = 30

# The per-region ELB account ids, exactly as the page above lists them (regions opened before
# August 2022). Every other `aws` region uses the log delivery service principal.
ELB_LOG_DELIVERY_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062",
    "ap-east-1": "754344448648", "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378", "me-south-1": "076674570225", "sa-east-1": "507241528517",
}
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
# S3 "safe characters" for a key prefix, one path segment or several; AWS adds `AWSLogs` itself
# and refuses a prefix containing it.
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")


def log_delivery_principal(region: object) -> dict:
    """Who writes ALB access logs in this region (see the module docstring)."""
    partition = partition_of(region, "aws:region")
    if partition != "aws":
        raise ConfigError("aws:region", region,
                          "ALB access logs are supported in the aws partition only (the log "
                          "delivery principal of other partitions is not verified)")
    account = ELB_LOG_DELIVERY_ACCOUNTS.get(str(region))
    return ({"AWS": f"arn:aws:iam::{account}:root"} if account
            else {"Service": LOG_DELIVERY_SERVICE})


def validate_prefixes(prefixes: object, setting: str = "prefixes") -> list[str]:
    if (not isinstance(prefixes, list | tuple) or not prefixes
            or not all(isinstance(p, str) for p in prefixes)):
        raise ConfigError(setting, prefixes,
                          "a non-empty list of the load balancers' log prefixes (service names)")
    for prefix in prefixes:
        if not _PREFIX.match(prefix) or "AWSLogs" in prefix:
            raise ConfigError(setting, prefix,
                              "letters, digits and !_.*'()- in /-separated segments, without "
                              "AWSLogs (AWS adds AWSLogs/<account>/ after the prefix)")
    return sorted(set(prefixes))


def log_object_arns(bucket_arn: str, account_id: str, prefixes: Sequence[str]) -> list[str]:
    """The keys the load balancers write: `<prefix>/AWSLogs/<account>/*` per prefix."""
    return [f"{bucket_arn}/{prefix}/AWSLogs/{account_id}/*" for prefix in prefixes]


def access_log_bucket_policy(bucket_arn: str, account_id: str, *, region: str,
                             prefixes: Sequence[str]) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ElbLogDelivery", "Effect": "Allow",
         "Principal": log_delivery_principal(region),
         "Action": "s3:PutObject",
         "Resource": log_object_arns(bucket_arn, account_id, prefixes)},
    ]}


class AccessLogBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, *, prefixes: Sequence[str], expire_after_days: int = 90,
                 protect: bool = False, region: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`prefixes`: the `access_logs.prefix` of every load balancer that will write here (a
        ContainerService writes under its name). `region`: the bucket's and load balancers'
        region, by default the `aws:region` config."""
        # Checked before anything is registered: a refusal leaves nothing half-created.
        log_prefixes = validate_prefixes(list(prefixes) if isinstance(prefixes, list | tuple)
                                         else prefixes)
        stack_region = region or aws.config.region
        log_delivery_principal(stack_region)
        if isinstance(expire_after_days, bool) or not isinstance(expire_after_days, int) \
                or not 1 <= expire_after_days <= 36500:
            raise ConfigError("expire_after_days", expire_after_days,
                              "a whole number of days from 1 to 36500")
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
        public_access = aws.s3.BucketPublicAccessBlock(
            name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        ownership = aws.s3.BucketOwnershipControls(
            name, bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child)
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            name, bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))],
            opts=child)
        lifecycle = aws.s3.BucketLifecycleConfiguration(
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
        policy = aws.s3.BucketPolicy(
            name, bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account_id).apply(
                lambda a: json.dumps(access_log_bucket_policy(
                    a[0], a[1], region=str(stack_region), prefixes=log_prefixes))),
            opts=child)
        # The name is handed out through the policy and the bucket's settings, so a load
        # balancer that uses it depends on them: AWS checks the policy (and writes a test file)
        # when access logs are switched on, and refuses the attribute before the policy exists.
        self.bucket_name = pulumi.Output.all(
            policy.bucket, encryption.bucket, ownership.bucket, public_access.bucket,
            lifecycle.bucket).apply(lambda names: names[0])
        self.prefixes = log_prefixes
        self.register_outputs({"bucket_name": self.bucket_name})
