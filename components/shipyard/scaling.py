"""The request-count scaling signal of a service whose traffic moves between two target groups.

A blue/green, linear or canary deployment leaves production on whichever group ECS shifted it to,
and ECS alternates the groups from one deployment to the next (terraform-provider-aws#45678). The
predefined ALBRequestCountPerTarget names one target group, so after a swap it tracks the idle
group and reads about zero. This signal reads both: per target group, the ALB's
RequestCountPerTarget (namespace AWS/ApplicationELB, dimensions TargetGroup and LoadBalancer,
statistic Sum: Elastic Load Balancing user guide, "CloudWatch metrics for your Application Load
Balancer"), missing points as 0 (a group without targets reports nothing), and the larger of the
two. Before and after a deployment that is the serving group's requests per task; while a linear
or canary shift splits the traffic, each group's share per task, which is what each task serves.
Target tracking accepts metric math that returns one time series (Application Auto Scaling user
guide, "Create a target tracking scaling policy ... using metric math")."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

NAMESPACE = "AWS/ApplicationELB"
METRIC = "RequestCountPerTarget"
_SPEC = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs
_QUERY = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgs
_STAT = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatArgs
_METRIC = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs
_DIMENSION = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs


def requests_per_serving_target(*, load_balancer_arn_suffix: pulumi.Input[str],
                                target_group_arn_suffixes: Sequence[pulumi.Input[str]]) -> _SPEC:
    queries = [_QUERY(
        id=f"group{index}", label=f"requests per target, target group {index}",
        return_data=False, metric_stat=_STAT(stat="Sum", metric=_METRIC(
            namespace=NAMESPACE, metric_name=METRIC, dimensions=[
                _DIMENSION(name="LoadBalancer", value=load_balancer_arn_suffix),
                _DIMENSION(name="TargetGroup", value=suffix)])))
        for index, suffix in enumerate(target_group_arn_suffixes, start=1)]
    filled = ", ".join(f"FILL({q.id}, 0)" for q in queries)
    return _SPEC(metrics=[*queries, _QUERY(
        id="serving", label="requests per target of the busier target group", return_data=True,
        expression=f"MAX([{filled}])")])
