"""One ECS cluster shared by a stack's services, with Container Insights and both Fargate
capacity providers (services choose FARGATE or FARGATE_SPOT)."""


import pulumi
import pulumi_aws as aws


class FargateCluster(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:index:FargateCluster", name, None, opts)
        cluster = aws.ecs.Cluster(
            name, settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            opts=pulumi.ResourceOptions(parent=self))
        aws.ecs.ClusterCapacityProviders(
            name, cluster_name=cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            opts=pulumi.ResourceOptions(parent=self))
        self.arn = cluster.arn
        self.name = cluster.name
        self.register_outputs({"arn": self.arn, "name": self.name})
