"""One ECS cluster shared by a stack's services, with Container Insights and both Fargate
capacity providers (services choose FARGATE or FARGATE_SPOT)."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import argument_docs
from . import validation as v

# ECS cluster setting `containerInsights` (ECS API reference, ClusterSetting).
CONTAINER_INSIGHTS = ("enhanced", "enabled", "disabled")


class FargateClusterArgs(TypedDict):
    """Arguments of FargateCluster; all optional."""

    container_insights: NotRequired[str]
    """Container Insights level: "enhanced", "enabled" or "disabled". Default: "enhanced"."""


class FargateCluster(pulumi.ComponentResource):
    """An ECS cluster with Container Insights and the FARGATE and FARGATE_SPOT capacity
    providers, for one or more ContainerServices (`cluster_arn`, `cluster_name`)."""

    arn: pulumi.Output[str]
    """ARN of the cluster."""
    name: pulumi.Output[str]
    """Name of the cluster."""

    def __init__(self, name: str, args: FargateClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        given = {**argument_docs.defaults(FargateClusterArgs), **(args or {})}
        v.reject_unknown_keys(given, frozenset(FargateClusterArgs.__annotations__), name)
        insights = v.validate_choice(given["container_insights"], f"{name}.container_insights",
                                     CONTAINER_INSIGHTS)
        super().__init__("shipyard:index:FargateCluster", name, None, opts)
        cluster = aws.ecs.Cluster(
            name, settings=[aws.ecs.ClusterSettingArgs(name="containerInsights",
                                                       value=str(insights))],
            opts=pulumi.ResourceOptions(parent=self))
        aws.ecs.ClusterCapacityProviders(
            name, cluster_name=cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            opts=pulumi.ResourceOptions(parent=self))
        self.arn = cluster.arn
        self.name = cluster.name
        self.register_outputs({"arn": self.arn, "name": self.name})
