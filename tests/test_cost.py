"""The cost estimate against figures computed by hand from prices.json (us-east-1) and its
stated assumptions. Resources are shaped as the plan records them (camelCase inputs)."""

import json

import pytest

from shipyard_preview.cost import (
    PRICES_FILE,
    SHARED,
    cost_delta,
    estimate,
    render_cost,
    render_cost_delta,
)

STACK = "urn:pulumi:s::p::"


def res(type_: str, name: str, parent: str | None = None, deps: tuple = (), **props) -> dict:
    chain = ("shipyard:index:ContainerService$" if parent else "")
    return {"urn": f"{STACK}{chain}{type_}::{name}", "type": type_, "name": name,
            "parent": parent, "dependencies": list(deps), "properties": props}


def sample() -> list[dict]:
    api = res("shipyard:index:ContainerService", "api")
    worker = res("shipyard:index:ContainerService", "worker")
    api_task = res("aws:ecs/taskDefinition:TaskDefinition", "api-task", api["urn"], cpu="512",
                   memory="1024", runtimePlatform={"cpuArchitecture": "ARM64"})
    worker_task = res("aws:ecs/taskDefinition:TaskDefinition", "worker-task", worker["urn"],
                      cpu="256", memory="512")
    flow_group = res("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs", retentionInDays=365)
    return [
        api, worker, api_task, worker_task, flow_group,
        res("aws:ecs/service:Service", "api-service", api["urn"], (api_task["urn"],),
            desiredCount=3, capacityProviderStrategies=[{"capacityProvider": "FARGATE",
                                                         "weight": 1}]),
        res("aws:ecs/service:Service", "worker-service", worker["urn"], (worker_task["urn"],),
            desiredCount=2, capacityProviderStrategies=[{"capacityProvider": "FARGATE_SPOT",
                                                         "weight": 1}]),
        res("aws:lb/loadBalancer:LoadBalancer", "api-alb", api["urn"], internal=False,
            subnets=["subnet-aaaaaaaa", "subnet-bbbbbbbb"]),
        res("aws:kms/key:Key", "api-key", api["urn"]),
        res("aws:secretsmanager/secret:Secret", "api-token", api["urn"]),
        res("aws:cloudwatch/logGroup:LogGroup", "api-logs", api["urn"], retentionInDays=30),
        res("aws:wafv2/webAcl:WebAcl", "api-waf", api["urn"], rules=[{}, {}, {}, {}]),
        res("aws:ec2/natGateway:NatGateway", "net-vpc-1"),
        res("aws:ec2/eip:Eip", "net-vpc-1"),
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "net-logs", vpcEndpointType="Interface",
            subnetIds=["a", "b", "c"]),
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3", vpcEndpointType="Gateway"),
        res("aws:ec2/flowLog:FlowLog", "net-flow-log", deps=(flow_group["urn"],)),
        res("aws:s3/bucket:Bucket", "logs-bucket"),
    ]


def test_every_line_matches_the_hand_computed_figure():
    cost = estimate(sample(), "us-east-1")
    lines = {(line["service"], line["item"]): line["monthly"] for line in cost["lines"]}
    assert lines == {
        # 3 tasks x 0.5 vCPU x 730 h x 0.03238 = 35.4561; 3 x 1 GB x 730 x 0.00356 = 7.7964
        ("api", "Fargate ARM64 vCPU, on demand"): 35.46,
        ("api", "Fargate ARM64 memory, on demand"): 7.80,
        # 730 x 0.0225 = 16.425 (half up); 1 LCU x 730 x 0.008; 2 addresses x 730 x 0.005
        ("api", "Application Load Balancer (api-alb)"): 16.43,
        ("api", "Load balancer capacity units (api-alb)"): 5.84,
        ("api", "Public IPv4 addresses (api-alb)"): 7.30,
        ("api", "KMS key (api-key)"): 1.00,
        ("api", "Secrets Manager secret (api-token)"): 0.40,
        # 5 GB x 0.50; 5 GB x 30 days x 12/365 months = 4.93 GB x 0.03 = 0.1479
        ("api", "CloudWatch logs ingestion (api-logs)"): 2.50,
        ("api", "CloudWatch logs storage (api-logs)"): 0.15,
        ("api", "WAF web ACL (api-waf)"): 5.00,
        ("api", "WAF rules (api-waf)"): 4.00,
        ("api", "WAF requests (api-waf)"): 6.00,
        # 2 tasks x 0.25 x 730 x 0.04048 x 0.3 = 4.43256; 2 x 0.5 x 730 x 0.004445 x 0.3 = 0.9735
        ("worker", "Fargate X86_64 vCPU, Spot"): 4.43,
        ("worker", "Fargate X86_64 memory, Spot"): 0.97,
        (SHARED, "NAT gateway (net-vpc-1)"): 32.85,
        (SHARED, "NAT gateway data (net-vpc-1)"): 4.50,
        (SHARED, "Public IPv4 address (net-vpc-1)"): 3.65,
        # 3 AZs x 730 x 0.01; 10 GB x 0.01; the gateway endpoint is free
        (SHARED, "Interface endpoint (net-logs)"): 21.90,
        (SHARED, "Interface endpoint data (net-logs)"): 0.10,
        # vended-log rate 20 GB x 0.50; 20 GB x 12 months x 0.03
        (SHARED, "CloudWatch flow logs ingestion (net-flow-logs)"): 10.00,
        (SHARED, "CloudWatch flow logs storage (net-flow-logs)"): 7.20,
    }
    assert cost["perService"] == {"api": 91.88, "worker": 5.40, SHARED: 80.20}
    assert cost["monthlyTotal"] == 177.48


def test_the_quantity_says_how_the_figure_was_computed():
    lines = {line["item"]: line["quantity"] for line in estimate(sample(), "us-east-1")["lines"]}
    assert lines["Fargate X86_64 vCPU, Spot"] == "2 tasks x 0.25 vCPU x 730 h x $0.04048 x 0.3"
    assert lines["Interface endpoint (net-logs)"] == "3 AZ x 730 h x $0.01"
    assert lines["CloudWatch logs storage (api-logs)"] == (
        "4.93 GB (5 GB x 30 days retention) x $0.03")


def test_region_outside_the_table_gets_no_guess():
    cost = estimate(sample(), "ap-south-2")
    assert cost["monthlyTotal"] is None and cost["lines"] == []
    assert cost["unpriced"] == "no prices for ap-south-2; the table covers eu-west-1, us-east-1"
    assert render_cost(cost)[1] == "  no prices for ap-south-2; the table covers eu-west-1, us-east-1"


def test_price_table_names_its_sources_date_and_coverage():
    table = json.loads(PRICES_FILE.read_text())
    assert table["date"] and table["hoursPerMonth"] == 730
    assert sorted(table["regions"]) == ["eu-west-1", "us-east-1"]
    for key in ("fargate", "loadBalancer", "natGateway", "interfaceEndpoint", "kms",
                "secretsManager", "cloudwatchLogs", "waf", "publicIpv4"):
        assert table["sources"][key].startswith("https://aws.amazon.com/"), key
    for region in table["regions"].values():
        assert set(region["fargate"]) == {"X86_64", "ARM64"}
    # every assumption used in the arithmetic is explained in words
    assert set(table["assumptions"]) <= set(table["assumptionNotes"])


def test_mixed_capacity_is_weighted():
    resources = sample()
    service = next(r for r in resources if r["name"] == "worker-service")
    service["properties"]["capacityProviderStrategies"] = [
        {"capacityProvider": "FARGATE", "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
    lines = {line["item"]: line for line in estimate(resources, "us-east-1")["lines"]}
    # 75 % Spot: factor 1 - 0.75 x 0.7 = 0.475; 14.7752 x 0.475 = 7.01822
    assert lines["Fargate X86_64 vCPU, 75% Spot"]["monthly"] == 7.02


def test_delta_against_a_saved_estimate():
    before = estimate(sample(), "us-east-1")
    resources = sample()
    next(r for r in resources if r["name"] == "api-service")["properties"]["desiredCount"] = 4
    after = estimate(resources, "us-east-1")
    delta = cost_delta(before, after)
    # 4 tasks: vCPU 4 x 0.5 x 730 x 0.03238 = 47.2748 -> 47.27 (was 35.46);
    # memory 4 x 1 x 730 x 0.00356 = 10.3952 -> 10.40 (was 7.80): +11.81 +2.60
    assert delta == {"before": 177.48, "after": 191.89, "delta": 14.41,
                     "perService": {"api": 14.41}}
    assert render_cost_delta(delta) == [
        "Cost against the saved plan: $177.48 => $191.89 per month (+14.41)", "  api: +14.41"]


@pytest.mark.parametrize("saved", [None, {}, {"monthlyTotal": None}])
def test_delta_without_a_saved_estimate_says_so(saved):
    delta = cost_delta(saved, estimate(sample(), "us-east-1"))
    assert delta["delta"] is None
    assert render_cost_delta(delta) == [
        "Cost against the saved plan: not comparable (one side has no estimate)"]
