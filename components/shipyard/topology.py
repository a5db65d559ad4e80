"""How a service is reached and deployed: its topology (public, shared load balancer, private
behind ECS Service Connect, worker), routing, callers, egress, scaling metric, deployment strategy,
rollback alarms, WAF and DNS. Parsed and validated here, before anything is registered, so every
refusal names the service and the setting."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from . import validation as v
from .errors import ConfigError
from .routing import Route

TOPOLOGIES = ("public", "shared", "private", "worker")
# ECS DeploymentConfiguration.strategy values (ECS API reference, DeploymentConfiguration;
# pulumi-aws 7 ServiceDeploymentConfigurationArgs.strategy).
STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
# Strategies that shift traffic between two target groups through listener rules.
TRAFFIC_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")
# The deployment circuit breaker supports rolling and blue/green deployments only (ECS developer
# guide, "Amazon ECS deployment failure detection").
CIRCUIT_BREAKER_STRATEGIES = ("ROLLING", "BLUE_GREEN")
# ECS's ranges (botocore ecs model: CanaryConfiguration, LinearConfiguration; bakeTimeInMinutes
# as terraform-provider-aws validates it), checked against the model by test_rollout_budget.py.
MAX_BAKE_MINUTES = 1440
CANARY_PERCENT_MIN = 0.1
LINEAR_STEP_PERCENT_MIN = 3.0
ALIAS_RE = v.re.compile(r"^[a-z][a-z0-9-]{0,62}$")
# AWS's shapes (validation.SHAPES), by the names other modules match them with.
SG_ID_RE = v.SHAPES["security_group_id"].pattern
LAMBDA_ARN_RE = v.SHAPES["lambda_function_arn"].pattern
HOSTED_ZONE_RE = v.SHAPES["route53_zone_id"].pattern
DNS_NAME_RE = v.re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
STATISTICS = ("Average", "Minimum", "Maximum", "Sum", "SampleCount")
# Keys of the nested settings (deployment's are _DEPLOYMENT_KEYS below).
EGRESS_KEYS = frozenset({"security_group_id", "cidr", "port", "description"})
DNS_KEYS = frozenset({"zone_id", "name"})
SCALING_METRIC_KEYS = frozenset({"namespace", "metric_name", "statistic", "dimensions", "target"})

TOPOLOGY_KEYS = frozenset({
    "topology", "load_balancer", "service_connect_namespace", "service_connect_alias",
    "callers", "egress", "extra_security_group_ids", "scaling_metric", "deployment",
    "rollback_alarms", "waf", "dns"})
# Settings of the service's own load balancer: meaningless without one.
OWN_LOAD_BALANCER_KEYS = ("certificate_arn", "ingress_cidrs", "deletion_protection",
                          "access_logs_bucket", "waf", "dns")
_DEPLOYMENT_KEYS = frozenset({"strategy", "bake_time_minutes", "canary_percent",
                              "canary_bake_time_minutes", "linear_step_percent",
                              "linear_step_bake_time_minutes", "test_listener_port",
                              "test_ingress_cidrs", "smoke_test_lambda_arn"})


@dataclass(frozen=True)
class EgressSpec:
    port: int
    description: str
    security_group_id: Any = None
    cidr: str | None = None


@dataclass(frozen=True)
class ScalingMetricSpec:
    namespace: str
    metric_name: str
    target: float
    statistic: str = "Average"
    dimensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeploymentSpec:
    strategy: str = "ROLLING"
    bake_time_minutes: int = 0
    canary_percent: float | None = None
    canary_bake_time_minutes: int | None = None
    linear_step_percent: float | None = None
    linear_step_bake_time_minutes: int | None = None
    test_listener_port: int | None = None
    test_ingress_cidrs: tuple[str, ...] = ()
    smoke_test_lambda_arn: str | None = None

    @property
    def shifts_traffic(self) -> bool:
        return self.strategy in TRAFFIC_SHIFTING


@dataclass(frozen=True)
class WafSpec:
    rate_limit: int = 2000
    """Requests per client IP in any 5-minute window before the rate rule blocks."""


@dataclass(frozen=True)
class DnsSpec:
    zone_id: str
    name: str


@dataclass(frozen=True)
class TopologySpec:
    kind: str = "public"
    route: Route | None = None
    load_balancer: Any = None
    """A SharedLoadBalancer, for kind 'shared'."""
    service_connect_namespace: Any = None
    service_connect_alias: str | None = None
    callers: dict[str, Any] = field(default_factory=dict)
    """Caller service name -> its security group id."""
    egress: tuple[EgressSpec, ...] = ()
    extra_security_group_ids: tuple[Any, ...] = ()
    scaling_metric: ScalingMetricSpec | None = None
    deployment: DeploymentSpec = field(default_factory=DeploymentSpec)
    rollback_alarms: bool = True
    waf: WafSpec | None = None
    dns: DnsSpec | None = None

    @property
    def has_load_balancer(self) -> bool:
        return self.kind in ("public", "shared")


def _mapping(raw: object, setting: str, allowed: frozenset[str] | set[str]) -> dict:
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping with keys " + ", ".join(sorted(allowed)))
    v.reject_unknown_keys(dict(raw), allowed, setting)
    return dict(raw)


def _is_input_string(value: object) -> bool:
    return isinstance(value, (str, pulumi.Output))


def _bake(raw: object, setting: str) -> int:
    return v.validate_int_range(raw, setting, 0, MAX_BAKE_MINUTES)


def _percent(raw: object, setting: str, low: float) -> float:
    """ECS takes canary and linear step percentages as multiples of 0.1 (botocore ecs model,
    CanaryConfiguration.canaryPercent, LinearConfiguration.stepPercent)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not low <= raw <= 100 \
            or abs(raw * 10 - round(raw * 10)) > 1e-9:
        raise ConfigError(setting, raw, f"a percentage from {low} to 100 in steps of 0.1")
    return float(raw)


def parse_deployment(raw: object, setting: str, service: str, kind: str,
                     shared_test_port: int | None = None) -> DeploymentSpec:
    """`shared_test_port`: for topology shared, the shared load balancer's test listener port,
    which the service uses instead of a test listener of its own."""
    d = _mapping(raw, setting, _DEPLOYMENT_KEYS)
    strategy = d.get("strategy", "ROLLING")
    if strategy not in STRATEGIES:
        raise ConfigError(f"{setting}.strategy", strategy, "one of " + ", ".join(STRATEGIES))
    shifting = strategy in TRAFFIC_SHIFTING
    for key in ("bake_time_minutes", "test_listener_port", "test_ingress_cidrs",
                "smoke_test_lambda_arn"):
        if key in d and not shifting:
            raise ConfigError(f"{setting}.{key}", d[key],
                              f"only with strategy BLUE_GREEN, LINEAR or CANARY (service "
                              f"'{service}' deploys {strategy})")
    if shifting and kind not in ("public", "shared"):
        raise ConfigError(f"{setting}.strategy", strategy,
                          f"service '{service}' is {kind}: {strategy} shifts load balancer "
                          "traffic, so it needs topology public or shared")
    for key in ("canary_percent", "canary_bake_time_minutes"):
        if key in d and strategy != "CANARY":
            raise ConfigError(f"{setting}.{key}", d[key], "only with strategy CANARY")
    for key in ("linear_step_percent", "linear_step_bake_time_minutes"):
        if key in d and strategy != "LINEAR":
            raise ConfigError(f"{setting}.{key}", d[key], "only with strategy LINEAR")
    spec = DeploymentSpec(strategy=strategy)
    if not shifting:
        return spec
    if kind == "shared":
        for key in ("test_listener_port", "test_ingress_cidrs"):
            if key in d:
                raise ConfigError(f"{setting}.{key}", d[key],
                                  f"service '{service}' is on the shared load balancer: its test "
                                  "listener is shipyard:load_balancer.test_listener_port")
        if strategy == "BLUE_GREEN" and shared_test_port is None:
            raise ConfigError(f"{setting}.strategy", strategy,
                              f"service '{service}' deploys BLUE_GREEN on a shared load "
                              "balancer without a test listener: set "
                              "shipyard:load_balancer.test_listener_port and test_ingress_cidrs "
                              "(an internal load balancer has none: deploy ROLLING there)")
        d = {**d, "test_listener_port": shared_test_port}
    port = d.get("test_listener_port")
    if strategy == "BLUE_GREEN" and port is None:
        raise ConfigError(f"{setting}.test_listener_port", None,
                          f"service '{service}' deploys BLUE_GREEN: it needs a test listener "
                          "(a port such as 8443, with test_ingress_cidrs) so the new revision "
                          "can be tested before production traffic shifts")
    cidrs: tuple[str, ...] = ()
    if port is not None and kind != "shared":  # the shared load balancer checked its own
        # The same range SharedLoadBalancer accepts, so nothing is refused after registration;
        # it also keeps the test listener off 80 and 443, which serve production traffic.
        v.validate_int_range(port, f"{setting}.test_listener_port", 1024, 65535)
        if "test_ingress_cidrs" not in d:
            raise ConfigError(f"{setting}.test_ingress_cidrs", None,
                              "required with test_listener_port: who may reach the test "
                              "listener (e.g. the office or CI range, never 0.0.0.0/0)")
        cidrs = tuple(v.validate_cidrs(d["test_ingress_cidrs"], f"{setting}.test_ingress_cidrs"))
        if "0.0.0.0/0" in cidrs:
            raise ConfigError(f"{setting}.test_ingress_cidrs", "0.0.0.0/0",
                              "a restricted range: the test listener serves an untested revision")
    lambda_arn = d.get("smoke_test_lambda_arn")
    if lambda_arn is not None:
        v.check("lambda_function_arn", lambda_arn, f"{setting}.smoke_test_lambda_arn")
        if port is None:
            raise ConfigError(f"{setting}.smoke_test_lambda_arn", lambda_arn,
                              "needs test_listener_port: the smoke test runs against the test "
                              "listener")
    canary = linear = None
    if strategy == "CANARY":
        canary = _percent(d.get("canary_percent", 10), f"{setting}.canary_percent",
                          CANARY_PERCENT_MIN)
    if strategy == "LINEAR":
        linear = _percent(d.get("linear_step_percent", 10), f"{setting}.linear_step_percent",
                          LINEAR_STEP_PERCENT_MIN)
    return DeploymentSpec(
        strategy=strategy, bake_time_minutes=_bake(d.get("bake_time_minutes", 10),
                                                   f"{setting}.bake_time_minutes"),
        canary_percent=canary,
        canary_bake_time_minutes=(_bake(d.get("canary_bake_time_minutes", 5),
                                        f"{setting}.canary_bake_time_minutes")
                                  if strategy == "CANARY" else None),
        linear_step_percent=linear,
        linear_step_bake_time_minutes=(_bake(d.get("linear_step_bake_time_minutes", 2),
                                             f"{setting}.linear_step_bake_time_minutes")
                                       if strategy == "LINEAR" else None),
        test_listener_port=port, test_ingress_cidrs=cidrs, smoke_test_lambda_arn=lambda_arn)


def parse_egress(raw: object, setting: str) -> tuple[EgressSpec, ...]:
    if not isinstance(raw, list):
        raise ConfigError(setting, raw, "a list of {security_group_id or cidr, port, description}")
    result = []
    for index, item in enumerate(raw):
        where = f"{setting}[{index}]"
        e = _mapping(item, where, EGRESS_KEYS)
        if ("security_group_id" in e) == ("cidr" in e):
            raise ConfigError(where, sorted(e), "exactly one of 'security_group_id' or 'cidr'")
        port = v.validate_int_range(e.get("port"), f"{where}.port", 1, 65535)
        sg = e.get("security_group_id")
        if sg is not None:
            v.check_input("security_group_id", sg, f"{where}.security_group_id")
        cidr = e.get("cidr")
        if cidr is not None:
            v.validate_cidrs([cidr], f"{where}.cidr")
            if cidr == "0.0.0.0/0":
                raise ConfigError(f"{where}.cidr", cidr,
                                  "a specific range; HTTPS to anywhere is already allowed, other "
                                  "ports to the whole internet are not")
        description = e.get("description", f"to {sg if isinstance(sg, str) else cidr or 'peer'} "
                                           f"on {port}")
        if not isinstance(description, str) or not description:
            raise ConfigError(f"{where}.description", description, "a non-empty string")
        result.append(EgressSpec(port=port, description=description, security_group_id=sg,
                                 cidr=cidr))
    return tuple(result)


def parse_scaling_metric(raw: object, setting: str) -> ScalingMetricSpec:
    m = _mapping(raw, setting, SCALING_METRIC_KEYS)
    v.check("cloudwatch_namespace", m.get("namespace"), f"{setting}.namespace")
    v.check("cloudwatch_metric_name", m.get("metric_name"), f"{setting}.metric_name")
    target = m.get("target")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or target <= 0:
        raise ConfigError(f"{setting}.target", target, "a positive number (the value to hold)")
    statistic = m.get("statistic", "Average")
    v.validate_choice(statistic, f"{setting}.statistic", STATISTICS)
    dimensions = m.get("dimensions", {})
    if not isinstance(dimensions, Mapping) or not all(
            isinstance(k, str) and isinstance(x, str) for k, x in dimensions.items()):
        raise ConfigError(f"{setting}.dimensions", dimensions, "a mapping of strings to strings")
    return ScalingMetricSpec(namespace=m["namespace"], metric_name=m["metric_name"],
                             target=float(target), statistic=str(statistic),
                             dimensions=dict(dimensions))


def check_ports(kind: str, ports: list[int | None], names: list[str], prefix: str,
                service: str) -> None:
    """A worker listens on nothing; every other topology has exactly one container with a port."""
    with_port = [n for n, p in zip(names, ports) if p is not None]
    if kind == "worker":
        if with_port:
            raise ConfigError(f"{prefix}containers", with_port,
                              f"service '{service}' is a worker: no container has a port "
                              "(remove 'port', or use topology public, shared or private)")
        return
    if not with_port:
        raise ConfigError(f"{prefix}containers", names,
                          "one container needs a 'port' for the load balancer to forward to")
    if len(with_port) > 1:
        raise ConfigError(f"{prefix}containers", names,
                          "exactly one container has a 'port'; sidecars listen on none")


def parse_topology(name: str, args: Mapping[str, Any], prefix: str) -> TopologySpec:
    from .spec import SERVICE_DEFAULTS  # the documented defaults (spec imports this module)
    kind = args.get("topology", SERVICE_DEFAULTS["topology"])
    if kind not in TOPOLOGIES:
        raise ConfigError(f"{prefix}topology", kind, "one of " + ", ".join(TOPOLOGIES))
    given = {k for k in args if args.get(k) is not None}

    def refuse(key: str, why: str) -> None:
        if key in given:
            raise ConfigError(f"{prefix}{key}", args[key], f"service '{name}' is {kind}: {why}")

    route = None
    if kind == "shared":
        balancer = args.get("load_balancer")
        routes = getattr(balancer, "routes", None)
        if not isinstance(routes, Mapping):
            raise ConfigError(f"{prefix}load_balancer", balancer,
                              "a SharedLoadBalancer (the stack creates one when a service has "
                              "topology shared)")
        if name not in routes:
            raise ConfigError(f"{prefix}load_balancer", sorted(routes),
                              f"service '{name}' has no route on the shared load balancer: add "
                              f"routes.{name} {{paths: [...], hosts: [...]}} to it (stack "
                              "config: the service's routing)")
        route = routes[name]
        for key in OWN_LOAD_BALANCER_KEYS:
            refuse(key, "set it on the shared load balancer (stack config "
                        "shipyard:load_balancer), not on the service")
    else:
        refuse("load_balancer", "only topology shared uses the shared load balancer")
    callers: dict[str, Any] = {}
    if kind == "private":
        raw_callers = args.get("callers")
        if not raw_callers:
            with_cert = (" A certificate does not make it reachable: a private service has no "
                         "load balancer.") if "certificate_arn" in given else ""
            raise ConfigError(f"{prefix}callers", raw_callers,
                              f"service '{name}' is private: name the services that may call it "
                              f"(callers), or nothing can reach it.{with_cert}")
        if not isinstance(raw_callers, Mapping) or not all(
                isinstance(k, str) and _is_input_string(sg) for k, sg in raw_callers.items()):
            raise ConfigError(f"{prefix}callers", raw_callers,
                              "a mapping of caller service name to its security group id")
        if name in raw_callers:
            raise ConfigError(f"{prefix}callers", name, "a service does not call itself")
        for caller, group in raw_callers.items():
            v.check_input("security_group_id", group, f"{prefix}callers.{caller}")
        callers = dict(raw_callers)
        if args.get("service_connect_namespace") is None:
            raise ConfigError(f"{prefix}service_connect_namespace", None,
                              "an ECS Service Connect namespace (Cloud Map HTTP namespace ARN); "
                              "the stack creates one when a service is private")
    if args.get("service_connect_namespace") is not None:
        v.check_input("servicediscovery_namespace_arn", args["service_connect_namespace"],
                      f"{prefix}service_connect_namespace")
    else:
        refuse("callers", "only a private service declares callers")
    if kind in ("private", "worker"):
        for key in OWN_LOAD_BALANCER_KEYS:
            refuse(key, "it has no load balancer")
        refuse("service_connect_alias", "only a private service is published in Service Connect")
    alias = args.get("service_connect_alias", name) if kind == "private" else None
    if alias is not None and (not isinstance(alias, str) or not ALIAS_RE.match(alias)):
        raise ConfigError(f"{prefix}service_connect_alias", alias,
                          "a DNS label: lowercase letters, digits and '-', at most 63")
    egress = parse_egress(args.get("egress", []), f"{prefix}egress")
    extra = args.get("extra_security_group_ids", [])
    if not isinstance(extra, list):
        raise ConfigError(f"{prefix}extra_security_group_ids", extra,
                          "a list of security group ids (sg-...)")
    v.check_id_list("security_group_id", extra, f"{prefix}extra_security_group_ids")
    if len(extra) > 4:
        # A Fargate task's ENI carries at most 5 security groups (ECS API reference,
        # AwsVpcConfiguration.securityGroups), one of which is the service's own.
        raise ConfigError(f"{prefix}extra_security_group_ids", extra,
                          "at most 4 (a task carries at most 5 groups, one is its own)")
    metric = (parse_scaling_metric(args["scaling_metric"], f"{prefix}scaling_metric")
              if "scaling_metric" in given else None)
    shared_test_port = getattr(args.get("load_balancer"), "test_listener_port", None)
    deployment = (parse_deployment(args["deployment"], f"{prefix}deployment", name, kind,
                                   shared_test_port)
                  if "deployment" in given else DeploymentSpec())
    rollback_alarms = args.get("rollback_alarms", SERVICE_DEFAULTS["rollback_alarms"])
    if not isinstance(rollback_alarms, bool):
        raise ConfigError(f"{prefix}rollback_alarms", rollback_alarms, "true or false")
    waf = None
    if "waf" in given:
        w = _mapping(args["waf"], f"{prefix}waf", {"enabled", "rate_limit"})
        enabled = w.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{prefix}waf.enabled", enabled, "true or false")
        if enabled:
            waf = WafSpec(rate_limit=v.validate_int_range(
                w.get("rate_limit", 2000), f"{prefix}waf.rate_limit", 10, 2_000_000_000))
    dns = parse_dns(args["dns"], f"{prefix}dns") if "dns" in given else None
    return TopologySpec(
        kind=kind, route=route, load_balancer=args.get("load_balancer"),
        service_connect_namespace=args.get("service_connect_namespace"),
        service_connect_alias=alias, callers=callers, egress=egress,
        extra_security_group_ids=tuple(extra), scaling_metric=metric, deployment=deployment,
        rollback_alarms=rollback_alarms, waf=waf, dns=dns)


def parse_dns(raw: object, setting: str) -> DnsSpec:
    d = _mapping(raw, setting, DNS_KEYS)
    zone = v.check("route53_zone_id", d.get("zone_id"), f"{setting}.zone_id")
    dns_name = d.get("name")
    if not isinstance(dns_name, str) or not DNS_NAME_RE.match(dns_name.rstrip(".").lower()):
        raise ConfigError(f"{setting}.name", dns_name, "a fully qualified domain name such as "
                                                       "app.example.com")
    return DnsSpec(zone_id=zone, name=dns_name.rstrip(".").lower())
