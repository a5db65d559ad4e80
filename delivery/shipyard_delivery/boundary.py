"""The workload permissions boundary: the most any role the shipyard program creates may ever do.

The deploy role may create roles only with this boundary attached (see permissions.py), so what
is not allowed here no role of an app stack can do, whatever its identity policy says: a role's
effective permissions are the intersection of the two (IAM User Guide, "Permissions boundaries
for IAM entities").

One boundary per account, the union of what each kind of role the program creates needs, each
part scoped to the project: its resource prefixes, its tag, or the exact ARNs the stack files
name. One per role kind would buy nothing: the deploy role's only handle on a new role's boundary
is `iam:PermissionsBoundary` on CreateRole, which cannot tie a boundary to the role's trust, so
any kind's boundary could go on any role; what keeps each role to its own job is its identity
policy, which names its exact resources. tests/test_effective_permissions.py evaluates each role
with this document and checks both: every call its service makes is allowed, its neighbours are
not.

What each role kind needs, from the published source the component takes its policy from:
- execution role (the ECS agent): AmazonECSTaskExecutionRolePolicy's actions (image pull,
  awslogs) and the task's secrets and their keys;
- task role: ECS Exec's channel and the statements the stack files declare;
- infrastructure role for load balancers (blue/green, linear, canary): the actions of
  AmazonECSInfrastructureRolePolicyForLoadBalancers that the component keeps (blue_green.py);
- smoke-test role: lambda:InvokeFunction on the functions the stack files name;
- flow-log role: what the VPC User Guide lists, less what network.py withholds
  (FLOW_LOG_WITHHELD).
Autoscaling needs no role of ours: Application Auto Scaling acts with its service-linked role."""

import json
from collections.abc import Mapping

from shipyard import blue_green, iam
from shipyard.errors import ConfigError

from .app_stacks import AppStack
from .repositories import artifact_repository_arns, stack_repository_arns
from .settings import NAMESPACE, DeliverySettings

TAG_KEY = "project"
MANAGED_POLICY_LIMIT = 6144
"""IAM quota: characters in a managed policy document, whitespace excluded (IAM User Guide,
"IAM and AWS STS quotas")."""


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(sid: str, actions: list[str] | str, resources: list[str] | str, **extra: dict
           ) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def _arns(settings: DeliverySettings, prefixes: list[str], service: str, pattern: str,
          account: str) -> list[str]:
    return [f"arn:aws:{service}:{settings.aws_region}:{account}:{pattern.format(p=p)}"
            for p in prefixes]


def boundary_arn(settings: DeliverySettings, account: str) -> str:
    return f"arn:aws:iam::{account}:policy/{settings.app_project}-workload-boundary"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def workload_boundary(settings: DeliverySettings, account: str,
                      app_stacks: Mapping[str, AppStack]) -> dict:
    """The ceiling for every role the program creates in this account's stacks."""
    stacks = [s for s in settings.stacks if s.aws_account_id == account]
    grants = [app_stacks[s.name].workload_grants for s in stacks]
    # What the names of these stacks' resources start with (their services', the program's).
    prefixes = _unique([p for s in stacks for p in app_stacks[s.name].resource_prefixes])
    # Exact repositories: those of the stacks in this account, the artifacts stack's, and those
    # of prebuilt images the stack files name.
    images = _unique([*(arn for s in stacks for arn in stack_repository_arns(
                          settings, s.name, account, app_stacks[s.name])),
                      *artifact_repository_arns(settings, app_stacks),
                      *(r for g in grants for r in g.repositories)])
    secrets = _unique([r for g in grants for r in g.secrets])
    keys = _unique([k for g in grants for k in g.secret_keys])
    functions = _unique([f for g in grants for f in g.smoke_test_functions])
    declared = list({json.dumps(s, sort_keys=True): s for g in grants
                     for s in g.task_statements}.values())
    document = _doc(
        # The execution role.
        _allow("EcrToken", iam.ECR_TOKEN_ACTION, "*"),
        *([_allow("PullOwnImages", iam.IMAGE_PULL_ACTIONS, images)] if images else []),
        # The execution role's awslogs streams and the flow-log role's.
        _allow("WriteOwnLogs", iam.LOG_WRITE_ACTIONS,
               _arns(settings, prefixes, "logs", "log-group:{p}-*:log-stream:*", account)),
        _allow("ReadOwnSecrets", "secretsmanager:GetSecretValue",
               _arns(settings, prefixes, "secretsmanager", "secret:{p}-*", account) + secrets),
        _allow("DecryptProjectKeys", "kms:Decrypt", f"arn:aws:kms:{settings.aws_region}:"
               f"{account}:key/*", Condition={"StringEquals": {
                   f"aws:ResourceTag/{TAG_KEY}": settings.app_project}}),
        *([_allow("DecryptDeclaredSecretKeys", "kms:Decrypt", keys)] if keys else []),
        # The task role.
        _allow("EcsExecChannel", iam.EXEC_ACTIONS, "*"),
        *(_statement(f"DeclaredTaskGrant{n}", s) for n, s in enumerate(declared, 1)),
        # The infrastructure role for load balancers.
        _allow("ReadLoadBalancerState", blue_green.READ_ACTIONS, "*"),
        _allow("MoveTasksBetweenProjectTargetGroups", blue_green.TARGET_ACTIONS,
               _arns(settings, prefixes, "elasticloadbalancing", "targetgroup/{p}-*/*",
                     account)),
        _allow("ShiftTrafficOnProjectRules", blue_green.RULE_ACTIONS,
               _arns(settings, prefixes, "elasticloadbalancing", "listener-rule/app/{p}-*/*",
                     account)),
        # The smoke-test role.
        *([_allow("InvokeDeclaredSmokeTests", blue_green.INVOKE_ACTIONS, functions)]
          if functions else []),
        # The flow-log role (its streams are in WriteOwnLogs).
        _allow("FindLogGroups", "logs:DescribeLogGroups", "*"),
        _allow("DescribeProjectLogStreams", "logs:DescribeLogStreams",
               _arns(settings, prefixes, "logs", "log-group:{p}-*", account)),
    )
    size = len("".join(json.dumps(document).split()))
    if size > MANAGED_POLICY_LIMIT:
        raise ConfigError(f"{NAMESPACE}:stacks", [s.name for s in stacks],
                          f"stacks whose workload boundary for account {account} fits IAM's "
                          f"{MANAGED_POLICY_LIMIT} characters (it has {size}): fewer or shorter "
                          "task_role_statements, or the stacks in accounts of their own")
    return document


def _statement(sid: str, declared: dict) -> dict:
    """A declared statement under a Sid of ours (the stack file's may repeat across services)."""
    return {"Sid": sid, **{k: v for k, v in declared.items() if k != "Sid"}}
