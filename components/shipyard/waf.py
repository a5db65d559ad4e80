"""An optional WAF web ACL in front of a load balancer: AWS managed rule groups (core rule set,
known bad inputs, Amazon IP reputation list) and a per-IP rate limit.

Rule group names are AWS's ("AWS Managed Rules rule groups list", AWS WAF developer guide). Each
managed group costs the same as a rule (WAF pricing, see docs/topologies.md), none of these three is a paid
(subscription) group."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesAmazonIpReputationList")
RATE_RULE_NAME = "rate-limit-per-ip"
# WAF evaluates rate-based rules over this window unless told otherwise (WAF API reference,
# RateBasedStatement.EvaluationWindowSec: 60, 120, 300 or 600; default 300).
RATE_WINDOW_SECONDS = 300


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


def protect_load_balancer(name: str, load_balancer_arn: pulumi.Input[str], rate_limit: int,
                          tags: dict[str, str], parent: pulumi.Resource) -> aws.wafv2.WebAcl:
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
    return acl
