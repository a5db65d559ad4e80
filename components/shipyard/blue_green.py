"""The IAM roles ECS assumes for a native blue/green (or linear, canary) deployment: the
infrastructure role that shifts traffic, scoped to exactly this service's two target groups and
two listener rules, and the smoke-test role that invokes the lifecycle hook's function.

The infrastructure role keeps the actions of the AWS managed policy for the job,
AmazonECSInfrastructureRolePolicyForLoadBalancers (copied with its version in
aws_managed_policies.json), which allows them on every target group, listener and rule of every
account: here each kind of resource the managed policy names becomes this service's own
resources of that kind, and a kind this component never hands ECS is left out, with the reason
in NOT_HANDED. Reading actions (the managed policy's statement on "*") have no resource type in
AWS's service authorization data, so they stay on "*"."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from . import managed_policies

LOAD_BALANCERS_MANAGED_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
NOT_HANDED = {
    "listener/app": "the service hands ECS listener rules (advancedConfiguration."
                    "productionListenerRule/testListenerRule), which ECS changes with ModifyRule; "
                    "a listener's own default action changes only through ModifyListener (ELB API "
                    "reference, ModifyRule and ModifyListener), which no rule of ours needs",
    "listener/net": "network load balancers: the component creates application load balancers "
                    "only",
}
"""Resource kinds of the managed policy this component never hands ECS, and why."""
READ_ACTIONS = managed_policies.actions_on(LOAD_BALANCERS_MANAGED_POLICY, None)
TARGET_ACTIONS = managed_policies.actions_on(LOAD_BALANCERS_MANAGED_POLICY, "targetgroup")
RULE_ACTIONS = managed_policies.actions_on(LOAD_BALANCERS_MANAGED_POLICY, "listener-rule/app")
HANDED_KINDS = (None, "targetgroup", "listener-rule/app")
"""Resource kinds of the managed policy the role names its own resources of."""
# The lifecycle hook's role: ECS invokes the function with it (ECS Developer Guide, "Permissions
# required for Lambda functions in Amazon ECS blue/green deployments"; no managed policy exists).
INVOKE_ACTIONS = ["lambda:InvokeFunction"]
# Lifecycle stage at which the smoke test runs: test traffic reaches the new revision, production
# traffic does not yet (ECS API reference, DeploymentLifecycleHook.lifecycleStages).
SMOKE_TEST_STAGE = "POST_TEST_TRAFFIC_SHIFT"


def ecs_service_trust_policy() -> dict:
    """The trust policy the ECS developer guide gives for the infrastructure role for load
    balancers ("Amazon ECS infrastructure IAM role for load balancers") and for the lifecycle
    hook's role ("Permissions required for Lambda functions ...")."""
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
                        tags: dict[str, str], parent: pulumi.Resource
                        ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The role and its policy: whatever uses the role must wait for the policy too."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-ecs-infra", description=f"ECS shifts {name}'s traffic between its target groups",
        assume_role_policy=json.dumps(ecs_service_trust_policy()),
        permissions_boundary=permissions_boundary, tags=tags, opts=opts)
    policy = aws.iam.RolePolicy(
        f"{name}-ecs-infra", role=role.id,
        policy=pulumi.Output.all([g.arn for g in target_groups], [r.arn for r in rules]).apply(
            lambda a: json.dumps(infrastructure_role_policy(
                target_group_arns=a[0], listener_rule_arns=a[1]))),
        opts=opts)
    return role, policy


def smoke_test_role(*, name: str, function_arn: str, permissions_boundary: str | None,
                    tags: dict[str, str], parent: pulumi.Resource
                    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The role and its policy: whatever uses the role must wait for the policy too."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-smoke-test", description=f"ECS invokes {name}'s smoke test before traffic shifts",
        assume_role_policy=json.dumps(ecs_service_trust_policy()),
        permissions_boundary=permissions_boundary, tags=tags, opts=opts)
    policy = aws.iam.RolePolicy(f"{name}-smoke-test", role=role.id,
                                policy=json.dumps(smoke_test_role_policy(function_arn)),
                                opts=opts)
    return role, policy
