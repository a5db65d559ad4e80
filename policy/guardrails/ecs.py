"""ECS task definitions, services and clusters (FSBP ECS.*, AwsSolutions-ECS*)."""

import re
from collections.abc import Iterable
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .common import as_list, container_definitions, resource_policy

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
CLUSTER = "aws:ecs/cluster:Cluster"
_ROOT_USERS = {"root", "0"}
CREDENTIAL_NAME = re.compile(
    r"(?i)(secret|passw(or)?d|passwd|token|api[_-]?key|private[_-]?key|credential|"
    r"access[_-]?key|auth|session[_-]?key|connection[_-]?string|dsn)")
CREDENTIAL_VALUE = re.compile(
    r"(AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
    r"ghp_[A-Za-z0-9]{36}|xox[abprs]-[A-Za-z0-9-]{10,}|://[^/\s:@]+:[^/\s@]+@")


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
    if str(user).split(":")[0].strip().lower() in _ROOT_USERS:
        return f"runs as root (user {user!r})"
    return None


def _logging(c) -> str | None:
    config = c.get("logConfiguration") or {}
    return None if config.get("logDriver") else "has no logConfiguration.logDriver"


def _secrets_in_env(args: ResourceValidationArgs) -> Iterable[str]:
    for definition in container_definitions(args.props):
        name = definition.get("name", "?")
        for variable in as_list(definition.get("environment")):
            key, value = str(variable.get("name", "")), str(variable.get("value", ""))
            if CREDENTIAL_NAME.search(key):
                yield (f"Container '{name}' passes '{key}' in plain environment; its name "
                       "looks like a credential.")
            elif CREDENTIAL_VALUE.search(value):
                # Never echo the value itself into the report.
                yield f"Container '{name}' passes a credential-like value in '{key}'."


def _task_level(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    if props.get("pidMode") == "host":
        yield "pidMode is 'host'; tasks must not share the host's process namespace."


def _awsvpc(args: ResourceValidationArgs) -> Iterable[str]:
    mode = args.props.get("networkMode")
    if mode != "awsvpc":
        yield f"networkMode is {mode!r}; use 'awsvpc' (one ENI and security group per task)."


def _separate_roles(args: ResourceValidationArgs) -> Iterable[str]:
    task_role = args.props.get("taskRoleArn")
    execution_role = args.props.get("executionRoleArn")
    if task_role and execution_role and task_role == execution_role:
        yield "taskRoleArn equals executionRoleArn; the application would hold the agent's " \
              "pull and secret-read permissions."


def _no_public_ip(args: ResourceValidationArgs) -> Iterable[str]:
    network = args.props.get("networkConfiguration") or {}
    if network.get("assignPublicIp") is True:
        yield "networkConfiguration.assignPublicIp is true; run tasks in private subnets."


def _platform_latest(args: ResourceValidationArgs) -> Iterable[str]:
    version = args.props.get("platformVersion")
    if version not in (None, "", "LATEST"):
        yield f"platformVersion is pinned to {version!r}; use 'LATEST' for security fixes."


def _container_insights(args: ResourceValidationArgs) -> Iterable[str]:
    values = {s.get("name"): s.get("value") for s in as_list(args.props.get("settings"))}
    if values.get("containerInsights") not in ("enabled", "enhanced"):
        yield "Container Insights is off; add setting containerInsights=enhanced (or enabled)."


def _deployment_safety(args: ResourceValidationArgs) -> Iterable[str]:
    props = args.props
    controller = (props.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        return  # CODE_DEPLOY / EXTERNAL deployments carry their own rollback settings.
    strategy = (props.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    if strategy == "BLUE_GREEN":
        configuration = props.get("deploymentConfiguration") or {}
        alarms = props.get("alarms") or {}
        bake = configuration.get("bakeTimeInMinutes")
        if not (alarms.get("enable") and alarms.get("rollback")) and str(bake or "0") == "0":
            yield "Blue/green deployment has neither alarm rollback nor a bake time."
        return
    breaker = props.get("deploymentCircuitBreaker") or {}
    if not (breaker.get("enable") is True and breaker.get("rollback") is True):
        yield "Rolling deployment without the circuit breaker and rollback: a bad image keeps " \
              "replacing healthy tasks."


POLICIES = [
    resource_policy("ecs-non-privileged", "No ECS container runs privileged.", (TASK_DEFINITION,),
                    _each_container(_privileged), severity=Severity.CRITICAL,
                    remediation="Remove privileged: true from the container definition."),
    resource_policy("ecs-readonly-rootfs", "Every ECS container has a read-only root filesystem.",
                    (TASK_DEFINITION,), _each_container(_readonly),
                    remediation="Set readonlyRootFilesystem: true and mount writable scratch "
                                "volumes (ContainerService scratch_paths) where needed."),
    resource_policy("ecs-no-host-pid", "ECS tasks do not share the host's process namespace.",
                    (TASK_DEFINITION,), _task_level,
                    remediation="Remove pidMode 'host'."),
    resource_policy("ecs-awsvpc-network", "ECS tasks use the awsvpc network mode.",
                    (TASK_DEFINITION,), _awsvpc, severity=Severity.MEDIUM,
                    remediation="Set network_mode='awsvpc'."),
    resource_policy("ecs-non-root-user", "Every ECS container runs as a named non-root user.",
                    (TASK_DEFINITION,), _each_container(_non_root),
                    remediation="Set user to a non-root uid[:gid], e.g. 10001:10001, created in "
                                "the image."),
    resource_policy("ecs-log-configuration", "Every ECS container has a log driver.",
                    (TASK_DEFINITION,), _each_container(_logging), severity=Severity.MEDIUM,
                    remediation="Configure logConfiguration with the awslogs driver."),
    resource_policy("ecs-no-secrets-in-env", "No credential in a container's plain environment; "
                    "secrets arrive through secrets[].valueFrom.", (TASK_DEFINITION,),
                    _secrets_in_env, severity=Severity.CRITICAL,
                    remediation="Move the value to Secrets Manager and reference it under "
                                "secrets (ContainerService: containers[].secrets)."),
    resource_policy("ecs-task-role-separate", "The task role differs from the execution role.",
                    (TASK_DEFINITION,), _separate_roles,
                    remediation="Give the application its own task role."),
    resource_policy("ecs-service-no-public-ip", "ECS services assign no public IP to tasks.",
                    (SERVICE,), _no_public_ip,
                    remediation="Set assign_public_ip=False and use private subnets with NAT or "
                                "VPC endpoints."),
    resource_policy("ecs-fargate-platform-latest", "Fargate services run the LATEST platform "
                    "version.", (SERVICE,), _platform_latest, severity=Severity.MEDIUM,
                    remediation="Unset platform_version or set it to 'LATEST'."),
    resource_policy("ecs-container-insights", "ECS clusters have Container Insights on.",
                    (CLUSTER,), _container_insights, severity=Severity.LOW,
                    remediation="Add the containerInsights setting with value 'enhanced'."),
    resource_policy("ecs-deployment-safety", "Deployments roll back on failure: rolling "
                    "deployments use the circuit breaker with rollback; blue/green uses alarms "
                    "or a bake time.", (SERVICE,), _deployment_safety,
                    remediation="Set deployment_circuit_breaker={enable: True, rollback: True}."),
]
