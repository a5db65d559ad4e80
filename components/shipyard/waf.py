"""An optional WAF web ACL in front of a load balancer: AWS managed rule groups (core rule set,
known bad inputs, Amazon IP reputation list) and a per-IP rate limit, with its request logs in a
CloudWatch Logs group.

Rule group names are AWS's ("AWS Managed Rules rule groups list", AWS WAF developer guide). Each
managed group costs the same as a rule (WAF pricing, see docs/topologies.md), none of these three is a paid
(subscription) group.

Logging (AWS WAF developer guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log
group"): the group's name must begin with `aws-waf-logs-`; WAF delivers through the log delivery
service, which needs a resource policy on the group allowing delivery.logs.amazonaws.com to
create streams and put events, for this account's deliveries only (CloudWatch Logs User Guide,
"Logs sent to CloudWatch Logs"). The policy is declared here rather than left for WAF to add,
so it is reviewed, and removed on destroy. The Authorization and Cookie headers are redacted:
WAF logs every header, and those two carry bearer tokens and session cookies."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from .iam import logs_key_policy

MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesAmazonIpReputationList")
RATE_RULE_NAME = "rate-limit-per-ip"
# WAF evaluates rate-based rules over this window unless told otherwise (WAF API reference,
# RateBasedStatement.EvaluationWindowSec: 60, 120, 300 or 600; default 300).
RATE_WINDOW_SECONDS = 300
LOG_GROUP_PREFIX = "aws-waf-logs-"
REDACTED_HEADERS = ("authorization", "cookie")
LOG_DELIVERY = "delivery.logs.amazonaws.com"
LOG_RETENTION_DAYS = 365
"""How long WAF request logs are kept unless the caller says: a year, the longest minimum the
committed stacks' policy config asks of a log group (policy/config.prod.json)."""


def _visibility(metric: str) -> dict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric,
            "sampled_requests_enabled": True}


def web_acl_rules(rate_limit: int) -> list[aws.wafv2.WebAclRuleArgs]:
    rules = [
        aws.wafv2.WebAclRuleArgs(
            name=group, priority=index,
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.
                WebAclRuleStatementManagedRuleGroupStatementArgs(name=group, vendor_name="AWS")),
            visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(**_visibility(group)))
        for index, group in enumerate(MANAGED_RULE_GROUPS)]
    rules.append(aws.wafv2.WebAclRuleArgs(
        name=RATE_RULE_NAME, priority=len(MANAGED_RULE_GROUPS),
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP", limit=rate_limit,
                evaluation_window_sec=RATE_WINDOW_SECONDS)),
        visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(**_visibility(RATE_RULE_NAME))))
    return rules


def waf_log_group_name(name: str) -> str:
    """Fixed, so the key and resource policies can name the group before it exists; it carries
    the project and stack like the stack's other fixed names."""
    return f"{LOG_GROUP_PREFIX}{pulumi.get_project()}-{pulumi.get_stack()}-{name}"


def log_delivery_policy(*, log_group_arn: str, account_id: str, region: str,
                        partition: str = "aws") -> dict:
    """The log delivery service may write this group's streams, for deliveries of this account
    in this region only (the confused-deputy conditions of "Logs sent to CloudWatch Logs")."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "WafLogDelivery", "Effect": "Allow", "Principal": {"Service": LOG_DELIVERY},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:log-stream:*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn":
                                  f"arn:{partition}:logs:{region}:{account_id}:*"}}}]}


def log_web_acl(name: str, acl: aws.wafv2.WebAcl, retention_days: int, tags: dict[str, str],
                parent: pulumi.Resource, *, protect: bool = False
                ) -> aws.wafv2.WebAclLoggingConfiguration:
    child = pulumi.ResourceOptions(parent=parent)
    stateful = pulumi.ResourceOptions(parent=parent, protect=protect)
    invoke = pulumi.InvokeOptions(parent=parent)
    account_id = aws.get_caller_identity_output(opts=invoke).account_id
    region = aws.get_region_output(opts=invoke).region
    group_name = waf_log_group_name(name)
    group_arn = pulumi.Output.concat("arn:aws:logs:", region, ":", account_id, ":log-group:",
                                     group_name)
    key = aws.kms.Key(
        f"{name}-waf-logs-key", description=f"{name}: WAF request logs",
        enable_key_rotation=True, deletion_window_in_days=30,
        policy=pulumi.Output.all(account_id, region, group_arn).apply(
            lambda a: json.dumps(logs_key_policy(
                account_id=a[0], region=a[1], sid="CloudWatchLogsForTheWafLogGroup",
                log_group_condition={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": a[2]}}))),
        tags=tags, opts=stateful)
    group = aws.cloudwatch.LogGroup(
        f"{name}-waf-logs", name=group_name, retention_in_days=retention_days,
        kms_key_id=key.arn, tags=tags, opts=stateful)
    delivery = aws.cloudwatch.LogResourcePolicy(
        f"{name}-waf-logs", policy_name=group_name,
        policy_document=pulumi.Output.all(group_arn, account_id, region).apply(
            lambda a: json.dumps(log_delivery_policy(log_group_arn=a[0], account_id=a[1],
                                                     region=a[2]))),
        opts=child)
    return aws.wafv2.WebAclLoggingConfiguration(
        f"{name}-waf-logs", resource_arn=acl.arn, log_destination_configs=[group.arn],
        redacted_fields=[aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
            single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(
                name=header)) for header in REDACTED_HEADERS],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[delivery]))


def protect_load_balancer(name: str, load_balancer_arn: pulumi.Input[str], rate_limit: int,
                          tags: dict[str, str], parent: pulumi.Resource, *,
                          log_retention_days: int = LOG_RETENTION_DAYS,
                          protect_logs: bool = False) -> aws.wafv2.WebAcl:
    """`protect_logs`: protect the log group and its key from deletion (the stack's stateful
    resources are protected in prod)."""
    opts = pulumi.ResourceOptions(parent=parent)
    acl = aws.wafv2.WebAcl(
        f"{name}-waf", scope="REGIONAL", description=f"{name}: AWS managed rules and rate limit",
        default_action=aws.wafv2.WebAclDefaultActionArgs(
            allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=web_acl_rules(rate_limit),
        visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(**_visibility(f"{name}-waf")),
        tags=tags, opts=opts)
    aws.wafv2.WebAclAssociation(f"{name}-waf", resource_arn=load_balancer_arn,
                                web_acl_arn=acl.arn, opts=opts)
    log_web_acl(name, acl, log_retention_days, tags, parent, protect=protect_logs)
    return acl
