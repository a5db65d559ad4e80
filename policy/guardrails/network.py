"""Security groups: public ingress only to web ports (also through managed prefix lists), the
service reachable only from its load balancer, every group and rule described, the VPC's default
group closed, and flow logs on every VPC."""

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity, StackValidationArgs

from .common import (
    Refs,
    Unparseable,
    as_list,
    depends_on,
    each_known,
    mapping,
    objects,
    of_type,
    resource_policy,
    stack_policy,
)
from .normalize import ALL_TRAFFIC, integer, ip_protocol, reading, text

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
SERVICE = "aws:ecs/service:Service"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_PULUMI_DESCRIPTION = "Managed by Pulumi"
# A range this wide is the internet by another name (0.0.0.0/1 and 128.0.0.0/1 together are
# 0.0.0.0/0); no trusted network is that large.
_WIDEST_TRUSTED_PREFIX = {4: 8, 6: 16}
# Ports as the EC2 API takes them: -1 (with ICMP: every type/code) to 65535.
_PORT_RANGE = (-1, 65535)
_PORTED = ("tcp", "udp")


@reading("cidr", "CIDR blocks read as networks: host bits ignored, and any range wider than /8 "
                 "(IPv6 /16) is the internet, so halves and quarters of 0.0.0.0/0 count too.")
def is_public(cidr: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return False  # AWS refuses a malformed CIDR; nothing is opened
    return network.prefixlen < _WIDEST_TRUSTED_PREFIX[network.version]


@dataclass(frozen=True)
class Opening:
    """What one ingress permission lets in: a protocol and, for TCP/UDP, a port interval."""
    protocol: str
    low: int
    high: int

    def shown(self) -> str:
        if self.protocol == ALL_TRAFFIC:
            return "all traffic"
        if self.protocol not in _PORTED:
            return f"every port of protocol {self.protocol}"
        if self.low == self.high:
            return f"{self.protocol} port {self.low}"
        return f"{self.protocol} ports {self.low}-{self.high}"

    def within(self, allowed: set[int]) -> bool:
        # Counted against the allowed set, never expanded: a range of 0-65535 costs nothing.
        if self.protocol not in _PORTED:
            return False
        width = self.high - self.low + 1
        return 0 < width <= len(allowed) and all(p in allowed
                                                 for p in range(self.low, self.high + 1))


def _port(props: Mapping, key: str, label: str) -> int | None:
    port = integer(props, key, f"{label} {key}")
    if port is not None and not _PORT_RANGE[0] <= port <= _PORT_RANGE[1]:
        raise Unparseable(f"{label} {key} is {port}, outside the ports AWS accepts (-1 to "
                          "65535)")
    return port


def opening(props: Mapping, protocol_key: str, label: str) -> Opening:
    """The protocol and ports AWS applies. Ports only matter for TCP and UDP; a missing or -1
    port there is read as every port."""
    protocol = ip_protocol(props, protocol_key, f"{label} {protocol_key}")
    low, high = _port(props, "fromPort", label), _port(props, "toPort", label)
    if protocol not in _PORTED:
        return Opening(protocol, 0, 65535)
    low = 0 if low is None or low < 0 else low
    high = 65535 if high is None or high < 0 else high
    return Opening(protocol, min(low, high), max(low, high))


def _allowed_ports(args: ResourceValidationArgs | StackValidationArgs) -> set[int]:
    return {int(p) for p in (args.get_config() or {}).get("allowedPorts", [80, 443])}


def _too_open(allowed: set[int], label: str, permission: Opening, sources: list[str]
              ) -> Iterator[str]:
    if sources and not permission.within(allowed):
        yield (f"{label} opens {permission.shown()} to {', '.join(sources)}; only tcp/udp ports "
               f"{', '.join(str(p) for p in sorted(allowed))} may be public.")


def _cidrs(rule: Mapping, *keys: str) -> list[str]:
    found = []
    for key in keys:
        for value in as_list(rule.get(key)):
            if value is not None:
                found.append(str(value))
    return found


def _public_ingress(args: ResourceValidationArgs) -> Iterable[str]:
    allowed = _allowed_ports(args)
    props = args.props
    if args.resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        def judge(index: int, rule: Any) -> Iterator[str]:
            rule = mapping(rule, f"ingress[{index}]")
            label = f"ingress[{index}]"
            public = [c for c in _cidrs(rule, "cidrBlocks", "ipv6CidrBlocks") if is_public(c)]
            if public:
                yield from _too_open(allowed, label, opening(rule, "protocol", label), public)
        yield from each_known(props.get("ingress"), judge)
    elif args.resource_type == INGRESS_RULE:
        public = [c for c in _cidrs(props, "cidrIpv4", "cidrIpv6") if is_public(c)]
        if public:
            yield from _too_open(allowed, "rule", opening(props, "ipProtocol", "rule"), public)
    elif args.resource_type == LEGACY_RULE and text(props, "type") == "ingress":
        public = [c for c in _cidrs(props, "cidrBlocks", "ipv6CidrBlocks") if is_public(c)]
        if public:
            yield from _too_open(allowed, "rule", opening(props, "protocol", "rule"), public)


def _public_prefix_lists(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    """Ingress through a managed prefix list of the stack admits every CIDR the list holds."""
    allowed = _allowed_ports(args)
    resources = list(args.resources)
    lists = list(of_type(resources, PREFIX_LIST))
    entries = list(of_type(resources, PREFIX_LIST_ENTRY))

    def public_entries(prefix_list: Any) -> list[str]:
        cidrs = [str(mapping(e, "entries[]").get("cidr"))
                 for e in objects(prefix_list.props.get("entries"), "entries")]
        cidrs += [str(e.props.get("cidr")) for e in entries
                  if depends_on(e, "prefixListId", prefix_list)]
        return [c for c in cidrs if is_public(c)]

    def through(resource: Any, prop: str) -> list[str]:
        return [f"{cidr} (prefix list {pl.name})" for pl in lists
                if depends_on(resource, prop, pl) for cidr in public_entries(pl)]

    def judge(index: int, resource: Any) -> Iterator[tuple[str, str]]:
        props = resource.props
        if resource.resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
            sources = through(resource, "ingress")
            for rule_index, rule in enumerate(as_list(props.get("ingress"))):
                rule = mapping(rule, f"ingress[{rule_index}]")
                label = f"ingress[{rule_index}]"
                if sources and as_list(rule.get("prefixListIds")):
                    for message in _too_open(allowed, label, opening(rule, "protocol", label),
                                             sources):
                        yield resource.urn, message
            return
        protocol_key, prop = (("ipProtocol", "prefixListId")
                              if resource.resource_type == INGRESS_RULE
                              else ("protocol", "prefixListIds"))
        if resource.resource_type == LEGACY_RULE and text(props, "type") != "ingress":
            return
        sources = through(resource, prop)
        if sources:
            for message in _too_open(allowed, "rule", opening(props, protocol_key, "rule"),
                                     sources):
                yield resource.urn, message
    yield from each_known(list(of_type(resources, SECURITY_GROUP, DEFAULT_SECURITY_GROUP,
                                       INGRESS_RULE, LEGACY_RULE)), judge)


def _described(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value != DEFAULT_PULUMI_DESCRIPTION


def _descriptions(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        if not _described(props.get("description")):
            yield "The security group has no description of its purpose."
        for kind in ("ingress", "egress"):
            for index, rule in enumerate(objects(props.get(kind), kind)):
                if not _described(rule.get("description")):
                    yield f"{kind}[{index}] has no description."
    elif not _described(props.get("description")):
        yield "The security group rule has no description."


def _default_group_closed(args: ResourceValidationArgs) -> Iterable[str]:
    ingress = objects(args.props.get("ingress"), "ingress")
    egress = objects(args.props.get("egress"), "egress")
    if ingress or egress:
        yield (f"The VPC's default security group keeps {len(ingress)} ingress and "
               f"{len(egress)} egress rule(s); resources launched without a group land in it, "
               "so it must admit nothing (declare it with no rules).")


def _service_from_alb_only(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    groups = list(of_type(args.resources, SECURITY_GROUP))
    rules = list(of_type(args.resources, INGRESS_RULE, LEGACY_RULE))
    balancers = list(of_type(args.resources, LOAD_BALANCER))
    alb_groups = [g for g in groups if any(depends_on(b, "securityGroups", g) for b in balancers)]

    def judge(index: int, service: Any) -> Iterator[tuple[str, str]]:
        ports = {port for lb in objects(service.props.get("loadBalancers"), "loadBalancers")
                 if (port := integer(lb, "containerPort", "loadBalancers[].containerPort"))
                 is not None}
        if not ports:
            return
        for group in [g for g in groups if depends_on(service, "networkConfiguration", g)]:
            for inline_index, _ in enumerate(as_list(group.props.get("ingress"))):
                yield group.urn, (f"ingress[{inline_index}] is inline; the service group may "
                                  "admit only the load balancer's group, as a separate rule.")
            for rule in rules:
                if not depends_on(rule, "securityGroupId", group) or (
                        rule.resource_type == LEGACY_RULE
                        and text(rule.props, "type") != "ingress"):
                    continue
                source_prop = ("referencedSecurityGroupId" if rule.resource_type == INGRESS_RULE
                               else "sourceSecurityGroupId")
                protocol_prop = "ipProtocol" if rule.resource_type == INGRESS_RULE else "protocol"
                from_alb = any(depends_on(rule, source_prop, g) for g in alb_groups)
                permission = opening(rule.props, protocol_prop, "rule")
                on_port = (permission.protocol == "tcp" and permission.low == permission.high
                           and permission.low in ports)
                if not from_alb:
                    yield rule.urn, ("The service's security group admits a source other than its "
                                     "load balancer's security group.")
                elif not on_port:
                    yield rule.urn, (f"The service's security group admits {permission.shown()}; "
                                     "only the container port "
                                     f"{', '.join(str(p) for p in sorted(ports))} is needed.")
    yield from each_known(list(of_type(args.resources, SERVICE)), judge)


def _flow_logs(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    flow_logs = list(of_type(args.resources, FLOW_LOG))
    for vpc in of_type(args.resources, VPC):
        if not any(depends_on(f, "vpcId", vpc) for f in flow_logs):
            yield vpc.urn, "The VPC has no flow log; rejected and accepted traffic go unrecorded."


PUBLIC_PORTS = "ports 80 and 443"
POLICIES = [
    resource_policy("sg-public-ingress-80-443-only", "Ingress from the internet (0.0.0.0/0, "
                    "::/0, or any range wider than /8, /16 for IPv6) reaches only tcp/udp "
                    f"{PUBLIC_PORTS}.", (SECURITY_GROUP, DEFAULT_SECURITY_GROUP, INGRESS_RULE,
                                         LEGACY_RULE),
                    _public_ingress, severity=Severity.HIGH,
                    config_schema=PolicyConfigSchema(properties={"allowedPorts": {
                        "type": "array", "items": {"type": "integer"}, "default": [80, 443]}}),
                    refs=Refs(why="Every other port open to the internet is an unreviewed entry "
                                  "point.",
                              fsbp=("EC2.18", "EC2.19"),
                              cdk_nag=("AwsSolutions-EC23",),
                              checkov=("CKV_AWS_260",)),
                    reads=("ip-protocol", "int", "text", "cidr"),
                    remediation="Restrict the rule to trusted CIDRs or to ports 80/443 on the "
                                "load balancer's group."),
    stack_policy("sg-prefix-list-ingress-80-443-only", "Ingress through a managed prefix list "
                 "of the stack that holds an internet range (0.0.0.0/0, ::/0, or wider than /8) "
                 f"reaches only tcp/udp {PUBLIC_PORTS}.", _public_prefix_lists,
                 severity=Severity.HIGH,
                 config_schema=PolicyConfigSchema(properties={"allowedPorts": {
                     "type": "array", "items": {"type": "integer"}, "default": [80, 443]}}),
                 refs=Refs(why="A prefix list is a set of CIDRs: a rule that references one "
                               "holding 0.0.0.0/0 opens the port to the internet as surely as "
                               "the CIDR itself.",
                           fsbp=("EC2.18", "EC2.19"), cdk_nag=("AwsSolutions-EC23",)),
                 reads=("ip-protocol", "int", "text", "cidr"),
                 remediation="Remove internet ranges from the prefix list, or restrict the rule "
                             "to ports 80/443."),
    resource_policy("vpc-default-security-group-closed", "A VPC's default security group, "
                    "when the program manages it, has no ingress and no egress rules.",
                    (DEFAULT_SECURITY_GROUP,), _default_group_closed, severity=Severity.HIGH,
                    refs=Refs(why="Anything launched without a security group gets the default "
                                  "one; if it admits traffic, a forgotten group opens a resource.",
                              fsbp=("EC2.2",), checkov=("CKV2_AWS_12",)),
                    reads=(),
                    remediation="Declare aws.ec2.DefaultSecurityGroup for the VPC with no ingress "
                                "and no egress; give every resource its own group."),
    stack_policy("sg-service-from-alb-only", "An ECS service's security group admits only its "
                 "load balancer's security group, on the container port.",
                 _service_from_alb_only,
                 refs=Refs(why="Tasks reachable other than through the load balancer bypass its "
                               "TLS, WAF and logging.",
                           doc="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networ"
                               "king-inbound.html"),
                 reads=("ip-protocol", "int", "text"),
                 remediation="Replace the rule with one whose referenced_security_group_id is "
                             "the ALB's group and whose ports are the container port."),
    resource_policy("sg-descriptions", "Security groups and their rules carry descriptions.",
                    (SECURITY_GROUP, INGRESS_RULE, EGRESS_RULE, LEGACY_RULE), _descriptions,
                    severity=Severity.LOW,
                    refs=Refs(why="A rule nobody can explain is never removed.",
                              cdk_nag=("AwsSolutions-EC27",),
                              checkov=("CKV_AWS_23",),
                              doc="https://docs.aws.amazon.com/vpc/latest/userguide/security-group"
                                  "-rules.html"),
                    reads=(),
                    remediation="Describe why each group and rule exists."),
    stack_policy("vpc-flow-logs", "Every VPC the program creates has a flow log.", _flow_logs,
                 severity=Severity.MEDIUM,
                 refs=Refs(why="Flow logs are the only record of which addresses reached or "
                               "left the network.", fsbp=("EC2.6",), checkov=("CKV2_AWS_11",)),
                 reads=(),
                 remediation="Add an aws.ec2.FlowLog whose vpc_id is the VPC's id."),
]
