"""`shipyard exec`: ECS Exec into a running task, as the AWS CLI's `ecs execute-command` does
(awscli/customizations/ecs/executecommand.py): ExecuteCommand returns a Session Manager
session, and the Session Manager plugin opens it with the target
`ecs:<cluster name>_<task id>_<container runtime id>`.

ECS Exec needs `enableExecuteCommand` on the service (tasks started since it was set carry it)
and the ExecuteCommandAgent running in the container (DescribeTasks `managedAgents`): ECS
developer guide, "Monitor Amazon ECS containers with ECS Exec"."""

import json
import shlex
import shutil
from dataclasses import dataclass

from shipyard.errors import ConfigError

from .aws import Aws
from .ecs_reads import describe_service, running_tasks, task_id
from .stack_outputs import ServiceOutputs

PLUGIN = "session-manager-plugin"
PLUGIN_DOCS = ("https://docs.aws.amazon.com/systems-manager/latest/userguide/"
               "session-manager-working-with-install-plugin.html")
EXEC_AGENT = "ExecuteCommandAgent"


def exec_disabled(service: ServiceOutputs) -> ConfigError:
    return ConfigError(
        "enable_execute_command", False,
        f"true on service {service.name} for ECS Exec: set `enable_execute_command: true` in "
        "its stack config (shipyard:services), run `pulumi up`, and exec into a task started "
        "after that")


def session_manager_plugin() -> str:
    found = shutil.which(PLUGIN)
    if found is None:
        raise ConfigError(PLUGIN, None, f"the AWS Session Manager plugin on PATH, which ECS "
                          f"Exec sessions need (install it: {PLUGIN_DOCS})")
    return found


@dataclass(frozen=True)
class ExecTarget:
    task_arn: str
    container: str
    runtime_id: str


def choose_target(aws: Aws, service: ServiceOutputs, *, task: str | None,
                  container: str | None) -> ExecTarget:
    live = describe_service(aws, service)
    if not live.get("enableExecuteCommand"):
        raise exec_disabled(service)
    tasks = [t for t in running_tasks(aws, service) if t.get("lastStatus") == "RUNNING"]
    if task is not None:
        matches = [t for t in tasks if task_id(t["taskArn"]).startswith(task)]
        if len(matches) != 1:
            raise ConfigError("--task", task, "the id (or a unique start of it) of one of the "
                              "service's running tasks: " + (", ".join(
                                  task_id(t["taskArn"]) for t in tasks) or "none runs"))
        tasks = matches
    if not tasks:
        raise ConfigError("service", service.name, "a service with a RUNNING task to exec into "
                          "(`shipyard status` shows why none runs)")
    chosen = tasks[0]
    containers = {c["name"]: c for c in chosen.get("containers") or []}
    name = container or (next(iter(containers)) if len(containers) == 1 else next(
        (b.get("containerName") for b in live.get("loadBalancers") or []), None))
    if name not in containers:
        raise ConfigError("--container", container or name,
                          "one of the task's containers: " + ", ".join(sorted(containers)))
    agent = next((a for a in containers[name].get("managedAgents") or []
                  if a.get("name") == EXEC_AGENT), None)
    if not chosen.get("enableExecuteCommand") or agent is None \
            or agent.get("lastStatus") != "RUNNING":
        state = "no ExecuteCommandAgent" if agent is None else \
            f"the ExecuteCommandAgent {agent.get('lastStatus')}"
        raise ConfigError("--task", task_id(chosen["taskArn"]),
                          f"a task that accepts ECS Exec (this one has {state}: it started "
                          "before exec was enabled, or its agent failed; start new tasks with "
                          "a deployment and retry)")
    return ExecTarget(task_arn=chosen["taskArn"], container=str(name),
                      runtime_id=str(containers[name].get("runtimeId", "")))


def start_session(aws: Aws, service: ServiceOutputs, target: ExecTarget,
                  command: list[str]) -> tuple[dict, dict]:
    """ExecuteCommand, then the plugin's two JSON arguments: the session and the target."""
    answer = aws.call("ecs", "ExecuteCommand", f"task {task_id(target.task_arn)}",
                      cluster=service.cluster_arn, task=target.task_arn,
                      container=target.container, interactive=True,
                      command=shlex.join(command))
    return (dict(answer["session"]),
            {"Target": f"ecs:{service.cluster_name}_{task_id(target.task_arn)}_"
                       f"{target.runtime_id}"})


def plugin_arguments(plugin: str, aws: Aws, session: dict, target: dict,
                     profile: str | None) -> list[str]:
    """As the AWS CLI calls it: session JSON, region, "StartSession", profile ("" for none),
    parameters JSON, the ECS endpoint."""
    client = aws.client("ecs")
    return [plugin, json.dumps(session), aws.region, "StartSession", profile or "",
            json.dumps(target), str(client.meta.endpoint_url)]
