"""Security groups: public ingress only to web ports, the service reachable only from its load
balancer, and every group and rule described."""

import ipaddress
from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity, StackValidationArgs

from .common import (
    Refs,
    as_list,
    depends_on,
    each_known,
    mapping,
    num,
    objects,
    of_type,
    resource_policy,
    stack_policy,
)

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SERVICE = "aws:ecs/service:Service"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
# A range this wide is the internet by another name (0.0.0.0/1 and 128.0.0.0/1 together are
# 0.0.0.0/0); no trusted network is that large.
_WIDEST_TRUSTED_PREFIX = {4: 8, 6: 16}


def is_public(cidr: str) -> bool:
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False  # AWS refuses a malformed CIDR; nothing is opened
    return network.prefixlen < _WIDEST_TRUSTED_PREFIX[network.version]
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_PULUMI_DESCRIPTION = "Managed by Pulumi"


def _open_ports(allowed: set[int], label: str, protocol: Any, from_port: Any, to_port: Any,
                cidrs: list[str]) -> Iterator[str]:
    public = [c for c in cidrs if is_public(c)]
    if not public:
        return
    every_protocol = str(protocol) in ("-1", "all")
    ports = (set() if every_protocol or from_port is None or to_port is None
             else set(range(int(from_port), int(to_port) + 1)))
    if every_protocol or not ports or not ports <= allowed:
        shown = "all ports" if every_protocol else f"ports {num(from_port)}-{num(to_port)}"
        yield (f"{label} opens {shown} to {', '.join(public)}; only "
               f"{', '.join(str(p) for p in sorted(allowed))} may be public.")


def _public_ingress(args: ResourceValidationArgs) -> Iterable[str]:
    allowed = {int(p) for p in (args.get_config() or {}).get("allowedPorts", [80, 443])}
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        def judge(index: int, rule: Any) -> Iterator[str]:
            rule = mapping(rule, f"ingress[{index}]")
            cidrs = as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
            yield from _open_ports(allowed, f"ingress[{index}]", rule.get("protocol"),
                                   rule.get("fromPort"), rule.get("toPort"),
                                   [str(c) for c in cidrs])
        yield from each_known(props.get("ingress"), judge)
    elif args.resource_type == INGRESS_RULE:
        cidrs = [c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c]
        yield from _open_ports(allowed, "rule", props.get("ipProtocol"), props.get("fromPort"),
                               props.get("toPort"), [str(c) for c in cidrs])
    elif args.resource_type == LEGACY_RULE and props.get("type") == "ingress":
        cidrs = as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
        yield from _open_ports(allowed, "rule", props.get("protocol"), props.get("fromPort"),
                               props.get("toPort"), [str(c) for c in cidrs])


def _descriptions(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        description = props.get("description")
        if not description or description == DEFAULT_PULUMI_DESCRIPTION:
            yield "The security group has no description of its purpose."
        for kind in ("ingress", "egress"):
            for index, rule in enumerate(as_list(props.get(kind))):
                if not rule.get("description"):
                    yield f"{kind}[{index}] has no description."
    elif not props.get("description"):
        yield "The security group rule has no description."


def _service_from_alb_only(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    groups = list(of_type(args.resources, SECURITY_GROUP))
    rules = list(of_type(args.resources, INGRESS_RULE, LEGACY_RULE))
    balancers = list(of_type(args.resources, LOAD_BALANCER))
    alb_groups = [g for g in groups if any(depends_on(b, "securityGroups", g) for b in balancers)]

    def judge(index: int, service: Any) -> Iterator[tuple[str, str]]:
        ports = {lb.get("containerPort")
                 for lb in objects(service.props.get("loadBalancers"), "loadBalancers")}
        if not ports:
            return
        for group in [g for g in groups if depends_on(service, "networkConfiguration", g)]:
            for inline_index, _ in enumerate(as_list(group.props.get("ingress"))):
                yield group.urn, (f"ingress[{inline_index}] is inline; the service group may "
                                  "admit only the load balancer's group, as a separate rule.")
            for rule in rules:
                if not depends_on(rule, "securityGroupId", group) or (
                        rule.resource_type == LEGACY_RULE and rule.props.get("type") != "ingress"):
                    continue
                source_prop = ("referencedSecurityGroupId" if rule.resource_type == INGRESS_RULE
                               else "sourceSecurityGroupId")
                from_alb = any(depends_on(rule, source_prop, g) for g in alb_groups)
                on_port = (rule.props.get("fromPort") == rule.props.get("toPort")
                           and rule.props.get("fromPort") in ports)
                if not from_alb:
                    yield rule.urn, ("The service's security group admits a source other than its "
                                     "load balancer's security group.")
                elif not on_port:
                    yield rule.urn, (f"The service's security group admits ports "
                                     f"{num(rule.props.get('fromPort'))}-"
                                     f"{num(rule.props.get('toPort'))}; only the container port "
                                     f"{', '.join(str(num(p)) for p in sorted(ports, key=str))} "
                                     "is needed.")
    yield from each_known(list(of_type(args.resources, SERVICE)), judge)


def _flow_logs(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    flow_logs = list(of_type(args.resources, FLOW_LOG))
    for vpc in of_type(args.resources, VPC):
        if not any(depends_on(f, "vpcId", vpc) for f in flow_logs):
            yield vpc.urn, "The VPC has no flow log; rejected and accepted traffic go unrecorded."


POLICIES = [
    resource_policy("sg-public-ingress-80-443-only", "Ingress from the internet (0.0.0.0/0, "
                    "::/0, or any range wider than /8, /16 for IPv6) reaches only ports 80 and "
                    "443.", (SECURITY_GROUP, INGRESS_RULE, LEGACY_RULE),
                    _public_ingress, severity=Severity.HIGH,
                    config_schema=PolicyConfigSchema(properties={"allowedPorts": {
                        "type": "array", "items": {"type": "integer"}, "default": [80, 443]}}),
                    refs=Refs(why="Every other port open to the internet is an unreviewed entry "
                                  "point.",
                              fsbp=("EC2.18", "EC2.19"),
                              cdk_nag=("AwsSolutions-EC23",),
                              checkov=("CKV_AWS_260",)),
                    remediation="Restrict the rule to trusted CIDRs or to ports 80/443 on the "
                                "load balancer's group."),
    stack_policy("sg-service-from-alb-only", "An ECS service's security group admits only its "
                 "load balancer's security group, on the container port.",
                 _service_from_alb_only,
                 refs=Refs(why="Tasks reachable other than through the load balancer bypass its "
                               "TLS, WAF and logging.",
                           doc="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networ"
                               "king-inbound.html"),
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
                    remediation="Describe why each group and rule exists."),
    stack_policy("vpc-flow-logs", "Every VPC the program creates has a flow log.", _flow_logs,
                 severity=Severity.MEDIUM,
                 refs=Refs(why="Flow logs are the only record of which addresses reached or "
                               "left the network.", fsbp=("EC2.6",), checkov=("CKV2_AWS_11",)),
                 remediation="Add an aws.ec2.FlowLog whose vpc_id is the VPC's id."),
]
