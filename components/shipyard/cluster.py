"""One ECS cluster shared by a stack's services, with Container Insights and both Fargate
capacity providers (services choose FARGATE or FARGATE_SPOT)."""


import pulumi
import pulumi_aws as aws


class FargateCluster(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    """The cluster's ARN, known only once FARGATE and FARGATE_SPOT are associated with it."""
    name: pulumi.Output[str]
    """The cluster's name, with the same dependency as `arn`."""
    capacity_providers: aws.ecs.ClusterCapacityProviders
    """The association of FARGATE and FARGATE_SPOT with the cluster."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:index:FargateCluster", name, None, opts)
        cluster = aws.ecs.Cluster(
            name, settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
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
