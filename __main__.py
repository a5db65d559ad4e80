"""The staging/prod program: settings from the stack's config, one network, one cluster, one
ContainerService per configured service."""

import pulumi
import pulumi_aws as aws
from shipyard import AccessLogBucket, ContainerService, FargateCluster, Network

from artifact_images import with_artifact_images
from stack_settings import load_stack_settings

settings = load_stack_settings()

# Default tags hold only what is constant for the stack: a per-commit value here would update
# every resource on every deploy (see README "Tags").
provider = aws.Provider("aws", region=aws.config.region, default_tags=aws.ProviderDefaultTagsArgs(
    tags={"environment": settings.environment, "managed-by": "pulumi",
          "project": pulumi.get_project()}))
opts = pulumi.ResourceOptions(providers=[provider])

network = Network(
    "network", az_count=settings.network.az_count, nat_gateways=settings.network.nat_gateways,
    cidr_block=settings.network.cidr_block, vpc_endpoints=settings.network.vpc_endpoints,
    existing_vpc_id=settings.network.vpc_id,
    existing_public_subnet_ids=settings.network.public_subnet_ids,
    existing_private_subnet_ids=settings.network.private_subnet_ids, opts=opts)
cluster = FargateCluster("cluster", opts=opts)
# Each service's load balancer writes under its own name (ContainerService's log prefix).
access_logs = (AccessLogBucket("alb-logs", prefixes=list(settings.services),
                               expire_after_days=settings.access_log_expiry_days,
                               protect=settings.protect_stateful, opts=opts)
               if settings.access_logs else None)

# Set in the delivered stacks: deploy the artifacts stack's digests instead of building here.
artifacts_registry = pulumi.Config("shipyard").get("artifacts_registry")
for name, args in settings.services.items():
    if artifacts_registry:
        args = with_artifact_images(name, args, registry_id=artifacts_registry,
                                    region=str(aws.config.region))
    service = ContainerService(name, {
        **args,  # type: ignore[typeddict-item]
        "vpc_id": network.vpc_id, "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids, "cluster_arn": cluster.arn,
        "cluster_name": cluster.name, "source_version": settings.source_versions[name],
        **({"access_logs_bucket": access_logs.bucket_name} if access_logs else {}),
    }, opts=opts)
    pulumi.export(f"{name}_url", service.url)
    pulumi.export(f"{name}_image_digests", service.image_digests)
    pulumi.export(f"{name}_repository_urls", service.repository_urls)
    pulumi.export(f"{name}_service_name", service.service_name)
    pulumi.export(f"{name}_rollout_bound_seconds", service.rollout_bound_seconds)

pulumi.export("cluster_name", cluster.name)
pulumi.export("vpc_id", network.vpc_id)
