"""What the delivery roles may do.

- The deploy role manages only what the shipyard program creates: resources whose names start
  with the configured prefixes (Pulumi's auto-names start with the logical name), and where AWS
  names nothing at create time (EC2 networking, KMS keys, task definitions, scaling targets),
  requests in the stack's region carrying the project's tag.
- It may create roles only with the workload boundary attached, so it cannot mint a role more
  powerful than the boundary, and may pass roles only to ECS tasks.
- The boundary is the most any workload role may ever do.
- The preview role reads what `pulumi preview` reads: the data sources the program calls."""

from .settings import DeliverySettings

TAG_KEY = "project"


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _arns(settings: DeliverySettings, service: str, pattern: str) -> list[str]:
    region, account = settings.aws_region, settings.aws_account_id
    return [f"arn:aws:{service}:{region}:{account}:{pattern.format(p=p)}"
            for p in settings.resource_prefixes]


def boundary_arn(settings: DeliverySettings) -> str:
    return f"arn:aws:iam::{settings.aws_account_id}:policy/{settings.app_project}-workload-boundary"


def workload_boundary(settings: DeliverySettings) -> dict:
    """The ceiling for every role the program creates (execution and task roles)."""
    region, account = settings.aws_region, settings.aws_account_id
    return _doc(
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        {"Sid": "PullOwnImages", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer"],
         "Resource": _arns(settings, "ecr", "repository/{p}-*")},
        {"Sid": "WriteOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": _arns(settings, "logs", "log-group:{p}-*:log-stream:*")},
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": _arns(settings, "secretsmanager", "secret:{p}-*")},
        {"Sid": "DecryptProjectKeys", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": f"arn:aws:kms:{region}:{account}:key/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_KEY}": settings.app_project}}},
        {"Sid": "EcsExecChannel", "Effect": "Allow",
         "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
         "Resource": "*"},
    )


def deploy_policy(settings: DeliverySettings, *, deploy_role_arns: list[str]) -> dict:
    region, account = settings.aws_region, settings.aws_account_id
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    tagged_request = {"StringEquals": {"aws:RequestedRegion": region,
                                       f"aws:RequestTag/{TAG_KEY}": settings.app_project}}
    tagged_resource = {"StringEquals": {f"aws:ResourceTag/{TAG_KEY}": settings.app_project}}
    boundary = boundary_arn(settings)
    roles = [f"arn:aws:iam::{account}:role/{p}-*" for p in settings.resource_prefixes]
    return _doc(
        {"Sid": "ReadForRefreshAndPreview", "Effect": "Allow",
         "Action": ["ec2:Describe*", "elasticloadbalancing:Describe*", "ecs:Describe*",
                    "ecs:List*", "application-autoscaling:Describe*", "logs:Describe*",
                    "logs:ListTagsForResource", "kms:ListAliases", "s3:ListAllMyBuckets"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        {"Sid": "OwnRepositories", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload", "ecr:CreateRepository", "ecr:DeleteRepository",
                    "ecr:DeleteLifecyclePolicy", "ecr:DescribeImageScanFindings",
                    "ecr:DescribeImages", "ecr:DescribeRepositories",
                    "ecr:GetDownloadUrlForLayer", "ecr:GetLifecyclePolicy",
                    "ecr:InitiateLayerUpload", "ecr:ListTagsForResource", "ecr:PutImage",
                    "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
                    "ecr:PutLifecyclePolicy", "ecr:TagResource", "ecr:UntagResource",
                    "ecr:UploadLayerPart"],
         "Resource": _arns(settings, "ecr", "repository/{p}-*")},
        {"Sid": "NetworkInRegion", "Effect": "Allow",
         "Action": ["ec2:AllocateAddress", "ec2:AssociateRouteTable", "ec2:AttachInternetGateway",
                    "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:CreateInternetGateway", "ec2:CreateNatGateway", "ec2:CreateRoute",
                    "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet",
                    "ec2:CreateTags", "ec2:CreateVpc", "ec2:CreateVpcEndpoint",
                    "ec2:ModifySecurityGroupRules", "ec2:ModifySubnetAttribute",
                    "ec2:ModifyVpcAttribute", "ec2:ModifyVpcEndpoint"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "NetworkTeardownOfOwnResources", "Effect": "Allow",
         "Action": ["ec2:DeleteInternetGateway", "ec2:DeleteNatGateway", "ec2:DeleteRoute",
                    "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet",
                    "ec2:DeleteTags", "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints",
                    "ec2:DetachInternetGateway", "ec2:DisassociateRouteTable",
                    "ec2:ReleaseAddress", "ec2:RevokeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress"],
         "Resource": "*", "Condition": tagged_resource},
        {"Sid": "OwnLoadBalancers", "Effect": "Allow",
         "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets"],
         "Resource": (_arns(settings, "elasticloadbalancing", "loadbalancer/app/{p}-*/*")
                      + _arns(settings, "elasticloadbalancing", "targetgroup/{p}-*/*")
                      + _arns(settings, "elasticloadbalancing", "listener/app/{p}-*/*"))},
        {"Sid": "OwnClustersAndServices", "Effect": "Allow",
         "Action": ["ecs:CreateCluster", "ecs:CreateService", "ecs:DeleteCluster",
                    "ecs:DeleteService", "ecs:PutClusterCapacityProviders", "ecs:TagResource",
                    "ecs:UntagResource", "ecs:UpdateCluster", "ecs:UpdateClusterSettings",
                    "ecs:UpdateService"],
         "Resource": (_arns(settings, "ecs", "cluster/{p}-*")
                      + _arns(settings, "ecs", "service/*/{p}-*")
                      # Task definition families are the service names (tags on register).
                      + _arns(settings, "ecs", "task-definition/{p}:*"))},
        {"Sid": "TaskDefinitionsInRegion", "Effect": "Allow",
         "Action": ["ecs:DeregisterTaskDefinition", "ecs:RegisterTaskDefinition"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "OwnLogGroups", "Effect": "Allow",
         "Action": ["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup",
                    "logs:DeleteRetentionPolicy", "logs:PutRetentionPolicy", "logs:TagResource",
                    "logs:UntagResource"],
         "Resource": _arns(settings, "logs", "log-group:{p}-*")},
        {"Sid": "OwnSecrets", "Effect": "Allow",
         "Action": ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
                    "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
                    "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                    "secretsmanager:TagResource", "secretsmanager:UntagResource",
                    "secretsmanager:UpdateSecret"],
         "Resource": _arns(settings, "secretsmanager", "secret:{p}-*")},
        {"Sid": "CreateProjectKeys", "Effect": "Allow",
         "Action": ["kms:CreateKey", "kms:TagResource"], "Resource": "*",
         "Condition": tagged_request},
        {"Sid": "ManageProjectKeys", "Effect": "Allow",
         "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:EnableKeyRotation",
                    "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy",
                    "kms:RetireGrant", "kms:ScheduleKeyDeletion", "kms:UntagResource"],
         "Resource": f"arn:aws:kms:{region}:{account}:key/*", "Condition": tagged_resource},
        {"Sid": "ScalingInRegion", "Effect": "Allow",
         "Action": ["application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:TagResource"],
         "Resource": "*", "Condition": in_region},
        {"Sid": "OwnAccessLogBuckets", "Effect": "Allow",
         "Action": ["s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
                    "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy",
                    "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging",
                    "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
                    "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                    "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
                    "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration"],
         "Resource": [f"arn:aws:s3:::{p}-*" for p in settings.resource_prefixes]},
        {"Sid": "RolesOnlyUnderTheBoundary", "Effect": "Allow",
         "Action": ["iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy"],
         "Resource": roles,
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Sid": "ManageOwnRoles", "Effect": "Allow",
         "Action": ["iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
                    "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole",
                    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
                    "iam:UpdateRoleDescription"],
         "Resource": roles},
        {"Sid": "PassOwnRolesToEcsTasksOnly", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": roles,
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": [
             "ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com",
             "ecs.application-autoscaling.amazonaws.com"]}}},
        {"Sid": "NeverLoosenTheBoundaryOrTheDeployers", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:DeleteRolePermissionsBoundary", "iam:SetDefaultPolicyVersion",
                    "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"],
         "Resource": [boundary, *deploy_role_arns]},
    )


def preview_policy(settings: DeliverySettings) -> dict:
    """`pulumi preview` of the program: its data sources and nothing that writes."""
    return _doc(
        {"Sid": "EcrTokenForTheImageRegistry", "Effect": "Allow",
         "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "DataSourcesTheProgramReads", "Effect": "Allow",
         "Action": ["ec2:DescribeAvailabilityZones", "ec2:DescribeRouteTables",
                    "ec2:DescribeVpcs"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": settings.aws_region}}},
    )
