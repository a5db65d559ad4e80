"""The workload permissions boundary: the most any role the shipyard program creates may ever do.

The deploy role may create roles only with this boundary attached (see permissions.py), so what
is not allowed here no role of an app stack can do, whatever its identity policy says: a role's
effective permissions are the intersection of the two (IAM User Guide, "Permissions boundaries
for IAM entities")."""

from collections.abc import Mapping

from .app_stacks import AppStack
from .repositories import artifact_repository_arns, stack_repository_arns
from .settings import DeliverySettings

TAG_KEY = "project"


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _arns(settings: DeliverySettings, service: str, pattern: str, account: str) -> list[str]:
    return [f"arn:aws:{service}:{settings.aws_region}:{account}:{pattern.format(p=p)}"
            for p in settings.resource_prefixes]


def boundary_arn(settings: DeliverySettings, account: str) -> str:
    return f"arn:aws:iam::{account}:policy/{settings.app_project}-workload-boundary"


def workload_boundary(settings: DeliverySettings, account: str,
                      app_stacks: Mapping[str, AppStack]) -> dict:
    """The ceiling for every role the program creates (execution and task roles)."""
    region = settings.aws_region
    # Exact repositories: those of the stacks in this account and the artifacts stack's.
    own_images = [*(arn for s in settings.stacks if s.aws_account_id == account
                    for arn in stack_repository_arns(settings, s.name, account,
                                                     app_stacks[s.name])),
                  *artifact_repository_arns(settings, app_stacks)]
    return _doc(
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
         "Resource": "*"},
        *([{"Sid": "PullOwnImages", "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                       "ecr:GetDownloadUrlForLayer"],
            "Resource": own_images}] if own_images else []),
        {"Sid": "WriteOwnLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": _arns(settings, "logs", "log-group:{p}-*:log-stream:*", account)},
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": _arns(settings, "secretsmanager", "secret:{p}-*", account)},
        {"Sid": "DecryptProjectKeys", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": f"arn:aws:kms:{region}:{account}:key/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_KEY}": settings.app_project}}},
        {"Sid": "EcsExecChannel", "Effect": "Allow",
         "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
         "Resource": "*"},
    )
