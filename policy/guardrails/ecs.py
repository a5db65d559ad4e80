"""ECS task definitions, services, task sets and clusters (FSBP ECS.*, AwsSolutions-ECS*)."""

from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from .common import (
    Refs,
    as_list,
    each_known,
    mapping,
    objects,
    of_type,
    resource_policy,
    stack_policy,
)
from .consumer import container_definitions
from .normalize import enum, flag, integer, role_identity, text
from .secrets import credential_name, secret_format

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
TASK_SET = "aws:ecs/taskSet:TaskSet"
CLUSTER = "aws:ecs/cluster:Cluster"
ACCOUNT_SETTING = "aws:ecs/accountSettingDefault:AccountSettingDefault"
_ROOT_USERS = {"root", "0"}


def _each_container(problem) -> Any:
    def check(args: ResourceValidationArgs) -> Iterable[str]:
        for definition in container_definitions(args.props):
            message = problem(definition)
            if message:
                yield f"Container '{definition.get('name', '?')}' {message}."
    return check


def _privileged(c) -> str | None:
    return "runs privileged" if c.get("privileged") is True else None


def _readonly(c) -> str | None:
    return None if c.get("readonlyRootFilesystem") is True else \
        "has a writable root filesystem (readonlyRootFilesystem is not true)"


def _non_root(c) -> str | None:
    user = c.get("user")
    if not user:
        return "sets no user, so it runs as the image's user (often root)"
    name = str(user).split(":")[0].strip().lower()
    # A numeric user is read as a number (Docker's user lookup: "00" is uid 0).
    if name in _ROOT_USERS or (name.isdigit() and int(name) == 0):
        return f"runs as root (user {user!r})"
    return None


def _logging(c) -> str | None:
    config = mapping(c.get("logConfiguration"), "logConfiguration")
    return None if config.get("logDriver") else "has no logConfiguration.logDriver"


def _secrets_in_env(args: ResourceValidationArgs) -> Iterable[str]:
    for definition in container_definitions(args.props):
        name = definition.get("name", "?")
        for variable in objects(definition.get("environment"), "environment"):
            key, value = str(variable.get("name") or ""), str(variable.get("value") or "")
            found = secret_format(value)
            if credential_name(key):
                yield (f"Container '{name}' passes '{key}' in plain environment; its name "
                       "looks like a credential.")
            elif found:
                # Never echo the value itself into the report.
                yield f"Container '{name}' passes {found} in plain environment ('{key}')."


def _task_level(args: ResourceValidationArgs) -> Iterable[str]:
    if args.props.get("pidMode") in (None, ""):
        return
    if enum(args.props, "pidMode", "ecs", "PidMode") == "host":
        yield "pidMode is 'host'; tasks must not share the host's process namespace."


def _awsvpc(args: ResourceValidationArgs) -> Iterable[str]:
    # Unset, ECS picks 'bridge' on EC2 (RegisterTaskDefinition networkMode).
    mode = enum(args.props, "networkMode", "ecs", "NetworkMode", default="bridge")
    if mode != "awsvpc":
        yield f"networkMode is {mode!r}; use 'awsvpc' (one ENI and security group per task)."


def _separate_roles(args: ResourceValidationArgs) -> Iterable[str]:
    task_role = role_identity(text(args.props, "taskRoleArn"))
    execution_role = role_identity(text(args.props, "executionRoleArn"))
    if task_role and execution_role and task_role == execution_role:
        yield "taskRoleArn and executionRoleArn name the same role; the application would " \
              "hold the agent's pull and secret-read permissions."


def _no_public_ip(args: ResourceValidationArgs) -> Iterable[str]:
    network = mapping(args.props.get("networkConfiguration"), "networkConfiguration")
    if flag(network, "assignPublicIp", "networkConfiguration.assignPublicIp"):
        yield "networkConfiguration.assignPublicIp is true; run tasks in private subnets."


def _platform_latest(args: ResourceValidationArgs) -> Iterable[str]:
    version = text(args.props, "platformVersion")
    if version not in (None, "") and version.upper() != "LATEST":
        yield f"platformVersion is pinned to {version!r}; use 'LATEST' for security fixes."


_INSIGHTS_ON = ("enabled", "enhanced")


def _insights_setting(settings: Any) -> Any:
    values = {text(s, "name", "settings[].name"): text(s, "value", "settings[].value")
              for s in objects(settings, "settings")}
    return values.get("containerInsights")


def _container_insights(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    config = args.get_config() or {}
    account_on = bool(config.get("accountSettingEnabled")) or any(
        text(s.props, "name") == "containerInsights" and text(s.props, "value") in _INSIGHTS_ON
        for s in of_type(args.resources, ACCOUNT_SETTING))

    def judge(index: int, cluster: Any) -> Iterator[tuple[str, str]]:
        value = _insights_setting(cluster.props.get("settings"))
        if value in _INSIGHTS_ON or (value is None and account_on):
            return
        yield cluster.urn, ("Container Insights is off; add setting containerInsights=enhanced "
                            "(or enabled), or enable it as the account default.")
    yield from each_known(list(of_type(args.resources, CLUSTER)), judge)


_STAGED_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")


def _deployment_safety(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    controller = enum(mapping(props.get("deploymentController"), "deploymentController"),
                      "type", "ecs", "DeploymentControllerType", "deploymentController.type",
                      default="ECS")
    if controller != "ECS":
        return  # CODE_DEPLOY / EXTERNAL deployments carry their own rollback settings.
    configuration = mapping(props.get("deploymentConfiguration"), "deploymentConfiguration")
    strategy = enum(configuration, "strategy", "ecs", "DeploymentStrategy",
                    "deploymentConfiguration.strategy", default="ROLLING")
    if strategy in _STAGED_STRATEGIES:
        alarms = mapping(props.get("alarms"), "alarms")
        alarm_rollback = (flag(alarms, "enable", "alarms.enable")
                          and flag(alarms, "rollback", "alarms.rollback")
                          and bool([n for n in as_list(alarms.get("alarmNames")) if n]))
        # A string in the provider's schema, sent to ECS as an integer.
        bake = integer(configuration, "bakeTimeInMinutes",
                       "deploymentConfiguration.bakeTimeInMinutes") or 0
        if not alarm_rollback and bake <= 0:
            yield (f"{strategy.replace('_', '/').lower()} deployment has neither alarm "
                   "rollback nor a bake time: nothing rolls a bad revision back.")
        return
    breaker = mapping(props.get("deploymentCircuitBreaker"), "deploymentCircuitBreaker")
    if not (flag(breaker, "enable", "deploymentCircuitBreaker.enable")
            and flag(breaker, "rollback", "deploymentCircuitBreaker.rollback")):
        yield "Rolling deployment without the circuit breaker and rollback: a bad image keeps " \
              "replacing healthy tasks."




POLICIES = [
    resource_policy("ecs-non-privileged", "No ECS container runs privileged.", (TASK_DEFINITION,),
                    _each_container(_privileged), severity=Severity.CRITICAL,
                    refs=Refs(why="A privileged container has root on the host.",
                              fsbp=("ECS.4",), checkov=("CKV_AWS_97",)),
                    reads=("go-json",),
                    remediation="Remove privileged: true from the container definition."),
    resource_policy("ecs-readonly-rootfs", "Every ECS container has a read-only root filesystem.",
                    (TASK_DEFINITION,), _each_container(_readonly),
                    refs=Refs(why="A writable root filesystem lets an intruder persist tools and "
                                  "modify the application.", fsbp=("ECS.5",),
                              checkov=("CKV_AWS_336",)),
                    reads=("go-json",),
                    remediation="Set readonlyRootFilesystem: true and mount writable scratch "
                                "volumes (ContainerService scratch_paths) where needed."),
    resource_policy("ecs-no-host-pid", "ECS tasks do not share the host's process namespace.",
                    (TASK_DEFINITION,), _task_level,
                    refs=Refs(why="The host's PID namespace exposes every process on the host.",
                              fsbp=("ECS.3",)),
                    reads=("enum",),
                    remediation="Remove pidMode 'host'."),
    resource_policy("ecs-awsvpc-network", "ECS tasks use the awsvpc network mode.",
                    (TASK_DEFINITION,), _awsvpc, severity=Severity.MEDIUM,
                    refs=Refs(why="awsvpc gives each task its own ENI and security group; host "
                                  "mode shares the host's network.", fsbp=("ECS.17",)),
                    reads=("enum",),
                    remediation="Set network_mode='awsvpc'."),
    resource_policy("ecs-non-root-user", "Every ECS container runs as a named non-root user.",
                    (TASK_DEFINITION,), _each_container(_non_root),
                    refs=Refs(why="Root in the container widens any escape or kernel bug.",
                              fsbp=("ECS.20",)),
                    reads=("go-json",),
                    remediation="Set user to a non-root uid[:gid], e.g. 10001:10001, created in "
                                "the image."),
    resource_policy("ecs-log-configuration", "Every ECS container has a log driver.",
                    (TASK_DEFINITION,), _each_container(_logging), severity=Severity.MEDIUM,
                    refs=Refs(why="Without logs an incident cannot be investigated.",
                              fsbp=("ECS.9",), cdk_nag=("AwsSolutions-ECS7",)),
                    reads=("go-json",),
                    remediation="Configure logConfiguration with the awslogs driver."),
    resource_policy("ecs-no-secrets-in-env", "No credential in a container's plain environment; "
                    "secrets arrive through secrets[].valueFrom.", (TASK_DEFINITION,),
                    _secrets_in_env, severity=Severity.CRITICAL,
                    refs=Refs(why="Plain environment values are readable by anyone who can "
                                  "describe the task definition.", fsbp=("ECS.8",),
                              cdk_nag=("AwsSolutions-ECS2",)),
                    reads=("go-json", "secret-name", "secret-value"),
                    remediation="Move the value to Secrets Manager and reference it under "
                                "secrets (ContainerService: containers[].secrets)."),
    resource_policy("ecs-task-role-separate", "The task role differs from the execution role.",
                    (TASK_DEFINITION,), _separate_roles,
                    refs=Refs(why="The execution role can pull images and read secrets; the "
                                  "application should not hold those rights.",
                              checkov=("CKV_AWS_249",),
                              doc="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
                                  "task-iam-roles.html"),
                    reads=("text", "role-name-or-arn"),
                    remediation="Give the application its own task role."),
    resource_policy("ecs-service-no-public-ip", "ECS services and task sets assign no public "
                    "IP to tasks.", (SERVICE, TASK_SET), _no_public_ip,
                    refs=Refs(why="A public IP exposes the task directly, bypassing the load "
                                  "balancer and its security group.", fsbp=("ECS.2", "ECS.16")),
                    reads=("bool",),
                    remediation="Set assign_public_ip=False and use private subnets with NAT or "
                                "VPC endpoints."),
    resource_policy("ecs-fargate-platform-latest", "Fargate services and task sets run the "
                    "LATEST platform version.", (SERVICE, TASK_SET), _platform_latest,
                    severity=Severity.MEDIUM,
                    refs=Refs(why="Pinned platform versions stop receiving security patches.",
                              fsbp=("ECS.10",)),
                    reads=("text",),
                    remediation="Unset platform_version or set it to 'LATEST'."),
    stack_policy("ecs-container-insights", "ECS clusters have Container Insights on (cluster "
                 "setting, or the account default when the cluster does not set it).",
                 _container_insights, severity=Severity.LOW,
                 refs=Refs(why="Without Container Insights, task failures and resource "
                               "exhaustion go unseen.", fsbp=("ECS.12",),
                           cdk_nag=("AwsSolutions-ECS4",)),
                 config_schema=PolicyConfigSchema(properties={"accountSettingEnabled": {
                     "type": "boolean", "default": False,
                     "description": "The account default containerInsights is enabled outside "
                                    "this stack."}}),
                 reads=("text",),
                 remediation="Add the containerInsights setting with value 'enhanced'."),
    resource_policy("ecs-deployment-safety", "Deployments roll back on failure: rolling "
                    "deployments use the circuit breaker with rollback; blue/green, linear and "
                    "canary deployments use alarm rollback or a bake time.", (SERVICE,),
                    _deployment_safety,
                    refs=Refs(why="Without automatic rollback a bad revision keeps replacing "
                                  "healthy tasks until a human notices.",
                              doc="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
                                  "deployment-circuit-breaker.html"),
                    reads=("enum", "bool", "int"),
                    remediation="Set deployment_circuit_breaker={enable: True, rollback: True} "
                                "(rolling), or alarms with rollback / bake_time_in_minutes "
                                "(blue/green, linear, canary)."),
]
