"""What the delivery roles other than the deploy roles may do, and the deploy roles' policies
(deploy_policies.py, one builder per managed policy) re-exported for the program.

- The preview role reads what `pulumi preview` reads: the data sources the program calls.
- The artifacts builder pushes into, and reads, the artifacts repositories the delivery stack
  owns; it can neither create nor delete a repository, change its tag mutability, its lifecycle
  or its policy, nor delete an image: a released digest stays where it is."""

from collections.abc import Mapping

from .app_stacks import AppStack
from .boundary import (  # noqa: F401  (re-exported)
    MANAGED_POLICY_LIMIT,
    boundary_arn,
    workload_boundary,
)
from .confinement import ENVIRONMENT_TAG  # noqa: F401  (re-exported)
from .deploy_policies import (  # noqa: F401  (re-exported)
    DNS_RECORD_TYPE,
    deploy_policies,
    dns_records,
    service_connect_namespaces,
)
from .repositories import artifact_repository_arns
from .settings import DeliverySettings

TAG_KEY = "project"


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


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
                    "ec2:DescribeVpcs",
                    # The drift check's Check runs at preview: it reads the live service and
                    # its task definition (components/shipyard/drift.py).
                    "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListServices"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": settings.aws_region}}},
    )


BUILDER_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                   "ecr:CompleteLayerUpload", "ecr:DescribeImageScanFindings",
                   "ecr:DescribeImages", "ecr:DescribeRepositories",
                   "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:ListImages",
                   "ecr:PutImage", "ecr:UploadLayerPart"]


def artifacts_builder_policy(settings: DeliverySettings,
                             app_stacks: Mapping[str, AppStack]) -> dict:
    """The merge workflow's artifacts job: push new images, read digests and scans."""
    repositories = artifact_repository_arns(settings, app_stacks)
    if not repositories:
        return _doc({"Sid": "EcrToken", "Effect": "Allow",
                     "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
    return _doc(
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        # Push and read only: the repositories, their IMMUTABLE tags, lifecycle and policy
        # belong to the delivery stack (artifact_repositories.py).
        {"Sid": "PushToArtifactRepositories", "Effect": "Allow",
         "Action": BUILDER_ACTIONS, "Resource": repositories},
    )
