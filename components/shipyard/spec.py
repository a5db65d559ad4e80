"""The public argument shapes of ContainerService and the one parser that validates them.

Stack config (Pulumi.<stack>.yaml) uses the same keys as these TypedDicts, so an error message
names the setting the same way whether it came from YAML or from Python."""

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi

from . import argument_docs
from . import validation as v
from .errors import ConfigError
from .fargate import validate_capacity, validate_task_size
from .image import validate_prebuilt_image
from .topology import TOPOLOGY_KEYS, TopologySpec, check_ports, parse_topology

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
_ROOT_USERS = ("root", "0", "0:0", "root:root")
# The ECS agent hands the FireLens socket directory to the router's user by number
# (aws/amazon-ecs-agent ecs-agent/utils/firelens/firelens.go, SetOwnership: `uid`, `uid:gid` or
# `uid:group`, anything else fails the task), the non-root FireLens mode of agent 1.96.0
# (aws/amazon-ecs-agent#4697, aws/containers-roadmap#2122).
_FIRELENS_USER_RE = v.re.compile(r"^[0-9]+(:[0-9A-Za-z_][0-9A-Za-z_.-]*)?$")
_SCRATCH_PATH_RE = v.re.compile(r"^/[A-Za-z0-9._/-]+$")
_REDEPLOY_TOKEN_RE = v.re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class SecretArgs(TypedDict):
    """Where one secret environment variable comes from: exactly one of `value` or `arn`."""

    value: NotRequired[pulumi.Input[str]]
    """A secret: an Output marked secret, such as a config value read as a secret; stored in
    Secrets Manager under the service's key. A plain string is refused. Default: none."""
    arn: NotRequired[str]
    """ARN of an existing Secrets Manager secret. Default: none."""
    json_key: NotRequired[str]
    """With `arn`: a key inside the secret's JSON value. Default: none (the whole value)."""
    kms_key_arn: NotRequired[str]
    """With `arn`: the customer-managed key that encrypts it, so the execution role may decrypt.
    Default: none (the secret uses the AWS-managed key)."""


class ContainerArgs(TypedDict):
    """One container of the task. The first container with a `port` receives ALB traffic."""

    name: str
    """Container name, also the log stream prefix. Required."""
    source: NotRequired[str]
    """Folder with a Dockerfile to build; exactly one of `source` or `image`. Default: none."""
    dockerfile: NotRequired[str]
    """Dockerfile path inside `source`. Default: "Dockerfile"."""
    build_args: NotRequired[dict[str, str]]
    """With `source`: Docker build args; they take part in the image tag. Default: {}."""
    image: NotRequired[pulumi.Input[str]]
    """A prebuilt image pinned by digest, `repo[:tag]@sha256:<64 hex>` (a registry's tags can
    move); exactly one of `source` or `image`. An Output (e.g. a digest another stack exported)
    must resolve to a digest-pinned reference. Default: none."""
    port: NotRequired[int]
    """Container port the ALB forwards to (1024-65535). Default: none (a sidecar)."""
    command: NotRequired[list[str]]
    """Overrides the image's CMD. Default: none (the image's CMD)."""
    environment: NotRequired[dict[str, pulumi.Input[str]]]
    """Plain, non-secret environment; values may be Outputs (another service's URL).
    Default: {}."""
    secrets: NotRequired[dict[str, SecretArgs]]
    """Secret environment variables, delivered only through the task definition's
    `secrets[].valueFrom`. Default: {}."""
    scratch_paths: NotRequired[list[str]]
    """Writable paths, each a volume (the root filesystem is read-only). Default: []."""
    user: NotRequired[str]
    """uid[:gid] to run as; root is refused, and a FireLens router needs a numeric uid.
    Default: "10001:10001"."""
    essential: NotRequired[bool]
    """Whether the task stops when this container stops. Default: true."""
    health_check_command: NotRequired[list[str]]
    """Container health check (CMD form). Default: none (the ALB's check covers the web
    container)."""
    depends_on: NotRequired[list[dict[str, str]]]
    """Start order: `[{container, condition}]`, condition START, COMPLETE, SUCCESS or HEALTHY
    (HEALTHY needs the other container's health_check_command). Default: []."""
    firelens: NotRequired[dict[str, Any]]
    """Makes this container the task's FireLens log router: `{type: fluentbit|fluentd,
    options?: {...}}`. Default: none."""
    log_router_options: NotRequired[dict[str, str]]
    """Send this container's logs through the task's FireLens router (log driver
    awsfirelens) with these output options, e.g. `{Name: cloudwatch_logs, log_stream_prefix:
    app-}`. With `cloudwatch_logs` the router writes to the service's own log group (retention,
    KMS), which the task role may write to: `log_group_name`, `region` and `auto_create_group`
    are the component's. The container then starts after the router. Default: none (awslogs to
    the service's log group)."""


class ContainerServiceArgs(TypedDict):
    """Arguments of ContainerService. Only `containers`, `vpc_id`, `public_subnet_ids` and
    `private_subnet_ids` are required."""

    containers: list[ContainerArgs]
    """The task's containers; exactly one has a `port` unless the topology is worker.
    Required."""
    cpu: NotRequired[int]
    """Task CPU units; must pair with `memory` per the Fargate table. Default: 256."""
    memory: NotRequired[int]
    """Task memory in MiB; must pair with `cpu` per the Fargate table. Default: 512."""
    architecture: NotRequired[str]
    """CPU architecture, "X86_64" or "ARM64". Default: "X86_64"."""
    spot: NotRequired[bool]
    """Run on FARGATE_SPOT capacity (X86_64 and ARM64, platform 1.4.0+). Default: false."""
    desired_count: NotRequired[int]
    """Tasks at creation; autoscaling owns it afterwards. Default: 2."""
    min_count: NotRequired[int]
    """Autoscaling lower bound. Default: 2."""
    max_count: NotRequired[int]
    """Autoscaling upper bound. Default: 4."""
    cpu_target_percent: NotRequired[int]
    """Target average CPU for scaling. Default: 60."""
    requests_per_target: NotRequired[int]
    """Target ALB requests per task for scaling. Default: 500."""
    health_check_path: NotRequired[str]
    """ALB health check path. Default: "/healthz"."""
    health_check_grace_period_seconds: NotRequired[int]
    """Time a new task has before ALB health counts. Default: 30."""
    deregistration_delay_seconds: NotRequired[int]
    """Connection draining on the target group. Default: 15."""
    vpc_id: pulumi.Input[str]
    """The VPC of the load balancer and the tasks. Required."""
    public_subnet_ids: pulumi.Input[Sequence[str]]
    """Where the ALB lives (at least two AZs). Required."""
    private_subnet_ids: pulumi.Input[Sequence[str]]
    """Where tasks run, without public IPs. Required."""
    certificate_arn: NotRequired[str]
    """ACM certificate for the HTTPS listener. Default: none, which serves plain HTTP (never in
    prod: the stack config refuses it)."""
    ingress_cidrs: NotRequired[list[str]]
    """Who may reach the ALB. Default: ["0.0.0.0/0"]."""
    deletion_protection: NotRequired[bool]
    """ALB deletion protection. Default: false."""
    access_logs_bucket: NotRequired[pulumi.Input[str]]
    """Bucket for ALB access logs. Default: none (logs off)."""
    log_retention_days: NotRequired[int]
    """CloudWatch retention. Default: 30."""
    images_to_keep: NotRequired[int]
    """Released images the lifecycle policy keeps for rollback. Default: 20."""
    protect_stateful: NotRequired[bool]
    """Protect repository, secrets, log group and key from deletion. Default: false."""
    enable_execute_command: NotRequired[bool]
    """ECS Exec; adds only the four `ssmmessages` actions to the task role, and needs
    /var/lib/amazon/ssm and /var/log/amazon/ssm (or parents) in every container's
    `scratch_paths`, the root filesystem being read-only. Default: false."""
    task_role_statements: NotRequired[list[dict[str, Any]]]
    """IAM statements for the application's own AWS access. Default: [] (an empty task role)."""
    cluster_arn: NotRequired[pulumi.Input[str]]
    """Run in an existing cluster (with `cluster_name`). Default: none (a new cluster)."""
    cluster_name: NotRequired[pulumi.Input[str]]
    """Name of the cluster given by `cluster_arn`. Default: none (a new cluster)."""
    source_version: NotRequired[str]
    """Recorded as the task definition's `source-version` tag; pass something that changes
    only with the source (the program passes `<folder>@<git tree id>`). Default: "unversioned"."""
    scan_max_critical: NotRequired[int]
    """Scan gate: CRITICAL findings allowed in a built image. Default: 0."""
    scan_max_high: NotRequired[int]
    """Scan gate: HIGH findings allowed. Default: 5."""
    scan_timeout_seconds: NotRequired[int]
    """Scan gate: how long to wait for ECR's scan before refusing the image. Default: 900."""
    permissions_boundary_arn: NotRequired[str]
    """Permissions boundary for the roles this service creates (required when the deployer's
    role enforces one). Default: none."""
    tags: NotRequired[dict[str, str]]
    """Tags added to every child resource. Default: {}."""
    redeploy_token: NotRequired[str]
    """Change it to deploy the same source again, e.g. after ECS rolled a deployment back for
    a cause outside the source: it labels the containers (`shipyard.redeploy`), which registers
    a new task definition revision that the service deploys and the rollout check judges.
    Letters, digits and `._:-`, at most 64. Default: none."""
    topology: NotRequired[str]
    """"public" (its own internet-facing ALB), "shared" (routed on the stack's
    SharedLoadBalancer), "private" (no load balancer; reachable by its callers through ECS
    Service Connect) or "worker" (no port, no load balancer). Default: "public"."""
    load_balancer: NotRequired[Any]
    """Topology shared: the SharedLoadBalancer whose `routes` include this service.
    Default: none."""
    service_connect_namespace: NotRequired[pulumi.Input[str]]
    """Cloud Map HTTP namespace ARN for ECS Service Connect; required for a private service;
    other services given one can call private services by alias. Default: none."""
    service_connect_alias: NotRequired[str]
    """Topology private: the name callers use (http://<alias>:<port>). Default: the service name."""
    callers: NotRequired[dict[str, pulumi.Input[str]]]
    """Topology private (required there): caller service name -> its security group id; only
    these may connect, on the container port. Default: none."""
    egress: NotRequired[list[dict[str, Any]]]
    """Extra outbound destinations: `[{security_group_id or cidr, port, description?}]` (a
    database's group on 5432). HTTPS to anywhere is always allowed. Default: none."""
    extra_security_group_ids: NotRequired[list[pulumi.Input[str]]]
    """Further groups to attach to the tasks (at most 4). Default: none."""
    scaling_metric: NotRequired[dict[str, Any]]
    """Target tracking on a metric of your own instead of ALB requests: `{namespace,
    metric_name, target, statistic?, dimensions?}` (e.g. a queue's backlog). Default: none."""
    deployment: NotRequired[dict[str, Any]]
    """`{strategy: ROLLING|BLUE_GREEN|LINEAR|CANARY, bake_time_minutes (10),
    test_listener_port, test_ingress_cidrs, smoke_test_lambda_arn, canary_percent (10),
    canary_bake_time_minutes (5), linear_step_percent (10), linear_step_bake_time_minutes (2)}`.
    BLUE_GREEN needs a test listener. Default: {strategy: ROLLING} (with the circuit breaker)."""
    rollback_alarms: NotRequired[bool]
    """CloudWatch alarms on the target group's 5xx rate and unhealthy hosts, wired into the
    deployment's rollback (services with a load balancer). Default: true."""
    waf: NotRequired[dict[str, Any]]
    """Topology public: `{enabled, rate_limit (2000 per IP per 5 min)}`, a WAF web ACL with AWS
    managed rules. Default: none."""
    dns: NotRequired[dict[str, str]]
    """Topology public: `{zone_id, name}`, a Route 53 alias record; `url` uses the name.
    Default: none."""


@dataclass(frozen=True)
class SecretSpec:
    env_name: str
    value: pulumi.Output | None = None
    arn: str | None = None
    json_key: str | None = None
    kms_key_arn: str | None = None


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    source: str | None
    dockerfile: str
    build_args: dict[str, str]
    image: str | pulumi.Output[str] | None
    port: int | None
    command: list[str] | None
    environment: dict[str, Any]
    secrets: tuple[SecretSpec, ...]
    scratch_paths: tuple[str, ...]
    user: str
    essential: bool
    health_check_command: list[str] | None
    depends_on: tuple[tuple[str, str], ...] = ()
    firelens: dict[str, Any] | None = None
    log_router_options: dict[str, str] | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """Validated ContainerServiceArgs. parse_service_args fills every field, from the arguments or
    from the defaults documented in ContainerServiceArgs; None where an argument is absent."""

    name: str
    containers: tuple[ContainerSpec, ...]
    cpu: int
    memory: int
    architecture: str
    spot: bool
    desired_count: int
    min_count: int
    max_count: int
    cpu_target_percent: int
    requests_per_target: int
    health_check_path: str
    health_check_grace_period_seconds: int
    deregistration_delay_seconds: int
    vpc_id: Any
    public_subnet_ids: Any
    private_subnet_ids: Any
    certificate_arn: str | None
    ingress_cidrs: tuple[str, ...]
    deletion_protection: bool
    access_logs_bucket: Any
    log_retention_days: int
    images_to_keep: int
    protect_stateful: bool
    enable_execute_command: bool
    task_role_statements: tuple[dict, ...]
    cluster_arn: Any
    cluster_name: Any
    source_version: str
    scan_max_critical: int
    scan_max_high: int
    scan_timeout_seconds: int
    permissions_boundary_arn: str | None
    tags: dict[str, str]
    redeploy_token: str | None = None
    topology: TopologySpec = field(default_factory=TopologySpec)

    @property
    def web_container(self) -> ContainerSpec:
        return next(c for c in self.containers if c.port is not None)


_CONTAINER_KEYS = frozenset(ContainerArgs.__annotations__)
_SERVICE_KEYS = frozenset(ContainerServiceArgs.__annotations__)
_CONTAINER_CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")
_FIRELENS_TYPES = ("fluentbit", "fluentd")
_SECRET_KEYS = frozenset(SecretArgs.__annotations__)
# In declaration order, so the first missing one is reported.
_REQUIRED_SERVICE_KEYS = tuple(k for k in ContainerServiceArgs.__annotations__
                               if k in ContainerServiceArgs.__required_keys__)
# The one place a default is written is the argument's docstring (see argument_docs).
SERVICE_DEFAULTS = argument_docs.defaults(ContainerServiceArgs)
CONTAINER_DEFAULTS = argument_docs.defaults(ContainerArgs)
# Settings that must be plain values at construction time, so they can be validated.
_BOOL_SETTINGS = ("deletion_protection", "protect_stateful", "enable_execute_command")


def _require_bool(value: object, setting: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(setting, value, "true or false")
    return value


def _string_map(value: object, setting: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(setting, value, "a mapping of names to strings")
    for key, item in value.items():
        v.validate_env_name(key, f"{setting}.{key}")
        if not isinstance(item, str):
            raise ConfigError(f"{setting}.{key}", item, "a string")
    return dict(value)


def _string_list(value: object, setting: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(i, str) and i for i in value):
        raise ConfigError(setting, value, "a non-empty list of non-empty strings")
    return list(value)


def _parse_secret(env_name: str, raw: object, setting: str) -> SecretSpec:
    v.validate_env_name(env_name, setting)
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping with either 'value' (a secret Output) or 'arn'")
    v.reject_unknown_keys(dict(raw), _SECRET_KEYS, setting)
    has_value, has_arn = "value" in raw, "arn" in raw
    if has_value == has_arn:
        raise ConfigError(setting, sorted(raw), "exactly one of 'value' or 'arn'")
    if has_value:
        value = raw["value"]
        if not isinstance(value, pulumi.Output):
            # A plain string here would sit in the program source or stack state unencrypted.
            raise ConfigError(f"{setting}.value", "<plain value hidden>",
                              "a secret Output such as pulumi.Config().require_secret(key) "
                              "(set it with `pulumi config set --secret`), never a plain string")
        for key in ("json_key", "kms_key_arn"):
            if key in raw:
                raise ConfigError(f"{setting}.{key}", raw[key], "only allowed together with 'arn'")
        return SecretSpec(env_name, value=pulumi.Output.secret(value))
    arn = v.check("secret_arn", raw["arn"], f"{setting}.arn")
    json_key = raw.get("json_key")
    if json_key is not None and (not isinstance(json_key, str) or not json_key or ":" in json_key):
        raise ConfigError(f"{setting}.json_key", json_key, "a non-empty JSON key without ':'")
    kms_key_arn = raw.get("kms_key_arn")
    if kms_key_arn is not None:
        v.check("kms_key_arn", kms_key_arn, f"{setting}.kms_key_arn")
        # A secret is encrypted under a key of its own region (Secrets Manager API reference,
        # CreateSecret KmsKeyId).
        v.check_arn_region(kms_key_arn, f"{setting}.kms_key_arn", arn.split(":")[3])
    return SecretSpec(env_name, arn=arn, json_key=json_key, kms_key_arn=kms_key_arn)


def _parse_container(raw: object, setting: str) -> ContainerSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping of container settings")
    v.reject_unknown_keys(dict(raw), _CONTAINER_KEYS, setting)
    name = raw.get("name")
    if not isinstance(name, str) or not v.CONTAINER_NAME_RE.match(name):
        raise ConfigError(f"{setting}.name", name,
                          "lowercase letters, digits, '-' and '_', starting with a letter (at most "
                          "255): it also names the port mapping and the ECR repository, which "
                          "allow no upper case")
    has_source, has_image = "source" in raw, "image" in raw
    if has_source == has_image:
        raise ConfigError(f"{setting}", f"source={raw.get('source')!r}, image={raw.get('image')!r}",
                          "exactly one of 'source' (a folder to build) or 'image' (prebuilt)")
    image = raw.get("image")
    if has_image and not isinstance(image, pulumi.Output):
        # An Output is checked when it resolves (ContainerService): digest-pinned only.
        image = validate_prebuilt_image(image, f"{setting}.image")
    source = raw.get("source")
    if has_source and (not isinstance(source, str) or not source):
        raise ConfigError(f"{setting}.source", source, "a folder path containing a Dockerfile")
    for key in ("dockerfile", "build_args"):
        if key in raw and not has_source:
            raise ConfigError(f"{setting}.{key}", raw[key], "only allowed together with 'source'")
    dockerfile = raw.get("dockerfile", CONTAINER_DEFAULTS["dockerfile"])
    if not isinstance(dockerfile, str) or not dockerfile or dockerfile.startswith("/"):
        raise ConfigError(f"{setting}.dockerfile", dockerfile, "a relative path inside 'source'")
    if isinstance(source, str):  # a string here: checked above
        # Checked here, not when the image is built, so that nothing is registered first.
        if not Path(source).is_dir():
            raise ConfigError(f"{setting}.source", source,
                              f"a folder with a Dockerfile, relative to {Path.cwd()}")
        if not (Path(source) / dockerfile).is_file():
            raise ConfigError(f"{setting}.dockerfile", dockerfile,
                              f"a file inside the source folder {source}")
    port = raw.get("port")
    if port is not None:
        v.validate_container_port(port, f"{setting}.port")
        v.validate_port_mapping_name(name, port, f"{setting}.name")
    user = raw.get("user", CONTAINER_DEFAULTS["user"])
    if not isinstance(user, str) or not user or user.strip().lower() in _ROOT_USERS \
            or _runs_as_root(user):
        raise ConfigError(f"{setting}.user", user, "a non-root uid[:gid] such as 10001:10001")
    scratch = raw.get("scratch_paths", CONTAINER_DEFAULTS["scratch_paths"])
    if not isinstance(scratch, list):
        raise ConfigError(f"{setting}.scratch_paths", scratch, "a list of absolute paths")
    for path in scratch:
        if not isinstance(path, str) or not _SCRATCH_PATH_RE.match(path) or path == "/" \
                or ".." in path.split("/"):
            raise ConfigError(f"{setting}.scratch_paths", path,
                              "an absolute path other than '/' such as /tmp, without '..'")
    if len(set(scratch)) != len(scratch):
        raise ConfigError(f"{setting}.scratch_paths", scratch, "each path at most once")
    environment = _environment_map(raw.get("environment", CONTAINER_DEFAULTS["environment"]),
                                   f"{setting}.environment")
    secrets_raw = raw.get("secrets", CONTAINER_DEFAULTS["secrets"])
    if not isinstance(secrets_raw, Mapping):
        raise ConfigError(f"{setting}.secrets", secrets_raw, "a mapping of variable names to sources")
    secrets = tuple(_parse_secret(k, s, f"{setting}.secrets.{k}") for k, s in secrets_raw.items())
    both = sorted(set(environment) & {s.env_name for s in secrets})
    if both:
        raise ConfigError(f"{setting}.environment.{both[0]}", both[0],
                          "a variable is either plain environment or a secret, not both")
    command = _string_list(raw["command"], f"{setting}.command") if "command" in raw else None
    health = (_string_list(raw["health_check_command"], f"{setting}.health_check_command")
              if "health_check_command" in raw else None)
    build_args = _string_map(raw.get("build_args", CONTAINER_DEFAULTS["build_args"]),
                             f"{setting}.build_args")
    depends_on = _parse_depends_on(raw.get("depends_on", CONTAINER_DEFAULTS["depends_on"]),
                                   f"{setting}.depends_on", name)
    firelens = None
    if raw.get("firelens") is not None:
        firelens = dict(raw["firelens"]) if isinstance(raw["firelens"], Mapping) else None
        if firelens is None:
            raise ConfigError(f"{setting}.firelens", raw["firelens"],
                              "a mapping {type: fluentbit|fluentd, options?: {...}}")
        v.reject_unknown_keys(firelens, {"type", "options"}, f"{setting}.firelens")
        v.validate_choice(firelens.get("type", "fluentbit"), f"{setting}.firelens.type",
                          _FIRELENS_TYPES)
        firelens = {"type": firelens.get("type", "fluentbit"),
                    **({"options": _plain_map(firelens["options"], f"{setting}.firelens.options")}
                       if "options" in firelens else {})}
    router_options = (_parse_router_options(raw["log_router_options"],
                                            f"{setting}.log_router_options")
                      if raw.get("log_router_options") is not None else None)
    if firelens is not None and not _FIRELENS_USER_RE.match(user):
        raise ConfigError(f"{setting}.user", user,
                          "for the FireLens log router, a numeric uid, uid:gid or uid:group "
                          "such as 10001:10001 (ECS gives the log socket's folder to that uid)")
    if firelens is not None and router_options is not None:
        raise ConfigError(f"{setting}.log_router_options", router_options,
                          "the log router itself logs to CloudWatch with awslogs; only other "
                          "containers route through it")
    return ContainerSpec(
        name=name, source=source, dockerfile=dockerfile, build_args=build_args, image=image,
        port=port, command=command, environment=environment, secrets=secrets,
        scratch_paths=tuple(scratch), user=user,
        essential=_require_bool(raw.get("essential", CONTAINER_DEFAULTS["essential"]),
                                 f"{setting}.essential"),
        health_check_command=health, depends_on=depends_on, firelens=firelens,
        log_router_options=router_options)


# Fluent Bit's CloudWatch Logs output (the C plugin `cloudwatch_logs`; Fluent Bit manual,
# "Amazon CloudWatch"): `log_group_name` and `region` say where, `auto_create_group` (default
# false) whether it may create the group. The component points it at the service's own log
# group, which exists with its retention and KMS key, and grants the task role (the router's
# identity) exactly that group, so a destination that nothing creates cannot be configured.
FIRELENS_CLOUDWATCH_OUTPUT = "cloudwatch_logs"
FIRELENS_OWNED_OPTIONS = ("log_group_name", "region", "auto_create_group")


def _parse_router_options(raw: object, setting: str) -> dict[str, str]:
    options = _plain_map(raw, setting)
    if "Name" not in options:
        raise ConfigError(f"{setting}.Name", None, "the FireLens output plugin, e.g. "
                          f"{FIRELENS_CLOUDWATCH_OUTPUT} (CloudWatch Logs, the service's own "
                          "log group)")
    if options["Name"] == "cloudwatch":
        raise ConfigError(f"{setting}.Name", "cloudwatch",
                          f"{FIRELENS_CLOUDWATCH_OUTPUT}: the Go plugin 'cloudwatch' is "
                          "superseded by the C plugin (Fluent Bit manual, Amazon CloudWatch)")
    if options["Name"] == FIRELENS_CLOUDWATCH_OUTPUT:
        for key in FIRELENS_OWNED_OPTIONS:
            if key in options:
                raise ConfigError(f"{setting}.{key}", options[key],
                                  "left out: the router writes to the service's own log group "
                                  "in the stack's region (it exists, with retention and KMS, "
                                  "and the task role may write exactly there); choose the "
                                  "stream with log_stream_prefix or log_stream_name")
    return options


def _runs_as_root(user: str) -> bool:
    """Docker reads a numeric user as a number, so "00" and "000:1000" are root too."""
    name = user.split(":")[0].strip().lower()
    return name == "root" or (name.isdigit() and int(name) == 0)


def _environment_map(value: object, setting: str) -> dict[str, Any]:
    """Like a string map, but a value may be an Output (resolved when the task definition is
    rendered), e.g. another service's URL."""
    if not isinstance(value, Mapping):
        raise ConfigError(setting, value, "a mapping of names to strings")
    for key, item in value.items():
        v.validate_env_name(key, f"{setting}.{key}")
        if not isinstance(item, (str, pulumi.Output)):
            raise ConfigError(f"{setting}.{key}", item, "a string or an Output of one")
    return dict(value)


def _plain_map(value: object, setting: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value or not all(
            isinstance(k, str) and k and isinstance(x, str) for k, x in value.items()):
        raise ConfigError(setting, value, "a non-empty mapping of strings to strings")
    return dict(value)


def _parse_depends_on(raw: object, setting: str, own: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list):
        raise ConfigError(setting, raw, "a list of {container, condition}")
    result = []
    for index, item in enumerate(raw):
        where = f"{setting}[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(where, item, "a mapping {container, condition}")
        v.reject_unknown_keys(dict(item), {"container", "condition"}, where)
        other = item.get("container")
        if not isinstance(other, str) or other == own:
            raise ConfigError(f"{where}.container", other,
                              "the name of another container of the same task")
        condition = item.get("condition", "START")
        v.validate_choice(condition, f"{where}.condition", _CONTAINER_CONDITIONS)
        result.append((other, str(condition)))
    return tuple(result)


def _check_container_graph(containers: tuple[ContainerSpec, ...], prefix: str,
                           service: str) -> None:
    """Start-order references exist and form no cycle; HEALTHY needs a health check; at most one
    log router, and only where a container routes through it (ECS task definition rules for
    dependsOn and firelensConfiguration)."""
    by_name = {c.name: c for c in containers}
    for index, container in enumerate(containers):
        for position, (other, condition) in enumerate(container.depends_on):
            where = f"{prefix}containers[{index}].depends_on[{position}]"
            if other not in by_name:
                raise ConfigError(f"{where}.container", other,
                                  "one of this task's containers: " + ", ".join(sorted(by_name)))
            if condition == "HEALTHY" and by_name[other].health_check_command is None:
                raise ConfigError(f"{where}.condition", condition,
                                  f"container '{other}' has no health_check_command, so it "
                                  "never becomes HEALTHY")
            if condition in ("COMPLETE", "SUCCESS") and by_name[other].essential:
                raise ConfigError(f"{where}.condition", condition,
                                  f"container '{other}' is essential: when it exits the task "
                                  "stops; make it essential: false")
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in done:
            return
        if name in visiting:
            raise ConfigError(f"{prefix}containers", " -> ".join(path + [name]),
                              f"service '{service}': depends_on forms a cycle")
        visiting.add(name)
        for other, _ in by_name[name].depends_on:
            if other in by_name:
                visit(other, path + [name])
        visiting.discard(name)
        done.add(name)

    for container in containers:
        visit(container.name, [])
    routers = [c.name for c in containers if c.firelens is not None]
    if len(routers) > 1:
        raise ConfigError(f"{prefix}containers", routers, "at most one FireLens log router")
    users = [c.name for c in containers if c.log_router_options is not None]
    if users and not routers:
        raise ConfigError(f"{prefix}containers", users,
                          "log_router_options needs a container with firelens (the log router)")


def _parse_statements(raw: object, setting: str) -> tuple[dict, ...]:
    if not isinstance(raw, list):
        raise ConfigError(setting, raw, "a list of IAM statements")
    for index, statement in enumerate(raw):
        where = f"{setting}[{index}]"
        if not isinstance(statement, Mapping) or statement.get("Effect") not in ("Allow", "Deny"):
            raise ConfigError(where, statement, "an IAM statement with Effect Allow or Deny")
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions
        if not actions or not all(isinstance(a, str) for a in actions):
            raise ConfigError(f"{where}.Action", statement.get("Action"),
                              "one or more actions such as s3:GetObject")
        for action in actions:
            if action == "*" or action.endswith(":*"):
                raise ConfigError(f"{where}.Action", action,
                                  "name the actions the application needs; no service wildcard")
        resources = statement.get("Resource")
        resources = [resources] if isinstance(resources, str) else resources
        if not resources or not all(isinstance(r, str) for r in resources):
            raise ConfigError(f"{where}.Resource", statement.get("Resource"),
                              "one or more resource ARNs")
        if statement["Effect"] == "Allow" and "*" in resources:
            raise ConfigError(f"{where}.Resource", "*", "scope the statement to resource ARNs")
    return tuple(dict(s) for s in raw)


def _check_network_inputs(values: Mapping[str, Any], prefix: str) -> None:
    """The VPC, subnets, cluster and bucket the program hands in, when given as plain values."""
    v.check_input("vpc_id", values["vpc_id"], f"{prefix}vpc_id")
    public, private = (v.check_id_list("subnet_id", values[key], f"{prefix}{key}")
                       for key in ("public_subnet_ids", "private_subnet_ids"))
    if isinstance(public, list) and isinstance(private, list):
        shared = sorted(set(public) & set(private), key=str)
        if shared:
            raise ConfigError(f"{prefix}private_subnet_ids", shared[0],
                              "a subnet that is not also one of public_subnet_ids: tasks run "
                              "privately, the load balancer publicly")
    for key, shape in (("cluster_arn", "ecs_cluster_arn"), ("cluster_name", "ecs_cluster_name"),
                       ("access_logs_bucket", "s3_bucket_name")):
        if values.get(key) is not None:
            v.check_input(shape, values[key], f"{prefix}{key}")


def check_secret_accounts(containers: tuple[ContainerSpec, ...], prefix: str,
                           account_id: str) -> None:
    """A secret of another account needs its customer-managed key: the AWS-managed key
    `aws/secretsmanager` cannot be used from another account (Secrets Manager User Guide,
    "Access AWS Secrets Manager secrets from a different account")."""
    for index, container in enumerate(containers):
        for secret in container.secrets:
            if secret.arn is None or secret.kms_key_arn is not None:
                continue
            owner = secret.arn.split(":")[4]
            if owner != account_id:
                raise ConfigError(
                    f"{prefix}containers[{index}].secrets.{secret.env_name}.arn", secret.arn,
                    f"a secret of account {owner}, not the deploying account {account_id}: "
                    "give its customer-managed key as kms_key_arn (another account cannot "
                    "decrypt under the AWS-managed key)")


def parse_service_args(name: str, args: Mapping[str, Any], setting: str = "",
                       account_id: str | None = None) -> ServiceSpec:
    """Validate every argument of one service, or raise ConfigError naming the first bad one.
    `account_id`, when known (the stack config loader asks STS), also refuses a secret of
    another account without its customer-managed key."""
    prefix = f"{setting}." if setting else ""
    v.validate_service_name(name, f"{prefix}name")
    if not isinstance(args, Mapping):
        raise ConfigError(setting or name, args, "a mapping of service settings")
    v.reject_unknown_keys(dict(args), _SERVICE_KEYS, setting or name)
    for key in _REQUIRED_SERVICE_KEYS:
        if args.get(key) is None:
            raise ConfigError(f"{prefix}{key}", None, "required")
    raw_containers = args["containers"]
    if not isinstance(raw_containers, list) or not raw_containers:
        raise ConfigError(f"{prefix}containers", raw_containers, "a non-empty list of containers")
    containers = tuple(_parse_container(c, f"{prefix}containers[{i}]")
                       for i, c in enumerate(raw_containers))
    names = [c.name for c in containers]
    if len(set(names)) != len(names):
        raise ConfigError(f"{prefix}containers", names, "container names must be unique")
    topology = parse_topology(name, args, prefix)
    check_ports(topology.kind, [c.port for c in containers], names, prefix, name)
    if not any(c.essential for c in containers):
        raise ConfigError(f"{prefix}containers", names, "at least one container must be essential")
    _check_container_graph(containers, prefix, name)

    given = {k: args[k] for k in args if k != "containers" and k not in TOPOLOGY_KEYS}
    values: dict[str, Any] = {**{k: d for k, d in copy.deepcopy(SERVICE_DEFAULTS).items()
                                 if k not in TOPOLOGY_KEYS}, **given}
    cpu = values["cpu"]
    memory = values["memory"]
    validate_task_size(cpu, memory, setting or name)
    architecture = values["architecture"]
    spot = _require_bool(values["spot"], f"{prefix}spot")
    validate_capacity(architecture, spot, setting or name)
    for key in _BOOL_SETTINGS:
        _require_bool(values[key], f"{prefix}{key}")
    if values.get("enable_execute_command"):
        v.validate_exec_writable_paths({c.name: c.scratch_paths for c in containers},
                                       f"{prefix}enable_execute_command")
    counts = {k: v.validate_int_range(values[k], f"{prefix}{k}", 0, 1000)
              for k in ("desired_count", "min_count", "max_count")}
    if counts["min_count"] < 1:
        raise ConfigError(f"{prefix}min_count", counts["min_count"], "at least 1")
    if not counts["min_count"] <= counts["desired_count"] <= counts["max_count"]:
        raise ConfigError(f"{prefix}desired_count", counts["desired_count"],
                          f"between min_count ({counts['min_count']}) and max_count "
                          f"({counts['max_count']})")
    v.validate_int_range(values["cpu_target_percent"], f"{prefix}cpu_target_percent", 10, 90)
    v.validate_int_range(values["requests_per_target"], f"{prefix}requests_per_target",
                         1, 100000)
    v.validate_health_check_path(values["health_check_path"],
                                 f"{prefix}health_check_path")
    v.validate_int_range(values["health_check_grace_period_seconds"],
                         f"{prefix}health_check_grace_period_seconds", 0, 600)
    v.validate_int_range(values["deregistration_delay_seconds"],
                         f"{prefix}deregistration_delay_seconds", 0, 3600)
    if "certificate_arn" in values and values["certificate_arn"] is not None:
        v.check("acm_certificate_arn", values["certificate_arn"], f"{prefix}certificate_arn")
    _check_network_inputs(values, prefix)
    values["ingress_cidrs"] = tuple(v.validate_cidrs(values["ingress_cidrs"],
                                                     f"{prefix}ingress_cidrs"))
    retention = values["log_retention_days"]
    if retention not in LOG_RETENTION_DAYS or isinstance(retention, bool):
        raise ConfigError(f"{prefix}log_retention_days", retention,
                          "one of " + ", ".join(str(d) for d in LOG_RETENTION_DAYS))
    v.validate_int_range(values["images_to_keep"], f"{prefix}images_to_keep", 2, 1000)
    values["task_role_statements"] = _parse_statements(values["task_role_statements"],
                                                       f"{prefix}task_role_statements")
    if ("cluster_arn" in given) != ("cluster_name" in given):
        raise ConfigError(f"{prefix}cluster_arn", values.get("cluster_arn"),
                          "give cluster_arn and cluster_name together, or neither")
    v.validate_int_range(values["scan_max_critical"], f"{prefix}scan_max_critical", 0, 1000)
    v.validate_int_range(values["scan_max_high"], f"{prefix}scan_max_high", 0, 10000)
    v.validate_int_range(values["scan_timeout_seconds"], f"{prefix}scan_timeout_seconds",
                         30, 3600)
    if values.get("permissions_boundary_arn") is not None:
        v.check("iam_policy_arn", values["permissions_boundary_arn"],
                f"{prefix}permissions_boundary_arn")
    if account_id is not None:
        check_secret_accounts(containers, prefix, account_id)
    if not isinstance(values["source_version"], str):
        raise ConfigError(f"{prefix}source_version", values["source_version"], "a string")
    if not isinstance(values["tags"], Mapping) or not all(
            isinstance(k, str) and isinstance(t, str) for k, t in values["tags"].items()):
        raise ConfigError(f"{prefix}tags", values["tags"], "a mapping of strings to strings")
    token = values.get("redeploy_token")
    if token is not None and (not isinstance(token, str) or not _REDEPLOY_TOKEN_RE.match(token)):
        raise ConfigError(f"{prefix}redeploy_token", token,
                          "letters, digits and ._:- only, 1 to 64 characters (a date or a "
                          "counter, e.g. 2026-12-03.1)")
    absent = {f.name: None for f in fields(ServiceSpec)
              if f.name not in ("name", "containers", "topology")}
    spec = ServiceSpec(name=name, containers=containers, topology=topology,
                       **{**absent, **values})
    from .rollout_budget import checked_rollout_budget  # it reads ServiceSpec: import here
    checked_rollout_budget(spec, prefix)
    return spec
