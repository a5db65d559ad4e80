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
    """The cluster's ARN, known only once FARGATE and FARGATE_SPOT are associated with it."""
    name: pulumi.Output[str]
    """The cluster's name, with the same dependency as `arn`."""
    capacity_providers: aws.ecs.ClusterCapacityProviders
    """The association of FARGATE and FARGATE_SPOT with the cluster."""

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
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            name, cluster_name=cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            opts=pulumi.ResourceOptions(parent=self))
        # A capacity provider strategy may name only providers already associated with the
        # cluster (ECS API reference, CapacityProviderStrategyItem). Handing out the cluster
        # through the association makes every service that uses it wait for it, whether the
        # service gets this component or only its arn and name.
        associated = self.capacity_providers.id
        self.arn = pulumi.Output.all(cluster.arn, associated).apply(lambda a: a[0])
        self.name = pulumi.Output.all(cluster.name, associated).apply(lambda a: a[0])
        self.register_outputs({"arn": self.arn, "name": self.name})
