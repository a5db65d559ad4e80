"""An optional Route 53 alias record for a load balancer: an A alias costs nothing per query
when it points at an ELB (Route 53 pricing, "Alias queries to ELB are free")."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .topology import DnsSpec


def alias_record(name: str, dns: DnsSpec, dns_name: pulumi.Input[str],
                 zone_id: pulumi.Input[str], parent: pulumi.Resource) -> aws.route53.Record:
    return aws.route53.Record(
        f"{name}-dns", zone_id=dns.zone_id, name=dns.name, type="A",
        aliases=[aws.route53.RecordAliasArgs(name=dns_name, zone_id=zone_id,
                                             evaluate_target_health=True)],
        opts=pulumi.ResourceOptions(parent=parent))
