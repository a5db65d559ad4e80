"""The VPC a stack runs in: a new awsx VPC (public + private subnets, NAT per config) or an
existing VPC and subnets. Optional interface/gateway endpoints keep image pulls, secrets and logs
off the NAT."""

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
NAT_STRATEGIES = {"none": awsx.ec2.NatGatewayStrategy.NONE,
                  "single": awsx.ec2.NatGatewayStrategy.SINGLE,
                  "one_per_az": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ}


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[Sequence[str]]
    private_subnet_ids: pulumi.Output[Sequence[str]]

    def __init__(self, name: str, *, az_count: int = 2, nat_gateways: str = "single",
                 cidr_block: str = "10.0.0.0/16", vpc_endpoints: bool = False,
                 existing_vpc_id: str | None = None,
                 existing_public_subnet_ids: list[str] | None = None,
                 existing_private_subnet_ids: list[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:index:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if existing_vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(existing_vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(existing_public_subnet_ids or [])
            self.private_subnet_ids = pulumi.Output.from_input(existing_private_subnet_ids or [])
            cidr = aws.ec2.get_vpc_output(id=existing_vpc_id,
                                          opts=pulumi.InvokeOptions(parent=self)).cidr_block
        else:
            vpc = awsx.ec2.Vpc(
                f"{name}-vpc", cidr_block=cidr_block, number_of_availability_zones=az_count,
                enable_dns_hostnames=True, enable_dns_support=True,
                nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                    strategy=NAT_STRATEGIES[nat_gateways]),
                subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
                subnet_specs=[
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC, cidr_mask=22),
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE, cidr_mask=20),
                ],
                opts=child)
            self.vpc_id = vpc.vpc_id
            self.public_subnet_ids = vpc.public_subnet_ids
            self.private_subnet_ids = vpc.private_subnet_ids
            cidr = pulumi.Output.from_input(cidr_block)
        if vpc_endpoints:
            self._endpoints(name, cidr)
        self.register_outputs({"vpc_id": self.vpc_id,
                               "public_subnet_ids": self.public_subnet_ids,
                               "private_subnet_ids": self.private_subnet_ids})

    def _endpoints(self, name: str, vpc_cidr: pulumi.Input[str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
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
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                subnet_ids=self.private_subnet_ids, security_group_ids=[endpoint_sg.id],
                opts=child)
        route_tables = aws.ec2.get_route_tables_output(
            vpc_id=self.vpc_id, opts=pulumi.InvokeOptions(parent=self))
        # ECR stores image layers in S3: the gateway endpoint keeps pulls off the NAT.
        aws.ec2.VpcEndpoint(
            f"{name}-s3", vpc_id=self.vpc_id, vpc_endpoint_type="Gateway",
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            route_table_ids=route_tables.ids, opts=child)
