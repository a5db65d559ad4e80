"""The plan document: what the program would create, the key settings a reviewer checks, every
IAM grant, and the policy verdicts. One structure feeds the text view, `--json` and `--against`.
Secrets are masked and unknowns marked before anything else sees the properties."""

import json
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc

from .analyzer import PolicyRun
from .cost import estimate
from .engine import RecordedResource, Recording

SCHEMA_VERSION = 2
SECRET = "[secret]"
UNKNOWN = "[unknown]"
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

# What a reviewer looks at first, per type: label -> property path.
KEY_SETTINGS: dict[str, dict[str, str]] = {
    "aws:ecs/taskDefinition:TaskDefinition": {
        "cpu": "cpu", "memory": "memory", "architecture": "runtimePlatform.cpuArchitecture",
        "networkMode": "networkMode"},
    "aws:ecs/service:Service": {
        "desiredCount": "desiredCount", "capacity": "capacityProviderStrategies",
        "subnets": "networkConfiguration.subnets",
        "assignPublicIp": "networkConfiguration.assignPublicIp",
        "circuitBreaker": "deploymentCircuitBreaker", "platformVersion": "platformVersion"},
    "aws:lb/loadBalancer:LoadBalancer": {
        "subnets": "subnets", "internal": "internal",
        "deletionProtection": "enableDeletionProtection", "accessLogs": "accessLogs",
        "dropInvalidHeaderFields": "dropInvalidHeaderFields"},
    "aws:lb/listener:Listener": {
        "port": "port", "protocol": "protocol", "sslPolicy": "sslPolicy",
        "certificateArn": "certificateArn", "action": "defaultActions"},
    "aws:lb/targetGroup:TargetGroup": {
        "port": "port", "targetType": "targetType", "healthCheck": "healthCheck",
        "deregistrationDelay": "deregistrationDelay"},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        "ports": "fromPort", "toPort": "toPort", "cidr": "cidrIpv4",
        "fromGroup": "referencedSecurityGroupId"},
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        "ports": "fromPort", "toPort": "toPort", "cidr": "cidrIpv4",
        "toGroup": "referencedSecurityGroupId"},
    "aws:ecr/repository:Repository": {
        "tagMutability": "imageTagMutability", "scanOnPush": "imageScanningConfiguration.scanOnPush",
        "encryption": "encryptionConfigurations"},
    "aws:cloudwatch/logGroup:LogGroup": {"retentionDays": "retentionInDays"},
    "docker:index/image:Image": {"image": "imageName", "platform": "build.platform"},
    "aws:appautoscaling/target:Target": {"min": "minCapacity", "max": "maxCapacity"},
    "aws:ec2/vpc:Vpc": {"cidr": "cidrBlock"},
    "aws:ec2/subnet:Subnet": {"cidr": "cidrBlock", "az": "availabilityZone",
                              "publicIpOnLaunch": "mapPublicIpOnLaunch"},
    "aws:ec2/route:Route": {"destination": "destinationCidrBlock", "internetGateway": "gatewayId",
                            "natGateway": "natGatewayId"},
    "aws:ec2/natGateway:NatGateway": {"subnet": "subnetId"},
    "aws:ec2/vpcEndpoint:VpcEndpoint": {"service": "serviceName", "type": "vpcEndpointType",
                                        "subnets": "subnetIds"},
    "aws:ec2/flowLog:FlowLog": {"traffic": "trafficType", "destination": "logDestinationType"},
    "aws:kms/key:Key": {"rotation": "enableKeyRotation"},
    "pulumi-python:dynamic:Resource": {"repository": "repository", "maxCritical": "max_critical",
                                       "maxHigh": "max_high", "timeoutSeconds": "timeout_seconds"},
}


DYNAMIC_PROVIDER = "[dynamic provider code]"
# A docker.Image is registered only when its source tag is missing from the repository
# (components/shipyard/service_image.py): the plan lists what `up` does (docs/deploying.md).
BUILT_IF_MISSING = ("built if missing: the repository lacks this source tag, so `up` builds "
                    "and pushes it")


def clean(value: Any) -> Any:
    """Mask secrets and mark unknowns in a decoded property value."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG_KEY) == _SECRET_SIG:
            return SECRET
        # A dynamic resource carries its provider as serialized code: not for reading.
        return {k: DYNAMIC_PROVIDER if k == "__provider" else clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def properties(resource: RecordedResource) -> dict:
    return clean(json_format.MessageToDict(resource.properties))


def _at(props: dict, path: str) -> Any:
    value: Any = props
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _containers(props: dict) -> list[dict]:
    raw = props.get("containerDefinitions")
    if raw in (None, SECRET, UNKNOWN):
        return [{"definitions": raw}] if raw else []
    return [{"name": c.get("name"), "image": c.get("image"), "user": c.get("user"),
             "readonlyRootFilesystem": c.get("readonlyRootFilesystem"),
             "ports": [p.get("containerPort") for p in c.get("portMappings", [])],
             "secrets": {s["name"]: s["valueFrom"] for s in c.get("secrets", [])},
             "environment": sorted(e["name"] for e in c.get("environment", []))}
            for c in json.loads(raw)]


def key_settings(resource: RecordedResource, props: dict) -> dict:
    settings = {label: _at(props, path)
                for label, path in KEY_SETTINGS.get(resource.type, {}).items()}
    if resource.type == "aws:ecs/taskDefinition:TaskDefinition":
        settings["containers"] = _containers(props)
    if resource.type == "docker:index/image:Image":
        settings["build"] = BUILT_IF_MISSING
    if resource.custom_timeouts:
        settings["timeouts"] = dict(resource.custom_timeouts)
    return {k: v for k, v in settings.items() if v is not None}


def _document(raw: Any) -> dict | None:
    if not isinstance(raw, str) or raw in (SECRET, UNKNOWN):
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else ([] if value is None else [value])


def iam_summary(recording: Recording) -> list[dict]:
    """Every identity grant: which role, which actions on which resources; wildcards flagged."""
    roles = {r.urn: r for r in recording.resources if r.type == "aws:iam/role:Role"}
    grants = []
    for resource in sorted(recording.resources, key=lambda r: r.urn):
        if resource.type not in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
            continue
        props = properties(resource)
        role_urns = resource.property_dependencies.get("role", [])
        role = roles[role_urns[0]].name if role_urns and role_urns[0] in roles else props.get("role")
        document = _document(props.get("policy"))
        statements = []
        for statement in _as_list((document or {}).get("Statement")):
            resources = _as_list(statement.get("Resource")) or [
                f"NOT {r}" for r in _as_list(statement.get("NotResource"))]
            statements.append({
                "effect": statement.get("Effect"),
                "actions": _as_list(statement.get("Action")) or [
                    f"NOT {a}" for a in _as_list(statement.get("NotAction"))],
                "resources": resources,
                # "*" alone (or NotResource) reaches everything; "name/*" stays inside a name.
                "wildcard": any(str(r) == "*" or str(r).startswith("NOT ") for r in resources),
                "scopedWildcard": any("*" in str(r) and str(r) != "*" for r in resources),
            })
        grants.append({"role": role, "policy": resource.name, "urn": resource.urn,
                       "statements": statements,
                       "unreadable": document is None})
    return grants


def build_plan(recording: Recording, policy_run: PolicyRun | None,
               policy_config_source: str = "") -> dict:
    resources = []
    # Registration order depends on asynchronous resolution; URN order is stable across runs.
    for resource in sorted(recording.resources, key=lambda r: r.urn):
        props = properties(resource)
        resources.append({
            "urn": resource.urn, "type": resource.type, "name": resource.name,
            "parent": resource.parent or None, "custom": resource.custom,
            "protect": resource.protect, "ignoreChanges": resource.ignore_changes,
            "dependencies": sorted(resource.dependencies),
            "keySettings": key_settings(resource, props), "properties": props,
        })
    plan: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION, "project": recording.stack.project,
        "stack": recording.stack.stack, "previewUnknowns": recording.preview_unknowns,
        "resourceCount": len(resources), "resources": resources,
        "iam": iam_summary(recording), "outputs": recording.outputs,
        "cost": estimate(resources, recording.stack.region),
    }
    if policy_run is not None:
        verdicts = [{"policy": v.policy, "enforcementLevel": v.enforcement_level,
                     "severity": v.severity, "urn": v.urn, "message": v.message,
                     "remediation": v.remediation, "url": v.url} for v in policy_run.verdicts]
        plan["policy"] = {
            "pack": policy_run.pack_name, "version": policy_run.pack_version,
            "config": policy_config_source,
            "policies": len(policy_run.policies), "levels": policy_run.levels,
            "verdicts": verdicts,
            "skipped": [{"policy": s.policy, "urn": s.urn, "message": s.message}
                        for s in policy_run.skipped],
            "mandatoryViolations": sum(v["enforcementLevel"] == "mandatory" for v in verdicts),
            "advisoryViolations": sum(v["enforcementLevel"] == "advisory" for v in verdicts),
        }
    return plan
