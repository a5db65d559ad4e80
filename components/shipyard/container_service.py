"""ContainerService: one web service from its source folder to a load-balanced, least-privilege
ECS Fargate deployment. Every argument is validated before the first child is registered."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from . import iam
from .cluster import FargateCluster
from .image import SOURCE_TAG_PREFIX, source_fingerprint, source_tag
from .load_balancer import ServiceEdge, create_service_edge, rollout_bound_seconds
from .scan_gate import ScanGate, Thresholds
from .spec import ContainerServiceArgs, ContainerSpec, SecretSpec, ServiceSpec, parse_service_args
from .task_definition import ResolvedContainer, container_definitions, volumes

TYPE_TOKEN = "shipyard:index:ContainerService"
UNTAGGED_IMAGE_EXPIRY_DAYS = 1


def lifecycle_policy(images_to_keep: int) -> dict:
    """Expire untagged layers quickly; keep the last N released (source-tagged) images so a
    previous commit can be redeployed without a rebuild."""
    return {"rules": [
        {"rulePriority": 1, "description": "Expire untagged images after a day",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": UNTAGGED_IMAGE_EXPIRY_DAYS},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the last {images_to_keep} released images",
         "selection": {"tagStatus": "tagged", "tagPatternList": [f"{SOURCE_TAG_PREFIX}*"],
                       "countType": "imageCountMoreThan", "countNumber": images_to_keep},
         "action": {"type": "expire"}},
    ]}


def docker_platform(architecture: str) -> str:
    return {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}[architecture]


class ContainerService(pulumi.ComponentResource):
    """A web service on ECS Fargate behind an ALB, from its source folder or a pinned image:
    least-privilege roles, digest-pinned images that passed the ECR scan gate, secrets only
    through Secrets Manager, autoscaling and a bounded rollout."""

    url: pulumi.Output[str]
    """https:// (or http:// without a certificate) address of the load balancer."""
    image_digests: pulumi.Output[dict[str, str]]
    """Container name -> the image reference the task runs, pinned by digest."""
    repository_urls: pulumi.Output[dict[str, str]]
    """Container name -> ECR repository URL, for each container built from source."""
    cluster_arn: pulumi.Output[str]
    """ARN of the cluster the service runs in (the one given, or the one it created)."""
    cluster_name: pulumi.Output[str]
    """Name of the cluster the service runs in."""
    service_name: pulumi.Output[str]
    """Name of the ECS service."""
    rollout_bound_seconds: int
    """Health-check time to healthy plus draining: the floor of a one-task swap, in seconds."""

    def __init__(self, name: str, args: ContainerServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        spec = parse_service_args(name, args)
        fingerprints = {c.name: source_fingerprint(
            c.source, dockerfile=c.dockerfile, platform=docker_platform(spec.architecture),
            build_args=c.build_args) for c in spec.containers if c.source is not None}
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
        repositories: dict[str, aws.ecr.Repository] = {}
        gates: list[ScanGate] = []
        for container in spec.containers:
            if container.source is None:
                assert container.image is not None  # parse_service_args: source xor image
                images[container.name] = pulumi.Output.from_input(container.image)
                continue
            repository, image = self._build_image(
                spec, container, source_tag(fingerprints[container.name]), key, tags, stateful)
            repositories[container.name] = repository
            images[container.name] = image.repo_digest
            gates.append(ScanGate(
                f"{spec.name}-{container.name}-scan-gate", repository=repository.name,
                image_digest=image.repo_digest, region=region,
                thresholds=Thresholds(spec.scan_max_critical, spec.scan_max_high),
                timeout_seconds=spec.scan_timeout_seconds, opts=child))

        value_froms, secret_iam_arns, kms_keys = self._secrets(spec, key, tags, stateful)

        ecs_tasks_trust = account_id.apply(lambda a: json.dumps(iam.ecs_tasks_trust_policy(a)))
        execution_role = aws.iam.Role(
            f"{name}-execution", description=f"ECS agent for {name}: pull, log, read secrets",
            assume_role_policy=ecs_tasks_trust,
            permissions_boundary=spec.permissions_boundary_arn, tags=tags, opts=child)
        aws.iam.RolePolicy(
            f"{name}-execution", role=execution_role.id,
            policy=pulumi.Output.all(
                [r.arn for r in repositories.values()], log_group.arn, secret_iam_arns, kms_keys,
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
            cluster = FargateCluster(f"{name}-cluster", {}, opts=child)
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
            f"{name}-task", family=name, cpu=str(spec.cpu), memory=str(spec.memory),
            network_mode="awsvpc", requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=spec.architecture),
            execution_role_arn=execution_role.arn, task_role_arn=task_role.arn,
            container_definitions=definitions,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=vol["name"])
                     for vol in volumes(ordered)],
            tags={**tags, "source-version": spec.source_version},
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
        self._autoscaling(spec, cluster_name, service, edge)

        self.url = edge.url
        self.image_digests = pulumi.Output.all(**images)
        self.repository_urls = pulumi.Output.all(
            **{n: r.repository_url for n, r in repositories.items()})
        self.cluster_arn = cluster_arn
        self.cluster_name = cluster_name
        self.service_name = service.name
        self.rollout_bound_seconds = rollout_bound_seconds(spec.deregistration_delay_seconds)
        self.register_outputs({
            "url": self.url, "image_digests": self.image_digests,
            "repository_urls": self.repository_urls, "cluster_name": self.cluster_name,
            "service_name": self.service_name, "rollout_bound_seconds": self.rollout_bound_seconds,
            "cluster_arn": self.cluster_arn,
        })

    def _build_image(self, spec: ServiceSpec, container: ContainerSpec, tag: str,
                     key: aws.kms.Key, tags: dict, stateful: pulumi.ResourceOptions):
        prefix = f"{spec.name}-{container.name}"
        repository = aws.ecr.Repository(
            f"{prefix}-repo", image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=key.arn)],
            # Released images are the rollback path: never delete a repository that holds them.
            force_delete=False, tags=tags, opts=stateful)
        aws.ecr.LifecyclePolicy(
            f"{prefix}-lifecycle", repository=repository.name,
            policy=json.dumps(lifecycle_policy(spec.images_to_keep)),
            opts=pulumi.ResourceOptions(parent=self))
        token = aws.ecr.get_authorization_token_output(
            registry_id=repository.registry_id, opts=pulumi.InvokeOptions(parent=self))
        image = docker.Image(
            f"{prefix}-image",
            image_name=repository.repository_url.apply(lambda url: f"{url}:{tag}"),
            build=docker.DockerBuildArgs(
                context=container.source, dockerfile=f"{container.source}/{container.dockerfile}",
                platform=docker_platform(spec.architecture), args=container.build_args or None),
            registry=docker.RegistryArgs(server=token.proxy_endpoint, username=token.user_name,
                                         password=pulumi.Output.secret(token.password)),
            build_on_preview=False, skip_push=False,
            # The tag already hashes every build input. Ignoring `build` stops a context hash
            # that differs between machines (pulumi-docker#566) from pushing the same tag twice
            # into the IMMUTABLE repository; a real source change changes `image_name`.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["build"]))
        return repository, image

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
