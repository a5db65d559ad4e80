"""IAM documents as plain dicts, built in Python rather than with `aws.iam.get_policy_document`,
so they are exactly what the program sends under the real engine and under mocks alike."""

from collections.abc import Iterable

from . import managed_policies

# What the ECS agent calls with the execution role: the actions of the AWS managed policy for
# the job (granted there on "*"), each here on the resource it acts on: the registry token has
# no resource-level permission; the pulls act on repositories, the awslogs calls on log streams.
# tests/test_managed_policies.py fails when a new version holds an action placed nowhere.
EXECUTION_MANAGED_POLICY = "AmazonECSTaskExecutionRolePolicy"
_AGENT = managed_policies.actions(EXECUTION_MANAGED_POLICY)
ECR_TOKEN_ACTION = "ecr:GetAuthorizationToken"
IMAGE_PULL_ACTIONS = [a for a in _AGENT if a.startswith("ecr:") and a != ECR_TOKEN_ACTION]
LOG_WRITE_ACTIONS = [a for a in _AGENT if a.startswith("logs:")]
# ECS Exec's data channel (ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec");
# AWS offers no resource-level scope for ssmmessages.
EXEC_ACTIONS = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]


def _document(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def ecs_tasks_trust_policy(account_id: str) -> dict:
    """Only ECS tasks of this account may assume the role (confused-deputy guard)."""
    return _document([{
        "Sid": "EcsTasksOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }])


def log_stream_arn(log_group_arn: str) -> str:
    return f"{log_group_arn}:log-stream:*"


def execution_role_policy(*, repository_arns: Iterable[str], log_group_arn: str,
                          secret_arns: Iterable[str], kms_key_arns: Iterable[str]) -> dict:
    """What the ECS agent needs to start the task, and nothing on `*` but the ECR token."""
    statements: list[dict] = [{
        # ecr:GetAuthorizationToken has no resource-level permissions in AWS.
        "Sid": "EcrAuthToken", "Effect": "Allow", "Action": ECR_TOKEN_ACTION, "Resource": "*",
    }]
    repositories = sorted(set(repository_arns))
    if repositories:
        statements.append({"Sid": "PullOwnImages", "Effect": "Allow",
                           "Action": IMAGE_PULL_ACTIONS, "Resource": repositories})
    statements.append({"Sid": "WriteOwnLogs", "Effect": "Allow",
                       "Action": LOG_WRITE_ACTIONS, "Resource": log_stream_arn(log_group_arn)})
    secrets = sorted(set(secret_arns))
    if secrets:
        statements.append({"Sid": "ReadOwnSecrets", "Effect": "Allow",
                           "Action": "secretsmanager:GetSecretValue", "Resource": secrets})
    keys = sorted(set(kms_key_arns))
    if keys:
        statements.append({"Sid": "DecryptOwnSecrets", "Effect": "Allow",
                           "Action": "kms:Decrypt", "Resource": keys})
    return _document(statements)


def task_role_policy(statements: Iterable[dict], *, exec_enabled: bool,
                     firelens_log_group_arn: str | None = None) -> dict | None:
    """The application's own permissions; None when it needs none (the role stays empty).
    With `firelens_log_group_arn`, the FireLens router (which writes with the task role) may
    create streams in and write to exactly that group: what Fluent Bit's `cloudwatch_logs`
    output calls when the group exists (Fluent Bit manual, "Amazon CloudWatch")."""
    result = [dict(s) for s in statements]
    if firelens_log_group_arn is not None:
        result.append({"Sid": "FireLensToOwnLogGroup", "Effect": "Allow",
                       "Action": LOG_WRITE_ACTIONS,
                       "Resource": log_stream_arn(firelens_log_group_arn)})
    if exec_enabled:
        result.append({"Sid": "EcsExecChannel", "Effect": "Allow", "Action": EXEC_ACTIONS,
                       "Resource": "*"})
    return _document(result) if result else None


def logs_key_policy(*, account_id: str, region: str, sid: str, log_group_condition: dict,
                    partition: str = "aws") -> dict:
    """Key policy for a key that encrypts log groups: the account administers it through IAM
    (AWS's default statement), and CloudWatch Logs of this region may use it only for the log
    groups `log_group_condition` names through the `aws:logs:arn` encryption context (CloudWatch
    Logs User Guide, "Encrypt log data using AWS KMS")."""
    return _document([
        {"Sid": "AccountAdministersThroughIam", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": sid, "Effect": "Allow",
         "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*",
                    "kms:ReEncrypt*"],
         "Resource": "*", "Condition": log_group_condition},
    ])


def kms_key_policy(*, account_id: str, region: str, partition: str = "aws") -> dict:
    """The service's key: CloudWatch Logs may use it for this account's log groups."""
    return logs_key_policy(
        account_id=account_id, region=region, sid="CloudWatchLogsOfThisAccount",
        log_group_condition={"ArnLike": {
            "kms:EncryptionContext:aws:logs:arn":
                f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}},
        partition=partition)


def secret_arn_for_iam(arn: str) -> str:
    """IAM matches a secret by its full ARN (with AWS's 6-character suffix). A partial ARN
    (no suffix) is matched with exactly six '?' so it cannot reach other secrets."""
    name = arn.split(":secret:", 1)[1]
    has_suffix = len(name) > 7 and name[-7] == "-" and name[-6:].isalnum()
    return arn if has_suffix else f"{arn}-??????"
