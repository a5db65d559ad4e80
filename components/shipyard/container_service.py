"""ContainerService: one web service from its source folder to a load-balanced, least-privilege
ECS Fargate deployment. Every argument is validated before the first child is registered."""

import json

import pulumi
import pulumi_aws as aws

from . import iam
from .aws_session import provider_identity
from .cluster import FargateCluster
from .image import ecr_repository_arn, validate_digest_pinned
from .load_balancer import ServiceEdge, create_service_edge, rollout_bound_seconds
from .rollout import RolloutCheck, task_definition_family
from .scan_gate import ScanGate
from .service_image import ServiceImage, docker_platform, lifecycle_policy
from .spec import ContainerServiceArgs, ContainerSpec, SecretSpec, ServiceSpec, parse_service_args
from .task_definition import ResolvedContainer, container_definitions, volumes

TYPE_TOKEN = "shipyard:index:ContainerService"
__all__ = ["ContainerService", "docker_platform", "lifecycle_policy"]


class ContainerService(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """https:// (or http:// without a certificate) address of the load balancer."""
    image_digests: pulumi.Output[dict]
    """Container name -> the image reference the task runs, pinned by digest."""
    repository_urls: pulumi.Output[dict]
    """Container name -> ECR repository URL, for each container built from source."""
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    rollout_bound_seconds: int
    """Health-check time to healthy plus draining: the floor of a one-task swap."""

    def __init__(self, name: str, args: ContainerServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        spec = parse_service_args(name, args)
        family = task_definition_family(pulumi.get_project(), pulumi.get_stack(), name)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.spec = spec
        tags = {"service": name, **spec.tags}
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=spec.protect_stateful)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region

        key = aws.kms.Key(
            f"{name}-key", description=f"{name}: secrets and logs", enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.all(account_id, region).apply(
                lambda ar: json.dumps(iam.kms_key_policy(account_id=ar[0], region=ar[1]))),
            tags=tags, opts=stateful)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=spec.log_retention_days, kms_key_id=key.arn,
            tags=tags, opts=stateful)

        images: dict[str, pulumi.Output[str]] = {}
        built: dict[str, ServiceImage] = {}
        # Prebuilt images in ECR: the execution role may pull from exactly their repositories.
        pulled_arns: list[pulumi.Output[str | None]] = []
        for container in spec.containers:
            if container.source is None:
                assert container.image is not None  # parse_service_args: source xor image
                reference = self._prebuilt_reference(container, spec.name)
                images[container.name] = reference
                pulled_arns.append(reference.apply(ecr_repository_arn))
                continue
            built[container.name] = ServiceImage(f"{spec.name}-{container.name}", {
                "source": container.source, "dockerfile": container.dockerfile,
                "build_args": container.build_args, "architecture": spec.architecture,
                "images_to_keep": spec.images_to_keep, "kms_key_arn": key.arn,
                "scan_max_critical": spec.scan_max_critical, "scan_max_high": spec.scan_max_high,
                "scan_timeout_seconds": spec.scan_timeout_seconds,
                "protect": spec.protect_stateful, "tags": tags}, opts=child)
            images[container.name] = built[container.name].image_ref
        gates: list[ScanGate] = [b.scan_gate for b in built.values()]
        repository_arns = pulumi.Output.all(
            *[b.repository_arn for b in built.values()], *pulled_arns,
        ).apply(lambda arns: [a for a in arns if a])

        value_froms, secret_iam_arns, kms_keys = self._secrets(spec, key, tags, stateful)

        ecs_tasks_trust = account_id.apply(lambda a: json.dumps(iam.ecs_tasks_trust_policy(a)))
        execution_role = aws.iam.Role(
            f"{name}-execution", description=f"ECS agent for {name}: pull, log, read secrets",
            assume_role_policy=ecs_tasks_trust,
            permissions_boundary=spec.permissions_boundary_arn, tags=tags, opts=child)
        aws.iam.RolePolicy(
            f"{name}-execution", role=execution_role.id,
            policy=pulumi.Output.all(
                repository_arns, log_group.arn, secret_iam_arns, kms_keys,
            ).apply(lambda a: json.dumps(iam.execution_role_policy(
                repository_arns=a[0], log_group_arn=a[1], secret_arns=a[2], kms_key_arns=a[3]))),
            opts=child)
        task_role = aws.iam.Role(
            f"{name}-task", description=f"{name} application identity",
            assume_role_policy=ecs_tasks_trust,
            permissions_boundary=spec.permissions_boundary_arn, tags=tags, opts=child)
        task_policy = iam.task_role_policy(spec.task_role_statements,
                                           exec_enabled=spec.enable_execute_command)
        if task_policy is not None:
            aws.iam.RolePolicy(f"{name}-task", role=task_role.id, policy=json.dumps(task_policy),
                               opts=child)

        if spec.cluster_arn is None:
            cluster = FargateCluster(f"{name}-cluster", opts=child)
            cluster_arn, cluster_name = cluster.arn, cluster.name
        else:
            cluster_arn = pulumi.Output.from_input(spec.cluster_arn)
            cluster_name = pulumi.Output.from_input(spec.cluster_name)

        edge = create_service_edge(spec, self, tags)

        ordered = list(spec.containers)
        definitions = pulumi.Output.all(
            [images[c.name] for c in ordered], [value_froms[c.name] for c in ordered],
            log_group.name, region,
        ).apply(lambda a: json.dumps(container_definitions(
            [ResolvedContainer(c, image, froms) for c, image, froms in zip(ordered, a[0], a[1])],
            log_group=a[2], region=a[3])))
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task", family=family, cpu=str(spec.cpu), memory=str(spec.memory),
            network_mode="awsvpc", requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=spec.architecture),
            execution_role_arn=execution_role.arn, task_role_arn=task_role.arn,
            container_definitions=definitions,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=vol["name"])
                     for vol in volumes(ordered)],
            tags={**tags, "source-version": spec.source_version},
            # A replaced revision stays registered (the provider deregisters it otherwise), so
            # the circuit breaker's rollback and a manual rollback can run it.
            skip_destroy=True,
            # No task definition references an image before its scan passed.
            opts=pulumi.ResourceOptions(parent=self, depends_on=gates))

        web = spec.web_container
        assert web.port is not None  # the web container is the one with a port
        service = aws.ecs.Service(
            f"{name}-service", cluster=cluster_arn, task_definition=task_definition.arn,
            desired_count=spec.desired_count, platform_version="LATEST",
            capacity_provider_strategies=[aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider="FARGATE_SPOT" if spec.spot else "FARGATE", weight=1)],
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=spec.private_subnet_ids, security_groups=[edge.service_security_group.id],
                assign_public_ip=False),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=edge.target_group.arn, container_name=web.name,
                container_port=web.port)],
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True),
            deployment_maximum_percent=200, deployment_minimum_healthy_percent=100,
            health_check_grace_period_seconds=spec.health_check_grace_period_seconds,
            availability_zone_rebalancing="ENABLED", propagate_tags="SERVICE",
            enable_ecs_managed_tags=True, enable_execute_command=spec.enable_execute_command,
            wait_for_steady_state=True, tags=tags,
            # Autoscaling owns the running count after creation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=edge.listeners,
                                        ignore_changes=["desiredCount"]))
        # `up` fails when ECS rolled the deployment back (the service's steady-state wait does
        # not: terraform-provider-aws #20858).
        RolloutCheck(f"{name}-rollout", cluster=cluster_arn, service_arn=service.id,
                     task_definition_arn=task_definition.arn, identity=provider_identity(invoke),
                     # Other changes that start a new deployment: check those rollouts too.
                     deployment_settings=pulumi.Output.json_dumps({
                         "capacity": service.capacity_provider_strategies,
                         "network": service.network_configuration,
                         "platform": service.platform_version}, sort_keys=True),
                     opts=pulumi.ResourceOptions(parent=self, depends_on=[service]))
        self._autoscaling(spec, cluster_name, service, edge)

        self.url = edge.url
        self.image_digests = pulumi.Output.all(**images)
        self.repository_urls = pulumi.Output.all(
            **{n: b.repository_url for n, b in built.items()})
        self.cluster_name = cluster_name
        self.service_name = service.name
        self.rollout_bound_seconds = rollout_bound_seconds(spec.deregistration_delay_seconds)
        self.register_outputs({
            "url": self.url, "image_digests": self.image_digests,
            "repository_urls": self.repository_urls, "cluster_name": self.cluster_name,
            "service_name": self.service_name, "rollout_bound_seconds": self.rollout_bound_seconds,
            "cluster_arn": cluster_arn,
        })

    @staticmethod
    def _prebuilt_reference(container: ContainerSpec, service: str) -> pulumi.Output[str]:
        """A prebuilt image given as a string was validated by the parser; one given as an
        Output (e.g. a digest from another stack) is validated when known: digest-pinned only,
        since nothing else proves which image another stack scanned."""
        if isinstance(container.image, pulumi.Output):
            setting = f"{service}.containers[{container.name}].image"
            return container.image.apply(lambda ref: validate_digest_pinned(ref, setting))
        assert container.image is not None  # parse_service_args: source xor image
        return pulumi.Output.from_input(container.image)

    def _secrets(self, spec: ServiceSpec, key: aws.kms.Key, tags: dict,
                 stateful: pulumi.ResourceOptions):
        """Create Secrets Manager entries for config secrets; return per-container valueFroms,
        the ARNs the execution role may read, and the keys it may decrypt with."""
        value_froms: dict[str, pulumi.Output[dict]] = {}
        iam_arns: list[pulumi.Output[str]] = []
        kms_keys: list[pulumi.Output[str]] = []
        for container in spec.containers:
            froms: dict[str, pulumi.Output[str]] = {}
            for secret in container.secrets:
                froms[secret.env_name] = self._secret_reference(spec, container, secret, key,
                                                                tags, stateful, iam_arns, kms_keys)
            # Output.all() of nothing resolves to a list; a container without secrets needs {}.
            value_froms[container.name] = (pulumi.Output.all(**froms) if froms
                                           else pulumi.Output.from_input({}))
        # Secrets stored from config are encrypted with the service's own key.
        if any(s.value is not None for c in spec.containers for s in c.secrets):
            kms_keys.append(key.arn)
        return value_froms, pulumi.Output.all(*iam_arns), pulumi.Output.all(*kms_keys)

    def _secret_reference(self, spec: ServiceSpec, container: ContainerSpec, secret: SecretSpec,
                          key: aws.kms.Key, tags: dict, stateful: pulumi.ResourceOptions,
                          iam_arns: list, kms_keys: list) -> pulumi.Output[str]:
        if secret.arn is not None:
            iam_arns.append(pulumi.Output.from_input(iam.secret_arn_for_iam(secret.arn)))
            if secret.kms_key_arn is not None:
                kms_keys.append(pulumi.Output.from_input(secret.kms_key_arn))
            suffix = f":{secret.json_key}::" if secret.json_key else ""
            return pulumi.Output.from_input(secret.arn + suffix)
        logical = f"{spec.name}-{container.name}-{secret.env_name.lower().replace('_', '-')}"
        stored = aws.secretsmanager.Secret(
            logical, description=f"{secret.env_name} for {spec.name}/{container.name}",
            kms_key_id=key.arn, recovery_window_in_days=7,
            # The value comes from stack config: it rotates when the config secret changes.
            tags={**tags, "rotation": "pulumi-config-secret"}, opts=stateful)
        aws.secretsmanager.SecretVersion(
            logical, secret_id=stored.id, secret_string=secret.value,
            opts=pulumi.ResourceOptions(parent=self))
        iam_arns.append(stored.arn)
        return stored.arn

    def _autoscaling(self, spec: ServiceSpec, cluster_name: pulumi.Output[str],
                     service: aws.ecs.Service, edge: ServiceEdge) -> None:
        opts = pulumi.ResourceOptions(parent=self)
        target = aws.appautoscaling.Target(
            f"{spec.name}-scaling", service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster_name, "/", service.name),
            min_capacity=spec.min_count, max_capacity=spec.max_count, opts=opts)

        def track(role: str, value: int, metric: str,
                  label: pulumi.Input[str] | None = None) -> None:
            aws.appautoscaling.Policy(
                f"{spec.name}-{role}", policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.
                PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=value, scale_in_cooldown=120, scale_out_cooldown=60,
                    predefined_metric_specification=aws.appautoscaling.
                    PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric, resource_label=label)),
                opts=opts)

        track("cpu", spec.cpu_target_percent, "ECSServiceAverageCPUUtilization")
        track("requests", spec.requests_per_target, "ALBRequestCountPerTarget",
              pulumi.Output.concat(edge.load_balancer.arn_suffix, "/",
                                   edge.target_group.arn_suffix))
