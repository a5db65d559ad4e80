"""One internet-facing ALB for several services of a stack, each reached through listener rules
(host and/or path) that forward to its own target group. Unrouted requests get a 404 from the
load balancer itself, so a typo in a route never reaches some other service.

`attach_service` is what a ContainerService calls to join it: target group(s), health check,
listener rules and the two security-group rules between the load balancer and the service.
For traffic-shifting deployments (BLUE_GREEN, LINEAR, CANARY) it creates the second target group
and the test listener rule that ECS rewrites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from . import validation as v
from .dns import alias_record
from .errors import ConfigError
from .load_balancer import (
    HEALTH_CHECK_INTERVAL_SECONDS,
    HEALTH_CHECK_TIMEOUT_SECONDS,
    HEALTHY_THRESHOLD,
    TLS_POLICY,
    UNHEALTHY_THRESHOLD,
    admit_load_balancer,
)
from .routing import Route, allocate_priorities, parse_route
from .topology import DnsSpec, WafSpec, parse_dns
from .waf import protect_load_balancer

TYPE_TOKEN = "shipyard:index:SharedLoadBalancer"
NOT_FOUND = aws.lb.ListenerDefaultActionFixedResponseArgs(
    content_type="text/plain", message_body="Not found", status_code="404")
_KEYS = frozenset({"vpc_id", "public_subnet_ids", "internal", "private_subnet_ids",
                   "callers", "certificate_arn", "ingress_cidrs",
                   "deletion_protection", "access_logs_bucket", "test_listener_port",
                   "test_ingress_cidrs", "waf", "dns", "routes", "tags"})


class SharedLoadBalancerArgs(TypedDict, total=False):
    """Arguments of SharedLoadBalancer; `vpc_id` and `public_subnet_ids` are required."""

    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[Sequence[str]]
    """Where an internet-facing ALB lives (at least two AZs). Required unless `internal`."""
    internal: bool
    """An internal ALB for private services, in `private_subnet_ids`, reachable only from
    `callers` (no CIDR ingress, no WAF). Default: false."""
    private_subnet_ids: pulumi.Input[Sequence[str]]
    """With `internal`: where the ALB lives. Default: none."""
    callers: dict[str, pulumi.Input[str]]
    """With `internal`, required: caller name -> its security group id; each may reach the ALB
    on its listener ports, and nothing else. Default: none."""
    certificate_arn: str
    """ACM certificate: HTTPS on 443 and a redirect on 80. Default: none (plain HTTP)."""
    ingress_cidrs: list[str]
    """Who may reach 443/80. Default: ["0.0.0.0/0"]."""
    deletion_protection: bool
    """Default: false."""
    access_logs_bucket: pulumi.Input[str]
    """Bucket for access logs. Default: none."""
    test_listener_port: int
    """Port of the test listener that blue/green deployments test the new revision on.
    Default: none (no test listener; BLUE_GREEN services are refused)."""
    test_ingress_cidrs: list[str]
    """Who may reach the test listener; required with `test_listener_port`, never 0.0.0.0/0."""
    waf: dict[str, Any]
    """`{enabled: bool, rate_limit: int}`: AWS managed rules + rate limit. Default: none."""
    dns: dict[str, str]
    """`{zone_id, name}`: a Route 53 alias record for the load balancer. Default: none."""
    routes: dict[str, dict[str, Any]]
    """Service name -> `{paths: [...], hosts: [...], priority?}`. Required: every service of
    topology shared needs its route here. Priorities are allocated from 100 in steps of 10,
    most specific first, unless pinned (1-99); overlapping routes are refused."""
    tags: dict[str, str]


@dataclass(frozen=True)
class SharedLoadBalancerSpec:
    certificate_arn: str | None
    ingress_cidrs: tuple[str, ...]
    deletion_protection: bool
    test_listener_port: int | None
    test_ingress_cidrs: tuple[str, ...]
    waf: WafSpec | None
    dns: DnsSpec | None
    routes: dict[str, Route]
    priorities: dict[str, int]
    internal: bool = False


def parse_shared_load_balancer_args(args: dict, setting: str) -> SharedLoadBalancerSpec:
    v.reject_unknown_keys(args, _KEYS, setting)
    internal = args.get("internal", False)
    if not isinstance(internal, bool):
        raise ConfigError(f"{setting}.internal", internal, "true or false")
    subnets_key = "private_subnet_ids" if internal else "public_subnet_ids"
    for key in ("vpc_id", subnets_key):
        if args.get(key) is None:
            raise ConfigError(f"{setting}.{key}", None, "required")
    v.check_input("vpc_id", args["vpc_id"], f"{setting}.vpc_id")
    v.check_id_list("subnet_id", args[subnets_key], f"{setting}.{subnets_key}")
    if args.get("access_logs_bucket") is not None:
        v.check_input("s3_bucket_name", args["access_logs_bucket"], f"{setting}.access_logs_bucket")
    if internal:
        callers = args.get("callers")
        if not isinstance(callers, dict) or not callers:
            raise ConfigError(f"{setting}.callers", callers,
                              "an internal load balancer admits only declared callers: a mapping "
                              "of caller name to its security group id")
        for caller, group in callers.items():
            v.check_input("security_group_id", group, f"{setting}.callers.{caller}")
        for key in ("ingress_cidrs", "waf", "test_listener_port"):
            if args.get(key) is not None:
                raise ConfigError(f"{setting}.{key}", args[key],
                                  "not on an internal load balancer (it admits only its callers)")
    elif args.get("callers") is not None:
        raise ConfigError(f"{setting}.callers", args["callers"],
                          "only with internal: true; an internet-facing ALB admits ingress_cidrs")
    certificate = args.get("certificate_arn")
    if certificate is not None:
        v.check("acm_certificate_arn", certificate, f"{setting}.certificate_arn")
    cidrs = tuple(v.validate_cidrs(args.get("ingress_cidrs", ["0.0.0.0/0"]),
                                   f"{setting}.ingress_cidrs"))
    protection = args.get("deletion_protection", False)
    if not isinstance(protection, bool):
        raise ConfigError(f"{setting}.deletion_protection", protection, "true or false")
    port = args.get("test_listener_port")
    test_cidrs: tuple[str, ...] = ()
    if port is not None:
        v.validate_int_range(port, f"{setting}.test_listener_port", 1024, 65535)
        if "test_ingress_cidrs" not in args:
            raise ConfigError(f"{setting}.test_ingress_cidrs", None,
                              "required with test_listener_port: who may reach the test listener")
        test_cidrs = tuple(v.validate_cidrs(args["test_ingress_cidrs"],
                                            f"{setting}.test_ingress_cidrs"))
        if "0.0.0.0/0" in test_cidrs:
            raise ConfigError(f"{setting}.test_ingress_cidrs", "0.0.0.0/0",
                              "a restricted range: the test listener serves an untested revision")
    elif "test_ingress_cidrs" in args:
        raise ConfigError(f"{setting}.test_ingress_cidrs", args["test_ingress_cidrs"],
                          "only with test_listener_port")
    waf = None
    raw_waf = args.get("waf")
    if raw_waf is not None:
        if not isinstance(raw_waf, dict):
            raise ConfigError(f"{setting}.waf", raw_waf, "a mapping {enabled, rate_limit}")
        v.reject_unknown_keys(raw_waf, {"enabled", "rate_limit"}, f"{setting}.waf")
        enabled = raw_waf.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{setting}.waf.enabled", enabled, "true or false")
        if enabled:
            waf = WafSpec(rate_limit=v.validate_int_range(
                raw_waf.get("rate_limit", 2000), f"{setting}.waf.rate_limit", 10, 2_000_000_000))
    dns = parse_dns(args["dns"], f"{setting}.dns") if args.get("dns") is not None else None
    raw_routes = args.get("routes")
    if not isinstance(raw_routes, dict) or not raw_routes:
        raise ConfigError(f"{setting}.routes", raw_routes,
                          "a mapping of service name to {paths: [...], hosts: [...]}")
    routes = {service: parse_route(service, raw, f"{setting}.routes.{service}")
              for service, raw in raw_routes.items()}
    priorities = allocate_priorities(list(routes.values()))
    return SharedLoadBalancerSpec(
        certificate_arn=certificate, ingress_cidrs=cidrs, deletion_protection=protection,
        test_listener_port=port, test_ingress_cidrs=test_cidrs, waf=waf, dns=dns,
        routes=routes, priorities=priorities, internal=internal)


class SharedLoadBalancer(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    """For CloudWatch dimensions (LoadBalancer)."""
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    listener_arn: pulumi.Output[str]
    """The production listener (HTTPS, or HTTP without a certificate) services add rules to."""
    test_listener_arn: pulumi.Output[str] | None
    url: pulumi.Output[str]
    test_listener_port: int | None
    https: bool

    def __init__(self, name: str, args: SharedLoadBalancerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        v.validate_elb_names(name, f"{name} (the SharedLoadBalancer's name)")
        spec = parse_shared_load_balancer_args(dict(args), name)
        super().__init__(TYPE_TOKEN, name, None, opts)
        tags = dict(args.get("tags") or {})
        child = pulumi.ResourceOptions(parent=self)
        self.name = name
        self.https = spec.certificate_arn is not None
        self.test_listener_port = spec.test_listener_port
        self.routes = spec.routes
        self.priorities = spec.priorities

        group = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", vpc_id=args["vpc_id"], tags=tags, opts=child,
            description=f"{name} shared load balancer: clients in, each service's port out")
        client_ports = [443, 80] if self.https else [80]
        for port in client_ports:
            purpose = ("HTTPS from clients" if port == 443 else
                       "HTTP from clients, redirected to HTTPS" if self.https else
                       "HTTP from clients")
            if spec.internal:
                # Both halves of each caller's path, as for a private service.
                for caller, caller_group in sorted(args["callers"].items()):
                    aws.vpc.SecurityGroupIngressRule(
                        f"{name}-alb-in-{port}-{caller}", security_group_id=group.id,
                        ip_protocol="tcp", from_port=port, to_port=port,
                        referenced_security_group_id=caller_group,
                        description=f"{purpose}: {caller} (a declared caller)", tags=tags,
                        opts=child)
                    aws.vpc.SecurityGroupEgressRule(
                        f"{caller}-out-to-{name}-{port}", security_group_id=caller_group,
                        ip_protocol="tcp", from_port=port, to_port=port,
                        referenced_security_group_id=group.id,
                        description=f"to load balancer {name} (internal)", tags=tags,
                        opts=child)
                continue
            for index, cidr in enumerate(spec.ingress_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-in-{port}-{index}", security_group_id=group.id,
                    ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4=cidr,
                    description=purpose, tags=tags, opts=child)
        if spec.test_listener_port is not None:
            for index, cidr in enumerate(spec.test_ingress_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-in-test-{index}", security_group_id=group.id,
                    ip_protocol="tcp", from_port=spec.test_listener_port,
                    to_port=spec.test_listener_port, cidr_ipv4=cidr,
                    description="blue/green test listener, testers only", tags=tags,
                    opts=child)

        access_logs = None
        if args.get("access_logs_bucket") is not None:
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=args["access_logs_bucket"], enabled=True, prefix=name)
        balancer = aws.lb.LoadBalancer(
            f"{name}-alb", load_balancer_type="application", internal=spec.internal,
            security_groups=[group.id],
            subnets=args["private_subnet_ids"] if spec.internal else args["public_subnet_ids"],
            drop_invalid_header_fields=True, desync_mitigation_mode="defensive",
            enable_deletion_protection=spec.deletion_protection, access_logs=access_logs,
            tags=tags, opts=child)

        not_found = [aws.lb.ListenerDefaultActionArgs(type="fixed-response",
                                                      fixed_response=NOT_FOUND)]
        if self.https:
            production = aws.lb.Listener(
                f"{name}-https", load_balancer_arn=balancer.arn, port=443, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=spec.certificate_arn,
                default_actions=not_found, tags=tags, opts=child)
            aws.lb.Listener(
                f"{name}-http-redirect", load_balancer_arn=balancer.arn, port=80,
                protocol="HTTP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(
                    type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"))],
                tags=tags, opts=child)
            self.url = pulumi.Output.concat("https://", balancer.dns_name)
        else:
            production = aws.lb.Listener(
                f"{name}-http", load_balancer_arn=balancer.arn, port=80, protocol="HTTP",
                default_actions=not_found, tags=tags, opts=child)
            self.url = pulumi.Output.concat("http://", balancer.dns_name)
        self.test_listener_arn = None
        if spec.test_listener_port is not None:
            test = aws.lb.Listener(
                f"{name}-test", load_balancer_arn=balancer.arn, port=spec.test_listener_port,
                protocol="HTTPS" if self.https else "HTTP",
                ssl_policy=TLS_POLICY if self.https else None,
                certificate_arn=spec.certificate_arn, default_actions=not_found, tags=tags,
                opts=child)
            self.test_listener_arn = test.arn
        if spec.waf is not None:
            # The WAF's request logs are kept as long as the balancer they record is.
            protect_load_balancer(name, balancer.arn, spec.waf.rate_limit, tags, self,
                                  protect_logs=spec.deletion_protection)
        if spec.dns is not None:
            alias_record(name, spec.dns, balancer.dns_name, balancer.zone_id, self)
            self.url = pulumi.Output.from_input(
                f"{'https' if self.https else 'http'}://{spec.dns.name}")

        self.arn = balancer.arn
        self.arn_suffix = balancer.arn_suffix
        self.dns_name = balancer.dns_name
        self.zone_id = balancer.zone_id
        self.security_group_id = group.id
        self.listener_arn = production.arn
        self.listeners = [production]
        self.register_outputs({
            "arn": self.arn, "arn_suffix": self.arn_suffix, "dns_name": self.dns_name,
            "zone_id": self.zone_id, "security_group_id": self.security_group_id,
            "listener_arn": self.listener_arn, "test_listener_arn": self.test_listener_arn,
            "url": self.url})


@dataclass
class AttachedService:
    target_groups: list[aws.lb.TargetGroup]
    """[primary] or, for traffic-shifting deployments, [primary, alternate]."""
    production_rule: aws.lb.ListenerRule
    test_rule: aws.lb.ListenerRule | None


def _conditions(route: Route) -> list[aws.lb.ListenerRuleConditionArgs]:
    conditions = []
    if route.hosts:
        conditions.append(aws.lb.ListenerRuleConditionArgs(
            host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(route.hosts))))
    if route.paths:
        conditions.append(aws.lb.ListenerRuleConditionArgs(
            path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(route.paths))))
    return conditions


def attach_service(*, name: str, balancer: SharedLoadBalancer, route: Route, priority: int,
                   port: int, health_check_path: str, deregistration_delay_seconds: int,
                   service_security_group: aws.ec2.SecurityGroup, vpc_id: pulumi.Input[str],
                   shifts_traffic: bool, tags: dict[str, str],
                   parent: pulumi.Resource) -> AttachedService:
    opts = pulumi.ResourceOptions(parent=parent)

    def target_group(logical: str) -> aws.lb.TargetGroup:
        return aws.lb.TargetGroup(
            logical, target_type="ip", port=port, protocol="HTTP", vpc_id=vpc_id,
            deregistration_delay=deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, path=health_check_path, protocol="HTTP", port="traffic-port",
                interval=HEALTH_CHECK_INTERVAL_SECONDS, timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
                healthy_threshold=HEALTHY_THRESHOLD, unhealthy_threshold=UNHEALTHY_THRESHOLD,
                matcher="200-399"),
            tags=tags, opts=opts)

    # "-tg2" keeps the alternate group's name within the same length budget as "-alb".
    groups = [target_group(f"{name}-tg")] + ([target_group(f"{name}-tg2")] if shifts_traffic
                                             else [])
    if shifts_traffic:
        # ECS moves the weights between the two groups during a deployment; Pulumi must not
        # move them back on the next `up` (ECS developer guide, blue/green: "Amazon ECS modifies
        # the listener rule").
        action = aws.lb.ListenerRuleActionArgs(
            type="forward", forward=aws.lb.ListenerRuleActionForwardArgs(target_groups=[
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=groups[0].arn, weight=100),
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=groups[1].arn, weight=0)]))
        rule_opts = pulumi.ResourceOptions(parent=parent, ignore_changes=["actions"])
    else:
        action = aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=groups[0].arn)
        rule_opts = opts
    production = aws.lb.ListenerRule(
        f"{name}-rule", listener_arn=balancer.listener_arn, priority=priority,
        conditions=_conditions(route), actions=[action], tags=tags, opts=rule_opts)
    test = None
    if shifts_traffic and balancer.test_listener_arn is not None:
        test = aws.lb.ListenerRule(
            f"{name}-test-rule", listener_arn=balancer.test_listener_arn, priority=priority,
            conditions=_conditions(route), actions=[action], tags=tags, opts=rule_opts)

    admit_load_balancer(
        service=name, load_balancer=balancer.name, port=port,
        load_balancer_group=balancer.security_group_id, service_group=service_security_group.id,
        rule_names=(f"{name}-lb-out", f"{name}-service-in-lb"), tags=tags, opts=opts)
    return AttachedService(groups, production, test)
