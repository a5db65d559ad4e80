"""The VPC a stack runs in, built from pulumi-aws resources: a new VPC (public and private
subnets per AZ, an internet gateway, NAT gateways per strategy, a route table per subnet) or an
existing VPC and its subnets. Optional interface/gateway endpoints keep image pulls, secrets and
logs off the NAT; optional VPC flow logs go to an encrypted CloudWatch log group.

Why not awsx's `ec2.Vpc`: it is a remote (multi-language) component, so neither the offline
preview nor a policy pack run beside it sees its subnets, routes or NAT gateways; a preview of
the stack would show one opaque resource. These are the same resources awsx creates, with the
same names, parents and CIDR layout (awsx `subnetDistributorNew.ts`, strategy Auto), and the
VPC carries an alias to its old awsx parent, so a live stack adopts them without replacement."""

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from . import validation as v
from .errors import ConfigError
from .iam import logs_key_policy
from .regions import ZONE_SOURCE, usable_zone_count

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
NAT_STRATEGIES = ("none", "single", "one_per_az")
# Subnet sizes of the layout awsx produced for this component (subnetSpecs public /22, private
# /20), kept so that existing stacks' subnets keep their CIDRs.
PUBLIC_SUBNET_PREFIX = v.PUBLIC_SUBNET_PREFIX
PRIVATE_SUBNET_PREFIX = v.PRIVATE_SUBNET_PREFIX
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                   2192, 2557, 2922, 3288, 3653)
# Settings that shape a VPC this component creates; meaningless with an existing one.
_NEW_VPC_ONLY = ("az_count", "nat_gateways", "cidr_block")
_EXISTING = ("vpc_id", "public_subnet_ids", "private_subnet_ids")


class NetworkArgs(TypedDict, total=False):
    """The network of a stack: a new VPC (the defaults), or an existing one given by
    `vpc_id`, `public_subnet_ids` and `private_subnet_ids` together."""

    az_count: int
    """Availability zones of a new VPC, 2-6; one public and one private subnet in each.
    Default: 2. Refused with an existing VPC."""
    nat_gateways: str
    """NAT gateways of a new VPC: "none", "single" (one, shared) or "one_per_az".
    Default: "single". Refused with an existing VPC."""
    cidr_block: str
    """IPv4 CIDR of a new VPC, /16 to /20, large enough for a /22 public and a /20 private
    subnet per AZ. Default: "10.0.0.0/16". Refused with an existing VPC."""
    vpc_endpoints: bool
    """Interface endpoints (ECR API and Docker, Logs, Secrets Manager) in every private subnet
    and an S3 gateway endpoint. Default: false."""
    flow_logs: bool
    """VPC flow logs (all traffic) to a KMS-encrypted CloudWatch log group. Default: false."""
    flow_log_retention_days: int
    """Retention of the flow-log group, one of CloudWatch's allowed values. Default: 365."""
    protect: bool
    """Protect the flow-log key and log group from deletion. Default: false."""
    permissions_boundary_arn: str
    """Boundary attached to the flow-log delivery role. Default: none."""
    vpc_id: pulumi.Input[str]
    """An existing VPC to use instead of creating one. Default: none (a new VPC)."""
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """With `vpc_id`: at least two public subnets in different AZs, for the load balancer.
    Default: none."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """With `vpc_id`: at least two private subnets in different AZs, for the tasks.
    Default: none."""


NETWORK_KEYS = frozenset(NetworkArgs.__annotations__)


@dataclass(frozen=True)
class SubnetPlan:
    az_index: int
    kind: str
    """"public" or "private"."""
    cidr: str


@dataclass(frozen=True)
class NetworkSpec:
    """Validated network settings; `vpc_id` set means an existing VPC."""

    az_count: int = 2
    nat_gateways: str = "single"
    cidr_block: str = "10.0.0.0/16"
    vpc_endpoints: bool = False
    flow_logs: bool = False
    flow_log_retention_days: int = 365
    protect: bool = False
    permissions_boundary_arn: str | None = None
    vpc_id: Any = None
    public_subnet_ids: Any = None
    private_subnet_ids: Any = None

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None

    def as_args(self) -> NetworkArgs:
        """The arguments that give this spec (new-VPC settings only for a new VPC)."""
        args: dict[str, Any] = {
            "vpc_endpoints": self.vpc_endpoints, "flow_logs": self.flow_logs,
            "flow_log_retention_days": self.flow_log_retention_days, "protect": self.protect}
        if self.permissions_boundary_arn is not None:
            args["permissions_boundary_arn"] = self.permissions_boundary_arn
        if self.existing:
            args.update(vpc_id=self.vpc_id, public_subnet_ids=self.public_subnet_ids,
                        private_subnet_ids=self.private_subnet_ids)
        else:
            args.update(az_count=self.az_count, nat_gateways=self.nat_gateways,
                        cidr_block=self.cidr_block)
        return NetworkArgs(**args)  # type: ignore[typeddict-item]

    def nat_gateway_count(self) -> int:
        return {"none": 0, "single": 1, "one_per_az": self.az_count}[self.nat_gateways]


def subnet_layout(cidr_block: str, az_count: int) -> list[SubnetPlan]:
    """The subnets of a new VPC, per AZ a public /22 then a private /20, as awsx's Auto strategy
    lays them out (the algorithm and its citation live in validation.subnet_layout). Raises
    ValueError if they do not fit."""
    layout = v.subnet_layout(cidr_block, az_count, (PUBLIC_SUBNET_PREFIX, PRIVATE_SUBNET_PREFIX))
    if layout is None:
        raise ValueError(f"{cidr_block} is too small for {az_count} AZs")
    return [SubnetPlan(index, kind, str(subnet)) for index, (public, private) in
            enumerate(layout) for kind, subnet in (("public", public), ("private", private))]


def _subnet_ids(value: Any, setting: str) -> Any:
    """At least two well-formed subnet ids, each once. That they lie in distinct zones only
    the account can tell (a load balancer takes one subnet per zone)."""
    if isinstance(value, str) or not isinstance(value, (Sequence, pulumi.Output)):
        raise ConfigError(setting, value, "at least two subnet ids (subnet-...) in different AZs")
    return v.check_id_list("subnet_id", value if isinstance(value, pulumi.Output) else list(value),
                           setting, minimum=2)


def parse_network_args(raw: Mapping[str, Any] | None, setting: str = "network",
                       region: str | None = None) -> NetworkSpec:
    """Validate network arguments (from Python or stack config) before anything is created.
    With `region`, a new VPC may span at most the zones an account can use there."""
    args = dict(raw or {})
    v.reject_unknown_keys(args, NETWORK_KEYS, setting)
    existing = [k for k in _EXISTING if args.get(k) is not None]
    if existing and len(existing) != len(_EXISTING):
        raise ConfigError(f"{setting}.{existing[0]}", args[existing[0]],
                          "an existing network needs vpc_id, public_subnet_ids and "
                          "private_subnet_ids together")
    if existing:
        ignored = [k for k in _NEW_VPC_ONLY if k in args]
        if ignored:
            raise ConfigError(f"{setting}.{ignored[0]}", args[ignored[0]],
                              "only for a new VPC; with an existing VPC (vpc_id) its own AZs, "
                              "NAT gateways and CIDR apply: remove the setting")
        v.check_input("vpc_id", args["vpc_id"], f"{setting}.vpc_id")
    az_count = v.validate_int_range(args.get("az_count", 2), f"{setting}.az_count", 2, 6)
    if region is not None and not existing:
        zones = usable_zone_count(region)
        if az_count > zones:
            raise ConfigError(f"{setting}.az_count", az_count,
                              f"at most {zones}: the Availability Zones an account can use in "
                              f"{region} ({ZONE_SOURCE})")
    nat = v.validate_choice(args.get("nat_gateways", "single"), f"{setting}.nat_gateways",
                            NAT_STRATEGIES)
    cidr = args.get("cidr_block", "10.0.0.0/16")
    try:
        network = ipaddress.IPv4Network(cidr) if isinstance(cidr, str) else None
    except ValueError:
        network = None
    if network is None or not 16 <= network.prefixlen <= 20:
        raise ConfigError(f"{setting}.cidr_block", cidr, "an IPv4 network CIDR from /16 to /20")
    if not existing:
        v.validate_subnet_layout(cidr, int(str(az_count)), f"{setting}.cidr_block")
    flags = {}
    for key in ("vpc_endpoints", "flow_logs", "protect"):
        flags[key] = args.get(key, False)
        if not isinstance(flags[key], bool):
            raise ConfigError(f"{setting}.{key}", flags[key], "true or false")
    retention = v.validate_choice(args.get("flow_log_retention_days", 365),
                                  f"{setting}.flow_log_retention_days", _RETENTION_DAYS)
    boundary = args.get("permissions_boundary_arn")
    if boundary is not None:
        v.check("iam_policy_arn", boundary, f"{setting}.permissions_boundary_arn")
    return NetworkSpec(
        az_count=int(az_count), nat_gateways=str(nat), cidr_block=cidr,
        vpc_endpoints=flags["vpc_endpoints"], flow_logs=flags["flow_logs"],
        protect=flags["protect"],
        flow_log_retention_days=int(str(retention)), permissions_boundary_arn=boundary,
        vpc_id=args.get("vpc_id"),
        public_subnet_ids=(_subnet_ids(args["public_subnet_ids"], f"{setting}.public_subnet_ids")
                           if existing else None),
        private_subnet_ids=(_private_subnet_ids(args, setting) if existing else None))


def _private_subnet_ids(args: Mapping[str, Any], setting: str) -> Any:
    private = _subnet_ids(args["private_subnet_ids"], f"{setting}.private_subnet_ids")
    public = args["public_subnet_ids"]
    if isinstance(private, list) and isinstance(public, (list, tuple)):
        shared = sorted(set(private) & {s for s in public if isinstance(s, str)}, key=str)
        if shared:
            raise ConfigError(f"{setting}.private_subnet_ids", shared[0],
                              "a subnet that is not also one of public_subnet_ids: tasks run "
                              "privately, the load balancer publicly")
    return private


def flow_log_trust_policy(*, account_id: str, region: str, partition: str = "aws") -> dict:
    """Only the VPC Flow Logs service, and only for this account's flow logs in this region,
    may assume the delivery role (confused-deputy conditions from the VPC User Guide, "IAM role
    for publishing flow logs to CloudWatch Logs")."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn":
                        f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"}}}]}


FLOW_LOG_WITHHELD = {
    "logs:CreateLogGroup": "the group exists before the flow log does (this component creates "
                           "it, encrypted with its own key and with its retention); a group the "
                           "service created itself would have neither",
}
"""Actions the VPC User Guide lists for the delivery role that this role does not get, and why."""


def flow_log_delivery_policy(log_group_arn: str) -> dict:
    """The permissions the VPC User Guide lists for the delivery role ("IAM role for publishing
    flow logs to CloudWatch Logs", all on `*` there), each on the one group this component made:
    DescribeLogGroups has no resource-level permission (Service Authorization Reference, Amazon
    CloudWatch Logs), so it stays on `*`; CreateLogGroup is withheld (FLOW_LOG_WITHHELD)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "FindTheGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": "*"},
        {"Sid": "DescribeThisGroupsStreams", "Effect": "Allow",
         "Action": "logs:DescribeLogStreams", "Resource": log_group_arn},
        {"Sid": "WriteThisGroupsStreams", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:log-stream:*"}]}


def flow_log_key_policy(*, account_id: str, region: str, log_group_arn: str,
                        partition: str = "aws") -> dict:
    """CloudWatch Logs may use the flow-log key for the one flow-log group only."""
    return logs_key_policy(
        account_id=account_id, region=region, sid="CloudWatchLogsForTheFlowLogGroup",
        log_group_condition={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
        partition=partition)


class Network(pulumi.ComponentResource):
    """The VPC a stack runs in: a new one (public and private subnets per AZ, NAT gateways,
    optional endpoints and flow logs) or an existing VPC and its subnets."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    public_subnet_ids: pulumi.Output[Sequence[str]]
    """Public subnets, one per AZ: the load balancer's."""
    private_subnet_ids: pulumi.Output[Sequence[str]]
    """Private subnets, one per AZ: the tasks'."""

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        spec = parse_network_args(args, f"{name}.args", region=aws.config.region)
        super().__init__("shipyard:index:Network", name, None, opts)
        self._name = name
        self._spec = spec
        self._region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        self._account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOptions(parent=self)).account_id
        private_route_tables: pulumi.Input[Sequence[str]]
        if spec.existing:
            self.vpc_id = pulumi.Output.from_input(spec.vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(spec.public_subnet_ids)
            self.private_subnet_ids = pulumi.Output.from_input(spec.private_subnet_ids)
            cidr: pulumi.Input[str] = aws.ec2.get_vpc_output(
                id=self.vpc_id, opts=pulumi.InvokeOptions(parent=self)).cidr_block
            private_route_tables = aws.ec2.get_route_tables_output(
                vpc_id=self.vpc_id, opts=pulumi.InvokeOptions(parent=self)).ids
        else:
            private_route_tables = self._new_vpc(name, spec)
            cidr = spec.cidr_block
        if spec.vpc_endpoints:
            self._endpoints(name, cidr, private_route_tables)
        if spec.flow_logs:
            self._flow_logs(name, spec)
        self.register_outputs({"vpc_id": self.vpc_id,
                               "public_subnet_ids": self.public_subnet_ids,
                               "private_subnet_ids": self.private_subnet_ids})

    def _new_vpc(self, name: str, spec: NetworkSpec) -> pulumi.Output[list[str]]:
        """The resources awsx's Vpc made, with its names and parents: VPC < IGW, subnets;
        subnet < route table, EIP, NAT; route table < association, default route."""
        vpc_name = f"{name}-vpc"
        # The VPC used to be the child of an awsx:ec2:Vpc of the same name under this component.
        # Aliasing it moves it without replacement, and everything under it too: the engine
        # gives each child an alias under each alias of its parent (pulumi/pulumi
        # pkg/resource/deploy/step_generator.go, inheritedChildAlias).
        old_parent = pulumi.create_urn(vpc_name, "awsx:ec2:Vpc", parent=self)
        vpc = aws.ec2.Vpc(
            vpc_name, cidr_block=spec.cidr_block, enable_dns_hostnames=True,
            enable_dns_support=True, tags={"Name": vpc_name},
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=old_parent)]))
        under_vpc = pulumi.ResourceOptions(parent=vpc)
        igw = aws.ec2.InternetGateway(vpc_name, vpc_id=vpc.id, tags={"Name": vpc_name},
                                      opts=under_vpc)
        zones = aws.get_availability_zones_output(opts=pulumi.InvokeOptions(parent=self)).names
        public_ids: list[pulumi.Output[str]] = []
        private_ids: list[pulumi.Output[str]] = []
        private_tables: list[pulumi.Output[str]] = []
        nat_ids: list[pulumi.Output[str]] = []
        for plan in subnet_layout(spec.cidr_block, spec.az_count):
            subnet_name = f"{vpc_name}-{plan.kind}-{plan.az_index + 1}"
            kind = plan.kind.capitalize()
            subnet = aws.ec2.Subnet(
                subnet_name, vpc_id=vpc.id, cidr_block=plan.cidr,
                availability_zone=zones[plan.az_index],
                # Nothing launched in these subnets needs an automatic public IP: the load
                # balancer and NAT gateways get their own addresses.
                map_public_ip_on_launch=False,
                tags={"Name": subnet_name, "SubnetType": kind}, opts=under_vpc)
            table = aws.ec2.RouteTable(subnet_name, vpc_id=vpc.id,
                                       tags={"Name": subnet_name, "SubnetType": kind},
                                       opts=pulumi.ResourceOptions(parent=subnet))
            under_table = pulumi.ResourceOptions(parent=table)
            aws.ec2.RouteTableAssociation(subnet_name, route_table_id=table.id,
                                          subnet_id=subnet.id, opts=under_table)
            if plan.kind == "public":
                public_ids.append(subnet.id)
                if len(nat_ids) < spec.nat_gateway_count():
                    nat_name = f"{vpc_name}-{plan.az_index + 1}"
                    eip = aws.ec2.Eip(nat_name, domain="vpc", tags={"Name": nat_name},
                                      opts=pulumi.ResourceOptions(parent=subnet))
                    nat = aws.ec2.NatGateway(nat_name, subnet_id=subnet.id,
                                             allocation_id=eip.allocation_id,
                                             tags={"Name": nat_name},
                                             opts=pulumi.ResourceOptions(parent=subnet))
                    nat_ids.append(nat.id)
                aws.ec2.Route(subnet_name, route_table_id=table.id, gateway_id=igw.id,
                              destination_cidr_block="0.0.0.0/0", opts=under_table)
            else:
                private_ids.append(subnet.id)
                private_tables.append(table.id)
                if nat_ids:
                    # Public subnets come first in each AZ, so this AZ's NAT (or the single
                    # one) already exists.
                    nat_id = nat_ids[min(plan.az_index, len(nat_ids) - 1)]
                    aws.ec2.Route(subnet_name, route_table_id=table.id, nat_gateway_id=nat_id,
                                  destination_cidr_block="0.0.0.0/0", opts=under_table)
        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*public_ids)
        self.private_subnet_ids = pulumi.Output.all(*private_ids)
        return pulumi.Output.all(*private_tables)

    def _endpoints(self, name: str, vpc_cidr: pulumi.Input[str],
                   route_table_ids: pulumi.Input[Sequence[str]]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg", vpc_id=self.vpc_id,
            description="VPC interface endpoints: HTTPS from inside the VPC", opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-in-https", security_group_id=endpoint_sg.id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4=vpc_cidr,
            description="HTTPS from the VPC", opts=child)
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}", vpc_id=self.vpc_id,
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                service_name=pulumi.Output.concat("com.amazonaws.", self._region, f".{service}"),
                subnet_ids=self.private_subnet_ids, security_group_ids=[endpoint_sg.id],
                opts=child)
        # ECR stores image layers in S3: the gateway endpoint keeps pulls off the NAT.
        aws.ec2.VpcEndpoint(
            f"{name}-s3", vpc_id=self.vpc_id, vpc_endpoint_type="Gateway",
            service_name=pulumi.Output.concat("com.amazonaws.", self._region, ".s3"),
            route_table_ids=route_table_ids, opts=child)

    def _flow_logs(self, name: str, spec: NetworkSpec) -> None:
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=spec.protect)
        # A fixed name, so the key policy and the role can name the group before it exists; it
        # starts with the component's name, like every other resource of the stack, so
        # name-prefix scoped permissions (the delivery project's deploy role) cover it.
        group_name = f"{name}-flow-logs-{pulumi.get_project()}-{pulumi.get_stack()}"
        group_arn = pulumi.Output.concat("arn:aws:logs:", self._region, ":", self._account,
                                         ":log-group:", group_name)
        key = aws.kms.Key(
            f"{name}-flow-logs-key", description=f"VPC flow logs of {name}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.all(self._account, self._region, group_arn).apply(
                lambda a: json.dumps(flow_log_key_policy(account_id=a[0], region=a[1],
                                                         log_group_arn=a[2]))),
            opts=stateful)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", name=group_name,
            retention_in_days=spec.flow_log_retention_days, kms_key_id=key.arn, opts=stateful)
        role = aws.iam.Role(
            f"{name}-flow-logs", description="VPC flow logs delivery to CloudWatch Logs",
            assume_role_policy=pulumi.Output.all(self._account, self._region).apply(
                lambda a: json.dumps(flow_log_trust_policy(account_id=a[0], region=a[1]))),
            permissions_boundary=spec.permissions_boundary_arn, opts=child)
        delivery = aws.iam.RolePolicy(
            f"{name}-flow-logs", role=role.id,
            policy=group_arn.apply(lambda arn: json.dumps(flow_log_delivery_policy(arn))),
            opts=child)
        # The flow log names the role, not its policy: without the edge it can start publishing
        # before the role may write.
        aws.ec2.FlowLog(
            f"{name}-flow-log", vpc_id=self.vpc_id, traffic_type="ALL",
            log_destination_type="cloud-watch-logs", log_destination=group.arn,
            iam_role_arn=role.arn, max_aggregation_interval=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[group, delivery]))
