"""CloudWatch alarms that roll a deployment back: the target group's 5xx rate and its unhealthy
hosts. ECS watches the alarms named in the service's `alarms` block during a rolling deployment
and during a blue/green bake time, and rolls back when one fires (ECS developer guide, "How
CloudWatch alarms detect Amazon ECS deployment failures").

Metric names and dimensions: Elastic Load Balancing user guide, "CloudWatch metrics for your
Application Load Balancer" (namespace AWS/ApplicationELB; HTTPCode_Target_5XX_Count,
RequestCount, UnHealthyHostCount by TargetGroup and LoadBalancer)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

NAMESPACE = "AWS/ApplicationELB"
PERIOD_SECONDS = 60
FIVE_XX_PERCENT_THRESHOLD = 5
"""Alarm when more than 5 % of a minute's requests end in a target 5xx..."""
FIVE_XX_EVALUATION_PERIODS = 3
FIVE_XX_DATAPOINTS = 2
"""...in 2 of 3 consecutive minutes, so one bad request in a quiet minute does not roll back."""
UNHEALTHY_EVALUATION_PERIODS = 2


def alarm_name(stack_prefix: str, service: str, kind: str, suffix: str) -> str:
    """Explicit, stable names: the service's `alarms.alarmNames` refers to alarms by name, and
    one account may run several stacks, so the project and stack are part of it."""
    return f"{stack_prefix}-{service}-{kind}{suffix}"


def _sum_query(metric_id: str, metric_name: str,
               dimensions: dict) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=metric_id, return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=NAMESPACE, metric_name=metric_name, dimensions=dimensions,
            period=PERIOD_SECONDS, stat="Sum"))


def rollback_alarms(*, service: str, target_group_arn_suffixes: list[pulumi.Input[str]],
                    load_balancer_arn_suffix: pulumi.Input[str], tags: dict[str, str],
                    parent: pulumi.Resource) -> list[aws.cloudwatch.MetricAlarm]:
    opts = pulumi.ResourceOptions(parent=parent)
    prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
    alarms = []
    for index, target_group in enumerate(target_group_arn_suffixes):
        suffix = "" if index == 0 else f"-{index + 1}"
        dimensions = {"TargetGroup": target_group, "LoadBalancer": load_balancer_arn_suffix}


        alarms.append(aws.cloudwatch.MetricAlarm(
            f"{service}-5xx{suffix}", name=alarm_name(prefix, service, "5xx", suffix),
            alarm_description=f"{service}: more than {FIVE_XX_PERCENT_THRESHOLD}% of requests "
                              "get a 5xx from the tasks; rolls the deployment back",
            comparison_operator="GreaterThanThreshold", threshold=FIVE_XX_PERCENT_THRESHOLD,
            evaluation_periods=FIVE_XX_EVALUATION_PERIODS, datapoints_to_alarm=FIVE_XX_DATAPOINTS,
            treat_missing_data="notBreaching",
            metric_queries=[
                _sum_query("errors", "HTTPCode_Target_5XX_Count", dimensions),
                _sum_query("requests", "RequestCount", dimensions),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate", label="5xx percent", return_data=True,
                    expression="IF(requests > 0, 100 * errors / requests, 0)")],
            tags=tags, opts=opts))
        alarms.append(aws.cloudwatch.MetricAlarm(
            f"{service}-unhealthy{suffix}", name=alarm_name(prefix, service, "unhealthy", suffix),
            alarm_description=f"{service}: a target fails its health check; rolls the "
                              "deployment back",
            namespace=NAMESPACE, metric_name="UnHealthyHostCount", dimensions=dimensions,
            statistic="Maximum", period=PERIOD_SECONDS,
            evaluation_periods=UNHEALTHY_EVALUATION_PERIODS,
            comparison_operator="GreaterThanOrEqualToThreshold", threshold=1,
            treat_missing_data="notBreaching", tags=tags, opts=opts))
    return alarms
