"""An estimated monthly cost of the plan, line by line, per service and per stack, from the
price table in `prices.json` (region coverage, sources and date inside it) and the assumptions
it states. Works on the plan's resources, so any program's plan is priced the same way; resources
the table does not price are left out and the table says which."""

import json
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")
SHARED = "stack (shared)"
_SERVICE_COMPONENT = "shipyard:index:ContainerService"


@cache
def price_table() -> dict:
    return json.loads(PRICES_FILE.read_text())


def cents(amount: float) -> float:
    """Half-up to the cent, as a person checking the figure by hand would round."""
    return float(Decimal(repr(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _line(owner: str, item: str, quantity: str, monthly: float) -> dict:
    return {"service": owner, "item": item, "quantity": quantity, "monthly": cents(monthly)}


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _owners(resources: list[dict]) -> dict[str, str]:
    """URN -> the ContainerService it belongs to (by name), or the shared stack."""
    by_urn = {r["urn"]: r for r in resources}
    owners: dict[str, str] = {}
    for resource in resources:
        owner: str = SHARED
        current: dict | None = resource
        while current is not None:
            if current["type"] == _SERVICE_COMPONENT:
                owner = current["name"]
                break
            current = by_urn.get(current.get("parent") or "")
        owners[resource["urn"]] = owner
    return owners


def _spot_share(strategies: Any) -> float:
    """Fraction of tasks on FARGATE_SPOT, from the capacity provider weights."""
    if not isinstance(strategies, list) or not strategies:
        return 0.0
    weights = {s.get("capacityProvider"): _number(s.get("weight"), 0) for s in strategies
               if isinstance(s, dict)}
    total = sum(weights.values())
    return weights.get("FARGATE_SPOT", 0) / total if total else 0.0


def _fargate(owner: str, service: dict, task: dict, region: dict, assume: dict,
             hours: float) -> Iterable[dict]:
    props, task_props = service["properties"], task["properties"]
    tasks = _number(props.get("desiredCount"), 1)
    vcpu = _number(task_props.get("cpu"), 0) / 1024
    memory_gb = _number(task_props.get("memory"), 0) / 1024
    arch = (task_props.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64"
    rates = region["fargate"].get(arch)
    if rates is None:
        return
    spot = _spot_share(props.get("capacityProviderStrategies"))
    factor = 1 - spot * assume["spotDiscount"]
    capacity = ("on demand" if spot == 0 else "Spot" if spot == 1
                else f"{spot:.0%} Spot")
    what = f"{tasks:g} task{'s' if tasks != 1 else ''}"
    yield _line(owner, f"Fargate {arch} vCPU, {capacity}",
                f"{what} x {vcpu:g} vCPU x {hours:g} h x ${rates['vcpuHour']:g}"
                + (f" x {factor:g}" if spot else ""),
                tasks * vcpu * hours * rates["vcpuHour"] * factor)
    yield _line(owner, f"Fargate {arch} memory, {capacity}",
                f"{what} x {memory_gb:g} GB x {hours:g} h x ${rates['gbHour']:g}"
                + (f" x {factor:g}" if spot else ""),
                tasks * memory_gb * hours * rates["gbHour"] * factor)


def _log_group(owner: str, resource: dict, flow_log: bool, region: dict,
               assume: dict) -> Iterable[dict]:
    retention = _number(resource["properties"].get("retentionInDays"), 0)
    months = retention * 12 / 365 if retention else 12
    if flow_log:
        gb, rate, label = assume["flowLogGbPerMonth"], region["vendedLogsIngestGb"], "flow logs"
    else:
        gb, rate, label = assume["serviceLogGbPerMonth"], region["logsIngestGb"], "logs"
    name = resource["name"]
    yield _line(owner, f"CloudWatch {label} ingestion ({name})", f"{gb:g} GB x ${rate}",
                gb * rate)
    stored = gb * months
    yield _line(owner, f"CloudWatch {label} storage ({name})",
                f"{stored:.2f} GB ({gb:g} GB x {retention:g} days retention) x "
                f"${region['logsStorageGbMonth']:g}", stored * region["logsStorageGbMonth"])


def estimate(resources: list[dict], region_name: str) -> dict:
    """The cost section of the plan: lines, per-service and stack totals, assumptions."""
    table = price_table()
    assume = table["assumptions"]
    coverage = sorted(table["regions"])
    document: dict[str, Any] = {
        "region": region_name, "currency": table["currency"], "priceDate": table["date"],
        "regionsCovered": coverage, "sources": table["sources"],
        "assumptions": table["assumptionNotes"], "lines": [], "perService": {},
        "monthlyTotal": None}
    region = table["regions"].get(region_name)
    if region is None:
        document["unpriced"] = f"no prices for {region_name}; the table covers " \
                               + ", ".join(coverage)
        return document
    hours = float(table["hoursPerMonth"])
    owners = _owners(resources)
    by_urn = {r["urn"]: r for r in resources}
    flow_log_groups = {d for r in resources if r["type"] == "aws:ec2/flowLog:FlowLog"
                       for d in r["dependencies"]}
    lines: list[dict] = []
    for resource in resources:
        owner, props, kind = owners[resource["urn"]], resource["properties"], resource["type"]
        if kind == "aws:ecs/service:Service":
            task = next((by_urn[d] for d in resource["dependencies"] if d in by_urn and by_urn[d][
                "type"] == "aws:ecs/taskDefinition:TaskDefinition"), None)
            if task is not None:
                lines += _fargate(owner, resource, task, region, assume, hours)
        elif kind == "aws:lb/loadBalancer:LoadBalancer" and props.get(
                "loadBalancerType", "application") == "application":
            name = resource["name"]
            lines.append(_line(owner, f"Application Load Balancer ({name})",
                               f"{hours:g} h x ${region['albHour']:g}", hours * region["albHour"]))
            lcu = assume["albLcuPerHour"]
            lines.append(_line(owner, f"Load balancer capacity units ({name})",
                               f"{lcu:g} LCU x {hours:g} h x ${region['lcuHour']:g}",
                               lcu * hours * region["lcuHour"]))
            if not props.get("internal"):
                addresses = len(props.get("subnets") or []) * assume["albPublicIpv4PerSubnet"]
                lines.append(_line(owner, f"Public IPv4 addresses ({name})",
                                   f"{addresses} x {hours:g} h x ${region['publicIpv4Hour']:g}",
                                   addresses * hours * region["publicIpv4Hour"]))
        elif kind == "aws:ec2/natGateway:NatGateway":
            name = resource["name"]
            lines.append(_line(owner, f"NAT gateway ({name})",
                               f"{hours:g} h x ${region['natHour']:g}", hours * region["natHour"]))
            gb = assume["natGbPerMonth"]
            lines.append(_line(owner, f"NAT gateway data ({name})", f"{gb:g} GB x "
                               f"${region['natGb']:g}", gb * region["natGb"]))
        elif kind == "aws:ec2/eip:Eip":
            lines.append(_line(owner, f"Public IPv4 address ({resource['name']})",
                               f"{hours:g} h x ${region['publicIpv4Hour']:g}",
                               hours * region["publicIpv4Hour"]))
        elif kind == "aws:ec2/vpcEndpoint:VpcEndpoint" and props.get(
                "vpcEndpointType") == "Interface":
            azs = len(props.get("subnetIds") or [])
            name = resource["name"]
            lines.append(_line(owner, f"Interface endpoint ({name})",
                               f"{azs} AZ x {hours:g} h x ${region['interfaceEndpointAzHour']:g}",
                               azs * hours * region["interfaceEndpointAzHour"]))
            gb = assume["interfaceEndpointGbPerMonth"]
            lines.append(_line(owner, f"Interface endpoint data ({name})",
                               f"{gb:g} GB x ${region['interfaceEndpointGb']:g}",
                               gb * region["interfaceEndpointGb"]))
        elif kind == "aws:kms/key:Key":
            lines.append(_line(owner, f"KMS key ({resource['name']})",
                               f"1 x ${region['kmsKeyMonth']:g}", region["kmsKeyMonth"]))
        elif kind == "aws:secretsmanager/secret:Secret":
            lines.append(_line(owner, f"Secrets Manager secret ({resource['name']})",
                               f"1 x ${region['secretMonth']:g}", region["secretMonth"]))
        elif kind == "aws:cloudwatch/logGroup:LogGroup":
            lines += _log_group(owner, resource, resource["urn"] in flow_log_groups, region,
                                assume)
        elif kind == "aws:wafv2/webAcl:WebAcl":
            rules = len(props.get("rules") or [])
            requests = assume["wafMillionRequestsPerMonth"]
            name = resource["name"]
            lines.append(_line(owner, f"WAF web ACL ({name})", f"1 x ${region['wafWebAclMonth']:g}",
                               region["wafWebAclMonth"]))
            lines.append(_line(owner, f"WAF rules ({name})", f"{rules} x ${region['wafRuleMonth']:g}",
                               rules * region["wafRuleMonth"]))
            lines.append(_line(owner, f"WAF requests ({name})",
                               f"{requests:g} million x ${region['wafMillionRequests']:g}",
                               requests * region["wafMillionRequests"]))
    lines.sort(key=lambda line: (line["service"] == SHARED, line["service"], line["item"]))
    per_service: dict[str, float] = {}
    for line in lines:
        per_service[line["service"]] = cents(per_service.get(line["service"], 0) + line["monthly"])
    document.update(lines=lines, perService=per_service,
                    monthlyTotal=cents(sum(line["monthly"] for line in lines)))
    return document


def cost_delta(before: dict | None, after: dict) -> dict:
    """Per-service and total change of the monthly estimate against a saved plan's."""
    old = (before or {}).get("perService") or {}
    new = after.get("perService") or {}
    changes = {name: cents(new.get(name, 0) - old.get(name, 0))
               for name in sorted(set(old) | set(new))
               if cents(new.get(name, 0) - old.get(name, 0)) != 0}
    old_total = (before or {}).get("monthlyTotal")
    new_total = after.get("monthlyTotal")
    total = (cents(new_total - old_total)
             if isinstance(old_total, (int, float)) and isinstance(new_total, (int, float))
             else None)
    return {"before": old_total, "after": new_total, "delta": total, "perService": changes}


def render_cost(cost: dict) -> list[str]:
    header = f"Estimated monthly cost ({cost['currency']}, {cost['region']}, prices of " \
             f"{cost['priceDate']})"
    if cost.get("unpriced"):
        return [header, f"  {cost['unpriced']}"]
    lines = [header]
    current = None
    for line in cost["lines"]:
        if line["service"] != current:
            current = line["service"]
            lines.append(f"  {current}: ${cost['perService'][current]:.2f}")
        lines.append(f"      {line['item']}: {line['quantity']} = ${line['monthly']:.2f}")
    lines.append(f"  total: ${cost['monthlyTotal']:.2f} per month")
    lines.append("  assumptions:")
    lines += [f"      {key}: {note}" for key, note in cost["assumptions"].items()]
    return lines


def render_cost_delta(delta: dict) -> list[str]:
    if delta["delta"] is None:
        return ["Cost against the saved plan: not comparable (one side has no estimate)"]
    lines = [(f"Cost against the saved plan: ${delta['before']:.2f} => ${delta['after']:.2f} "
              f"per month ({delta['delta']:+.2f})")]
    lines += [f"  {name}: {change:+.2f}" for name, change in delta["perService"].items()]
    return lines
