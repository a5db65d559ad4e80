"""ContainerService: one web service from its source folder to a load-balanced, least-privilege
ECS Fargate deployment. Every argument is validated before the first child is registered."""

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from . import iam
from .alarms import rollback_alarms
from .aws_session import provider_identity
from .blue_green import SMOKE_TEST_STAGE, infrastructure_role, smoke_test_role
from .change_guard import ChangeGuard
from .cluster import FargateCluster
from .dns import alias_record
from .drift import DriftCheck
from .image import ecr_repository_arn, validate_digest_pinned
from .load_balancer import create_service_edge, rollout_bound_seconds
from .repository_names import repository_name
from .rollout import RolloutCheck, task_definition_family
from .rollout_budget import rollout_budget
from .routing import Route
from .scaling import requests_per_serving_target
from .scan_gate import ScanGate
from .service_connect import (
    ServiceConnectCleanup,
    service_connect_configuration,
    service_connect_url,
)
from .service_image import ServiceImage, docker_platform, lifecycle_policy
from .shared_load_balancer import SharedLoadBalancer, attach_service
from .spec import (
    FIRELENS_CLOUDWATCH_OUTPUT,
    ContainerServiceArgs,
    ContainerSpec,
    SecretSpec,
    ServiceSpec,
    check_secret_accounts,
    parse_service_args,
)
from .task_definition import ResolvedContainer, container_definitions, volumes
from .topology import CIRCUIT_BREAKER_STRATEGIES
from .waf import protect_load_balancer

TYPE_TOKEN = "shipyard:index:ContainerService"
REDEPLOY_LABEL = "shipyard.redeploy"
WIRING_REMEDY = (
    "Whether traffic shifts between two target groups, and for such a service its container, "
    "port, target groups, listener rules and ECS role, are fixed once it exists: ECS decides "
    "which group serves production and the component never sends the load balancers again "
    "(terraform-provider-aws#45678). Revert the change, or move to a new service "
    "(docs/topologies.md, \"Changing a blue/green service\").")
__all__ = ["ContainerService", "docker_platform", "lifecycle_policy"]


class ContainerService(pulumi.ComponentResource):
    """A web service (or worker) on ECS Fargate, from its source folder or a pinned image:
    least-privilege roles, digest-pinned images that passed the ECR scan gate, secrets only
    through Secrets Manager, autoscaling and a bounded rollout."""

    url: pulumi.Output[str]
    """https:// (or http:// without a certificate) address of the load balancer; for a private
    service its Service Connect address (http://<alias>:<port>); "" for a worker."""
    security_group_id: pulumi.Output[str]
    """The tasks' own security group, so a database defined elsewhere can admit it."""
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
    log_group_name: pulumi.Output[str]
    """The CloudWatch log group every container of the task logs to with awslogs (streams
    `ecs/<container>/<task id>`)."""
    task_definition_family: str
    """The task definition family (`<project>-<stack>-<service>`): every revision the service
    ran stays registered in it."""
    task_definition_arn: pulumi.Output[str]
    """The revision this deployment runs."""
    execution_role_arn: pulumi.Output[str]
    """The role the ECS agent uses to pull images, write logs and read secrets."""
    task_role_arn: pulumi.Output[str]
    """The application's own identity inside the task."""

    def __init__(self, name: str, args: ContainerServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        spec = parse_service_args(name, args)
        if any(s.arn is not None and s.kms_key_arn is None
               for c in spec.containers for s in c.secrets):
            # Whose a secret is, only the account can say: asked before anything is registered.
            check_secret_accounts(spec.containers, "", _deploying_account(opts))
        family = task_definition_family(pulumi.get_project(), pulumi.get_stack(), name)
        # Named before anything is registered, so a name ECR refuses creates nothing.
        repository_names = {c.name: repository_name(pulumi.get_project(), pulumi.get_stack(),
                                                    spec.name, c.name)
                            for c in spec.containers if c.source is not None}
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
                "protect": spec.protect_stateful, "tags": tags,
                "repository_name": repository_names[container.name]}, opts=child)
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
        execution_policy = aws.iam.RolePolicy(
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
        # ECS uses each role the moment CreateService (or a deployment) starts, and the provider
        # retries only the legacy service-role error (terraform-provider-aws internal/service/
        # ecs/service.go, retryServiceCreate): the service waits for every policy of its roles.
        self._role_policies = [execution_policy]
        if any(c.log_router_options is not None
               and c.log_router_options["Name"] == FIRELENS_CLOUDWATCH_OUTPUT
               for c in spec.containers):
            # The FireLens router writes with the task role, to the service's own log group.
            self._role_policies.append(aws.iam.RolePolicy(
                f"{name}-task", role=task_role.id, policy=log_group.arn.apply(
                    lambda arn: json.dumps(iam.task_role_policy(
                        spec.task_role_statements, exec_enabled=spec.enable_execute_command,
                        firelens_log_group_arn=arn))), opts=child))
        elif task_policy is not None:
            self._role_policies.append(aws.iam.RolePolicy(
                f"{name}-task", role=task_role.id, policy=json.dumps(task_policy), opts=child))

        if spec.cluster_arn is None:
            cluster = FargateCluster(f"{name}-cluster", {}, opts=child)
            cluster_arn, cluster_name = cluster.arn, cluster.name
        else:
            cluster_arn = pulumi.Output.from_input(spec.cluster_arn)
            cluster_name = pulumi.Output.from_input(spec.cluster_name)

        edge = self._edge(spec, tags)

        ordered = list(spec.containers)
        environments = [pulumi.Output.all(**c.environment) if c.environment
                        else pulumi.Output.from_input({}) for c in ordered]
        definitions = pulumi.Output.all(
            [images[c.name] for c in ordered], [value_froms[c.name] for c in ordered],
            log_group.name, region, environments,
        ).apply(lambda a: json.dumps(redeploy_labelled(container_definitions(
            [ResolvedContainer(c, image, froms, env)
             for c, image, froms, env in zip(ordered, a[0], a[1], a[4])],
            log_group=a[2], region=a[3]), spec.redeploy_token)))
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

        topology = spec.topology
        strategy = topology.deployment.strategy
        budget = rollout_budget(spec)
        alarms = (rollback_alarms(
            service=name, target_group_arn_suffixes=[g.arn_suffix for g in edge.target_groups],
            load_balancer_arn_suffix=edge.load_balancer_arn_suffix, tags=tags, parent=self)
            if topology.rollback_alarms and edge.load_balancer_arn_suffix is not None else [])
        # Before the service: they create its traffic and smoke-test roles (self._role_policies)
        # and register what the service waits for (edge.before_service).
        load_balancers = self._load_balancers(spec, edge, tags)
        deployment_configuration = self._deployment_configuration(spec, tags)
        service_connect = self._service_connect(spec, log_group.name, region, invoke, edge)
        # Before the service: an emergency rollback stops the update here (drift.py).
        drift = DriftCheck(f"{name}-drift", service=name, cluster=cluster_arn, family=family,
                           service_prefix=f"{name}-service-", images=pulumi.Output.all(**images),
                           identity=provider_identity(invoke), opts=child)
        service = aws.ecs.Service(
            f"{name}-service", cluster=cluster_arn, task_definition=task_definition.arn,
            desired_count=spec.desired_count, platform_version="LATEST",
            capacity_provider_strategies=[aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider="FARGATE_SPOT" if spec.spot else "FARGATE", weight=1)],
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=spec.private_subnet_ids,
                security_groups=[edge.service_security_group.id,
                                 *topology.extra_security_group_ids],
                assign_public_ip=False),
            load_balancers=load_balancers or None,
            deployment_circuit_breaker=(aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True) if strategy in CIRCUIT_BREAKER_STRATEGIES else None),
            deployment_configuration=deployment_configuration,
            alarms=(aws.ecs.ServiceAlarmsArgs(alarm_names=[a.name for a in alarms], enable=True,
                                              rollback=True) if alarms else None),
            service_connect_configuration=service_connect,
            deployment_maximum_percent=200, deployment_minimum_healthy_percent=100,
            # ECS accepts a grace period only for services behind a load balancer.
            health_check_grace_period_seconds=(spec.health_check_grace_period_seconds
                                               if edge.target_groups else None),
            availability_zone_rebalancing="ENABLED", propagate_tags="SERVICE",
            enable_ecs_managed_tags=True, enable_execute_command=spec.enable_execute_command,
            wait_for_steady_state=True, tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*edge.listeners, *edge.before_service, *self._role_policies, drift],
                ignore_changes=ecs_owned_service_fields(topology.deployment.shifts_traffic),
                # The provider's wait covers the whole deployment (rollout_budget.py).
                custom_timeouts=budget.custom_timeouts()))
        # `up` fails when ECS rolled the deployment back (the service's steady-state wait does
        # not: terraform-provider-aws #20858).
        RolloutCheck(f"{name}-rollout", cluster=cluster_arn, service_arn=service.id,
                     task_definition_arn=task_definition.arn, identity=provider_identity(invoke),
                     timeout_seconds=budget.wait_seconds,
                     # Other changes that start a new deployment: check those rollouts too.
                     deployment_settings=pulumi.Output.json_dumps({
                         "capacity": service.capacity_provider_strategies,
                         "network": service.network_configuration,
                         "platform": service.platform_version}, sort_keys=True),
                     opts=pulumi.ResourceOptions(parent=self, depends_on=[service]))
        self._autoscaling(spec, cluster_name, service, edge)

        self.url = edge.url
        self.security_group_id = edge.service_security_group.id
        self.image_digests = pulumi.Output.all(**images)
        self.repository_urls = pulumi.Output.all(
            **{n: b.repository_url for n, b in built.items()})
        self.cluster_arn = cluster_arn
        self.cluster_name = cluster_name
        self.service_name = service.name
        self.rollout_bound_seconds = rollout_bound_seconds(spec.deregistration_delay_seconds)
        self.log_group_name = log_group.name
        self.task_definition_family = family
        self.task_definition_arn = task_definition.arn
        self.execution_role_arn = execution_role.arn
        self.task_role_arn = task_role.arn
        self.register_outputs({
            "log_group_name": self.log_group_name,
            "task_definition_family": self.task_definition_family,
            "task_definition_arn": self.task_definition_arn,
            "execution_role_arn": self.execution_role_arn, "task_role_arn": self.task_role_arn,
            "url": self.url, "image_digests": self.image_digests,
            "repository_urls": self.repository_urls, "cluster_name": self.cluster_name,
            "service_name": self.service_name, "rollout_bound_seconds": self.rollout_bound_seconds,
            "cluster_arn": self.cluster_arn, "security_group_id": self.security_group_id,
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

    def _edge(self, spec: ServiceSpec, tags: dict) -> "Edge":
        """How traffic reaches the tasks, per topology; the service's security group with it."""
        topology = spec.topology
        name = spec.name
        if topology.kind == "public" and not topology.deployment.shifts_traffic:
            own = create_service_edge(spec, self, tags)  # today's shape, unchanged
            url = own.url
            if topology.waf is not None:
                protect_load_balancer(name, own.load_balancer.arn, topology.waf.rate_limit, tags,
                                      self, protect_logs=spec.protect_stateful)
            if topology.dns is not None:
                alias_record(name, topology.dns, own.load_balancer.dns_name,
                             own.load_balancer.zone_id, self)
                url = pulumi.Output.from_input(
                    f"{'https' if spec.certificate_arn else 'http'}://{topology.dns.name}")
            edge = Edge(own.service_security_group, [own.target_group], list(own.listeners),
                        own.load_balancer.arn_suffix, url)
        else:
            edge = Edge(self._service_security_group(spec, tags), [], [], None,
                        pulumi.Output.from_input(""))
            if topology.kind in ("public", "shared"):
                self._join_load_balancer(spec, edge, tags)
            elif topology.kind == "private":
                port = spec.web_container.port
                assert port is not None and topology.service_connect_alias is not None
                edge.url = pulumi.Output.from_input(
                    service_connect_url(topology.service_connect_alias, port))
                self._admit_callers(spec, edge.service_security_group, port, tags)
        self._declared_egress(spec, edge.service_security_group, tags)
        return edge

    def _service_security_group(self, spec: ServiceSpec, tags: dict) -> aws.ec2.SecurityGroup:
        opts = pulumi.ResourceOptions(parent=self)
        who = {"shared": "only the shared load balancer in", "public": "only its load balancer in",
               "private": "only its declared callers in", "worker": "nothing in"}
        group = aws.ec2.SecurityGroup(
            f"{spec.name}-service-sg", vpc_id=spec.vpc_id, tags=tags, opts=opts,
            description=f"{spec.name} tasks: {who[spec.topology.kind]}")
        # Tasks reach AWS APIs (ECR, Secrets Manager, CloudWatch Logs) over HTTPS.
        aws.vpc.SecurityGroupEgressRule(
            f"{spec.name}-service-out-https", security_group_id=group.id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
            description="HTTPS to AWS APIs and dependencies", tags=tags, opts=opts)
        return group

    def _join_load_balancer(self, spec: ServiceSpec, edge: "Edge", tags: dict) -> None:
        topology = spec.topology
        port = spec.web_container.port
        assert port is not None
        deployment = topology.deployment
        if topology.kind == "shared":
            balancer = topology.load_balancer
        else:
            # A public service that shifts traffic needs listener rules: the same component as
            # the shared load balancer, with this one service on every path.
            balancer = SharedLoadBalancer(spec.name, {
                "vpc_id": spec.vpc_id, "public_subnet_ids": spec.public_subnet_ids,
                **({"certificate_arn": spec.certificate_arn} if spec.certificate_arn else {}),
                "ingress_cidrs": list(spec.ingress_cidrs),
                "deletion_protection": spec.deletion_protection,
                **({"access_logs_bucket": spec.access_logs_bucket}
                   if spec.access_logs_bucket is not None else {}),
                **({"test_listener_port": deployment.test_listener_port,
                    "test_ingress_cidrs": list(deployment.test_ingress_cidrs)}
                   if deployment.test_listener_port is not None else {}),
                **({"waf": {"enabled": True, "rate_limit": topology.waf.rate_limit}}
                   if topology.waf is not None else {}),
                **({"dns": {"zone_id": topology.dns.zone_id, "name": topology.dns.name}}
                   if topology.dns is not None else {}),
                "routes": {spec.name: {"paths": ["/*"]}}, "tags": tags,
            }, opts=pulumi.ResourceOptions(parent=self))
        attached = attach_service(
            name=spec.name, balancer=balancer, route=balancer.routes[spec.name],
            priority=balancer.priorities[spec.name], port=port,
            health_check_path=spec.health_check_path,
            deregistration_delay_seconds=spec.deregistration_delay_seconds,
            service_security_group=edge.service_security_group, vpc_id=spec.vpc_id,
            shifts_traffic=deployment.shifts_traffic, tags=tags, parent=self)
        edge.target_groups = attached.target_groups
        edge.rules = [attached.production_rule] + ([attached.test_rule] if attached.test_rule
                                                   else [])
        edge.listeners = [*balancer.listeners, *edge.rules]
        edge.load_balancer_arn_suffix = balancer.arn_suffix
        edge.url = route_url(balancer, balancer.routes[spec.name])

    def _admit_callers(self, spec: ServiceSpec, group: aws.ec2.SecurityGroup, port: int,
                       tags: dict) -> None:
        """Both halves of each declared caller's path: the caller's group may send to this one on
        the port, and this one admits only the callers' groups on it."""
        opts = pulumi.ResourceOptions(parent=self)
        for caller, caller_group in sorted(spec.topology.callers.items()):
            aws.vpc.SecurityGroupIngressRule(
                f"{spec.name}-in-from-{caller}", security_group_id=group.id, ip_protocol="tcp",
                from_port=port, to_port=port, referenced_security_group_id=caller_group,
                description=f"from {caller} (a declared caller) through Service Connect",
                tags=tags, opts=opts)
            aws.vpc.SecurityGroupEgressRule(
                f"{caller}-out-to-{spec.name}", security_group_id=caller_group,
                ip_protocol="tcp", from_port=port, to_port=port,
                referenced_security_group_id=group.id,
                description=f"to {spec.name} through Service Connect", tags=tags, opts=opts)

    def _declared_egress(self, spec: ServiceSpec, group: aws.ec2.SecurityGroup,
                         tags: dict) -> None:
        opts = pulumi.ResourceOptions(parent=self)
        for index, egress in enumerate(spec.topology.egress):
            aws.vpc.SecurityGroupEgressRule(
                f"{spec.name}-out-{index}", security_group_id=group.id, ip_protocol="tcp",
                from_port=egress.port, to_port=egress.port, cidr_ipv4=egress.cidr,
                referenced_security_group_id=egress.security_group_id,
                description=egress.description, tags=tags, opts=opts)

    def _load_balancers(self, spec: ServiceSpec,
                        edge: "Edge", tags: dict) -> list[aws.ecs.ServiceLoadBalancerArgs]:
        if not edge.target_groups:
            return []
        web = spec.web_container
        assert web.port is not None
        advanced = None
        wiring: dict[str, pulumi.Input[object]] = {"traffic": "rolling"}
        if spec.topology.deployment.shifts_traffic:
            role, policy = infrastructure_role(
                name=spec.name, target_groups=edge.target_groups, rules=edge.rules,
                permissions_boundary=spec.permissions_boundary_arn, tags=tags, parent=self)
            self._role_policies.append(policy)
            advanced = aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
                alternate_target_group_arn=edge.target_groups[1].arn,
                production_listener_rule=edge.rules[0].arn,
                test_listener_rule=edge.rules[1].arn if len(edge.rules) > 1 else None,
                role_arn=role.arn)
            wiring = {
                "traffic": "shifting", "container": web.name, "port": web.port,
                "target_groups": pulumi.Output.all(*[g.arn for g in edge.target_groups]).apply(
                    sorted),
                "listener_rules": pulumi.Output.all(*[r.arn for r in edge.rules]).apply(sorted),
                "role": role.arn}
        edge.before_service.append(ChangeGuard(
            f"{spec.name}-lb-wiring", subject=f"the load-balancer wiring of service {spec.name}",
            fixed=wiring, remedy=WIRING_REMEDY, opts=pulumi.ResourceOptions(parent=self)))
        return [aws.ecs.ServiceLoadBalancerArgs(
            target_group_arn=edge.target_groups[0].arn, container_name=web.name,
            container_port=web.port, advanced_configuration=advanced)]

    def _deployment_configuration(self, spec: ServiceSpec, tags: dict
                                  ) -> aws.ecs.ServiceDeploymentConfigurationArgs | None:
        deployment = spec.topology.deployment
        if not deployment.shifts_traffic:
            return None  # ROLLING, the API's default: nothing to send
        hooks = None
        if deployment.smoke_test_lambda_arn is not None:
            role, policy = smoke_test_role(
                name=spec.name, function_arn=deployment.smoke_test_lambda_arn,
                permissions_boundary=spec.permissions_boundary_arn, tags=tags, parent=self)
            self._role_policies.append(policy)
            hooks = [aws.ecs.ServiceDeploymentConfigurationLifecycleHookArgs(
                lifecycle_stages=[SMOKE_TEST_STAGE], target_type="AWS_LAMBDA",
                hook_target_arn=deployment.smoke_test_lambda_arn, role_arn=role.arn)]
        return aws.ecs.ServiceDeploymentConfigurationArgs(
            strategy=deployment.strategy,
            # The provider takes minutes as a string (pulumi-aws 7 schema).
            bake_time_in_minutes=str(deployment.bake_time_minutes),
            canary_configuration=(aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
                canary_percent=deployment.canary_percent,
                canary_bake_time_in_minutes=str(deployment.canary_bake_time_minutes))
                if deployment.strategy == "CANARY" else None),
            linear_configuration=(aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
                step_percent=deployment.linear_step_percent,
                step_bake_time_in_minutes=str(deployment.linear_step_bake_time_minutes))
                if deployment.strategy == "LINEAR" else None),
            lifecycle_hooks=hooks)

    def _service_connect(self, spec: ServiceSpec, log_group: pulumi.Output[str],
                         region: pulumi.Output[str], invoke: pulumi.InvokeOptions, edge: "Edge"
                         ) -> aws.ecs.ServiceServiceConnectConfigurationArgs | None:
        topology = spec.topology
        if topology.service_connect_namespace is None:
            return None
        server = None
        if topology.kind == "private":
            web = spec.web_container
            assert web.port is not None and topology.service_connect_alias is not None
            server = (topology.service_connect_alias, web.name, web.port)
            # ECS publishes the alias as a Cloud Map service of its own: on destroy, the
            # namespace goes only once ECS removed it (service_connect.py).
            edge.before_service.append(ServiceConnectCleanup(
                f"{spec.name}-service-connect-cleanup",
                namespace=topology.service_connect_namespace,
                discovery_name=topology.service_connect_alias,
                identity=provider_identity(invoke), opts=pulumi.ResourceOptions(parent=self)))
        return service_connect_configuration(namespace=topology.service_connect_namespace,
                                             log_group=log_group, region=region, server=server)

    def _autoscaling(self, spec: ServiceSpec, cluster_name: pulumi.Output[str],
                     service: aws.ecs.Service, edge: "Edge") -> None:
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
        metric = spec.topology.scaling_metric
        if metric is not None:
            aws.appautoscaling.Policy(
                f"{spec.name}-metric", policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.
                PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=metric.target, scale_in_cooldown=120, scale_out_cooldown=60,
                    customized_metric_specification=aws.appautoscaling.
                    PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
                        namespace=metric.namespace, metric_name=metric.metric_name,
                        statistic=metric.statistic,
                        dimensions=[aws.appautoscaling.
                                    PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationDimensionArgs(
                                        name=k, value=val)
                                    for k, val in sorted(metric.dimensions.items())] or None)),
                opts=opts)
        elif edge.load_balancer_arn_suffix is not None and len(edge.target_groups) > 1:
            # ECS moves production between the two groups: read both (scaling.py).
            aws.appautoscaling.Policy(
                f"{spec.name}-requests", policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.
                PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=spec.requests_per_target, scale_in_cooldown=120,
                    scale_out_cooldown=60,
                    customized_metric_specification=requests_per_serving_target(
                        load_balancer_arn_suffix=edge.load_balancer_arn_suffix,
                        target_group_arn_suffixes=[g.arn_suffix for g in edge.target_groups])),
                opts=opts)
        elif edge.load_balancer_arn_suffix is not None:
            # One target group serves every request: the predefined per-target metric.
            track("requests", spec.requests_per_target, "ALBRequestCountPerTarget",
                  pulumi.Output.concat(edge.load_balancer_arn_suffix, "/",
                                       edge.target_groups[0].arn_suffix))


def ecs_owned_service_fields(shifts_traffic: bool) -> list[str]:
    """Service inputs that ECS changes after creation, which the program must not send back.

    desiredCount: autoscaling owns the running count. loadBalancers, for a service whose
    traffic shifts between two target groups: after each deployment ECS reports the group that
    now serves production as `targetGroupArn` and the other as `alternateTargetGroupArn`, and
    the provider stores that from DescribeServices (terraform-provider-aws
    internal/service/ecs/service.go: resourceServiceRead, flattenServiceLoadBalancers). The
    program declares group 0 as primary, so every other deployment the provider would see a
    change and send `loadBalancers` back in UpdateService (resourceServiceUpdate sends it only
    `if d.HasChange("load_balancer")`), telling ECS that the idle group is production
    (terraform-provider-aws#45678). Ignored, the bridge drops it from the diff it hands the
    provider (pulumi-terraform-bridge pkg/tfbridge/provider.go, Update: IgnoreChanges), so ECS
    keeps alternating. The wiring itself is fixed for the life of the service: a ChangeGuard
    refuses changes to it (change_guard.py)."""
    return ["desiredCount", "loadBalancers"] if shifts_traffic else ["desiredCount"]


def redeploy_labelled(definitions: list[dict], token: str | None) -> list[dict]:
    """The container definitions with the redeploy token as a Docker label on each container.
    A new label is a new revision (container definitions cannot change in place), and only a
    new task definition makes the provider send `taskDefinition` to ECS: a forced deployment
    (`triggers` with `force_new_deployment`) redeploys whatever revision the service runs,
    which after a rollback is the old one (resourceServiceUpdate sends TaskDefinition only
    `if d.HasChange("task_definition")`)."""
    if token is None:
        return definitions
    return [{**d, "dockerLabels": {**d.get("dockerLabels", {}), REDEPLOY_LABEL: token}}
            for d in definitions]


def _deploying_account(opts: pulumi.ResourceOptions | None) -> str:
    """The account of the AWS provider this component will use (STS GetCallerIdentity)."""
    provider = opts.provider if opts is not None else None
    if provider is None and opts is not None and opts.providers:
        candidates = (list(opts.providers.values()) if isinstance(opts.providers, dict)
                      else list(opts.providers))
        provider = next((p for p in candidates if isinstance(p, pulumi.ProviderResource)
                         and p.package == "aws"), None)
    return str(aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider)).account_id)


def route_url(balancer: SharedLoadBalancer, route: Route) -> pulumi.Output[str]:
    """The service's address on a shared load balancer: its first literal host if it has one,
    else the load balancer's address, followed by the literal start of its first path."""
    static = route.static_url(balancer.https)
    return (pulumi.Output.from_input(static) if static is not None
            else pulumi.Output.concat(balancer.url, route.path_prefix))


@dataclass
class Edge:
    """What a topology gives the service: its group, target groups (none for private and worker),
    what the service waits for, the load balancer's metric dimension, and the address."""
    service_security_group: aws.ec2.SecurityGroup
    target_groups: list[aws.lb.TargetGroup]
    listeners: list[pulumi.Resource]
    load_balancer_arn_suffix: pulumi.Output[str] | None
    url: pulumi.Output[str]
    rules: list[aws.lb.ListenerRule] = field(default_factory=list)
    before_service: list[pulumi.Resource] = field(default_factory=list)
    """What the service depends on besides its listeners: the load-balancer wiring guard, and
    the Service Connect cleanup (deleted after the service, before the namespace)."""
