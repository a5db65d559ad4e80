"""The staging/prod program: settings from the stack's config, one network, one cluster, one
ContainerService per configured service."""

import os

import pulumi
import pulumi_aws as aws
from shipyard import AccessLogBucket, ContainerService, FargateCluster, Network
from shipyard.shared_load_balancer import SharedLoadBalancer

from artifact_images import released_digests, with_artifact_images
from stack_settings import load_stack_settings

settings = load_stack_settings()
# The internal load balancer's component name, which its ALB's name starts with: not
# "internal", since AWS refuses a load balancer name beginning with "internal-" (ELBv2 API
# reference, CreateLoadBalancer Name).
INTERNAL_BALANCER = "private"

# Default tags hold only what is constant for the stack: a per-commit value here would update
# every resource on every deploy (see docs/stacks.md, "Tags").
provider = aws.Provider("aws", region=aws.config.region, default_tags=aws.ProviderDefaultTagsArgs(
    tags={"environment": settings.environment, "managed-by": "pulumi",
          "project": pulumi.get_project()}))
opts = pulumi.ResourceOptions(providers=[provider])

# The flow-log role takes the services' permissions boundary unless the network names its own.
boundaries = {args.get("permissions_boundary_arn") for args in settings.services.values()}
network_args = settings.network.as_args()
if settings.protect_stateful:
    network_args["protect"] = True
if len(boundaries) == 1 and None not in boundaries:
    network_args.setdefault("permissions_boundary_arn", str(boundaries.pop()))
network = Network("network", network_args, opts=opts)
cluster = FargateCluster("cluster", {}, opts=opts)
topology = settings.topology
# Each load balancer writes under its own name: a public service's own ALB under the service
# name, the shared ALB under "shared" (their access_logs.prefix).
log_prefixes = [name for name, args in settings.services.items()
                if args.get("topology", "public") == "public"]
if topology.load_balancer is not None:
    log_prefixes.append("shared")
if topology.internal_load_balancer is not None:
    log_prefixes.append(INTERNAL_BALANCER)
access_logs = (AccessLogBucket("alb-logs", {"prefixes": log_prefixes,
                                            "expire_after_days": settings.access_log_expiry_days,
                                            "protect": settings.protect_stateful}, opts=opts)
               if settings.access_logs and log_prefixes else None)

# Set in the delivered stacks: deploy the artifacts stack's digests instead of building here; a
# release passes the digests staging ran and prod refuses any other.
artifacts_registry = pulumi.Config("shipyard").get("artifacts_registry")
released = released_digests(os.environ.get("SHIPYARD_RELEASED_DIGESTS"),
                            pulumi.Config("shipyard").get_bool("released_digests_required")
                            or False)
shared = (SharedLoadBalancer("shared", {
    **topology.load_balancer,  # type: ignore[typeddict-item]
    "vpc_id": network.vpc_id, "public_subnet_ids": network.public_subnet_ids,
    **({"access_logs_bucket": access_logs.bucket_name} if access_logs else {}),
}, opts=opts) if topology.load_balancer is not None else None)
namespace = (aws.servicediscovery.HttpNamespace(
    "services", name=f"{pulumi.get_project()}-{pulumi.get_stack()}",
    description="ECS Service Connect: private services by name", opts=opts)
    if topology.service_connect_users else None)

internal: SharedLoadBalancer | None = None
services: dict[str, ContainerService] = {}
operations: dict[str, dict[str, object]] = {}
for name in topology.order:
    args = dict(settings.services[name])
    if artifacts_registry:
        args = with_artifact_images(name, args, registry_id=artifacts_registry,
                                    region=str(aws.config.region), released=released)
    containers = [dict(c) for c in args["containers"]]
    for (index, variable), target in topology.url_references.get(name, {}).items():
        containers[index]["environment"] = {**containers[index]["environment"],
                                            variable: services[target].url}
    args["containers"] = containers
    if name in topology.callers:
        args["callers"] = {caller: services[caller].security_group_id
                           for caller in topology.callers[name]}
    if topology.balancer_of.get(name) == "internal":
        # Built here, once: its callers come first in topology.order (it admits their groups).
        internal = internal or SharedLoadBalancer(INTERNAL_BALANCER, {
            **topology.internal_load_balancer,  # type: ignore[typeddict-item]
            "internal": True, "vpc_id": network.vpc_id,
            "private_subnet_ids": network.private_subnet_ids,
            "callers": {caller: services[caller].security_group_id
                        for caller in topology.internal_callers},
            **({"access_logs_bucket": access_logs.bucket_name} if access_logs else {}),
        }, opts=opts)
        args["load_balancer"] = internal
    elif shared is not None and args.get("topology") == "shared":
        args["load_balancer"] = shared
    if namespace is not None and name in topology.service_connect_users:
        args["service_connect_namespace"] = namespace.arn
    service = services[name] = ContainerService(name, {
        **args,  # type: ignore[typeddict-item]
        "vpc_id": network.vpc_id, "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids, "cluster_arn": cluster.arn,
        "cluster_name": cluster.name, "source_version": settings.source_versions[name],
        **({"access_logs_bucket": access_logs.bucket_name}
           if access_logs and args.get("topology", "public") == "public" else {}),
    }, opts=opts)
    pulumi.export(f"{name}_url", service.url)
    pulumi.export(f"{name}_security_group_id", service.security_group_id)
    pulumi.export(f"{name}_image_digests", service.image_digests)
    pulumi.export(f"{name}_repository_urls", service.repository_urls)
    pulumi.export(f"{name}_service_name", service.service_name)
    pulumi.export(f"{name}_rollout_bound_seconds", service.rollout_bound_seconds)
    # What the day-two commands (`shipyard status|logs|exec|rollback|run`) read to find the
    # service: nothing there is a hard-coded name.
    operations[name] = {
        "cluster_arn": service.cluster_arn, "cluster_name": service.cluster_name,
        "service_name": service.service_name, "log_group_name": service.log_group_name,
        "task_definition_family": service.task_definition_family,
        "task_definition_arn": service.task_definition_arn,
        "execution_role_arn": service.execution_role_arn, "task_role_arn": service.task_role_arn,
        "image_digests": service.image_digests, "url": service.url,
        "execute_command": service.spec.enable_execute_command,
    }

if shared is not None:
    pulumi.export("shared_url", shared.url)
if internal is not None:
    pulumi.export("internal_url", internal.url)
pulumi.export("services", operations)
pulumi.export("cluster_name", cluster.name)
pulumi.export("vpc_id", network.vpc_id)
