"""A one-off task: run a service's task definition once with a command override, wait for it to
stop, and report the container's exit code, or why it never ran. boto3 only (an ECS client is
passed in), so both `shipyard run` and a deploy-time step (a migration run as a dynamic
resource during `pulumi up`) can use it.

ECS facts relied on (ECS API reference; botocore's `ecs` model):
- RunTask answers `tasks` and `failures`; a failure (e.g. `RESOURCE:...`, capacity, a missing
  task definition) means nothing started.
- A task's `lastStatus` ends at STOPPED; `stopCode` is one of the model's TaskStopCode values
  and `stoppedReason` says why; each container has `exitCode` once it ran, and `reason` (e.g.
  `CannotPullContainerError: ...`) when it could not start.
- botocore's `TasksStopped` waiter polls DescribeTasks every 6 s; the same interval is used here,
  with a deadline of our own (the waiter gives up after 100 polls, 10 minutes, too soon for a
  migration) and a callback per poll (to stream the task's logs meanwhile)."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

POLL_SECONDS = 6.0  # botocore's TasksStopped waiter delay
STARTED_BY = "shipyard-run"
_PULL_HINT = ("the execution role must be allowed to pull the image and the subnets need a "
              "route to ECR (a NAT gateway or VPC endpoints)")
_CAPACITY_HINT = "no capacity right now: retry, or run on FARGATE instead of FARGATE_SPOT"


class TaskDidNotRun(Exception):
    """The task never ran the command: the message says why (from ECS's own answer)."""


@dataclass(frozen=True)
class OneOffTask:
    cluster: str
    task_definition: str
    container: str
    command: list[str]
    subnets: list[str]
    security_groups: list[str]
    capacity_provider_strategy: list[dict] = field(default_factory=list)
    """The service's own strategy (FARGATE or FARGATE_SPOT); empty: launch type FARGATE."""
    platform_version: str | None = None
    started_by: str = STARTED_BY


@dataclass(frozen=True)
class TaskResult:
    task_arn: str
    exit_code: int
    stopped_reason: str
    stop_code: str | None


def run_task_request(task: OneOffTask) -> dict:
    """The RunTask parameters: one task, in the service's private subnets and security groups,
    no public IP, the command overridden for one container."""
    request: dict[str, Any] = {
        "cluster": task.cluster, "taskDefinition": task.task_definition, "count": 1,
        "startedBy": task.started_by,
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(task.subnets), "securityGroups": list(task.security_groups),
            "assignPublicIp": "DISABLED"}},
        "overrides": {"containerOverrides": [{"name": task.container,
                                              "command": list(task.command)}]},
        "propagateTags": "TASK_DEFINITION", "enableExecuteCommand": False,
    }
    # RunTask takes a capacity provider strategy or a launch type, never both.
    if task.capacity_provider_strategy:
        request["capacityProviderStrategy"] = [
            {k: v for k, v in item.items() if k in ("capacityProvider", "weight", "base")}
            for item in task.capacity_provider_strategy]
    else:
        request["launchType"] = "FARGATE"
    if task.platform_version:
        request["platformVersion"] = task.platform_version
    return request


def start(ecs: Any, task: OneOffTask) -> str:
    """RunTask; the task's ARN, or TaskDidNotRun with ECS's failure reasons."""
    answer = ecs.run_task(**run_task_request(task))
    failures = answer.get("failures") or []
    tasks = answer.get("tasks") or []
    if failures or not tasks:
        reasons = "; ".join(f"{f.get('reason')}{': ' + f['detail'] if f.get('detail') else ''}"
                            for f in failures) or "no task and no failure in the answer"
        hint = f" ({_CAPACITY_HINT})" if any(
            "RESOURCE" in str(f.get("reason")) or "capacity" in str(f.get("reason")).lower()
            for f in failures) else ""
        raise TaskDidNotRun(f"ECS did not start a task of {task.task_definition}: "
                            f"{reasons}{hint}")
    return str(tasks[0]["taskArn"])


def judge_stopped(task: dict, container: str) -> TaskResult:
    """The result of a STOPPED task: its container's exit code, or TaskDidNotRun."""
    arn = str(task.get("taskArn"))
    ours: dict = next((c for c in task.get("containers") or [] if c.get("name") == container),
                      {})
    reason = str(task.get("stoppedReason") or "no reason recorded")
    code = task.get("stopCode")
    if ours.get("exitCode") is not None:
        return TaskResult(task_arn=arn, exit_code=int(ours["exitCode"]), stopped_reason=reason,
                          stop_code=code)
    detail = f"; container {container}: {ours['reason']}" if ours.get("reason") else ""
    hint = ""
    if "CannotPullContainer" in f"{ours.get('reason')} {reason}":
        hint = f" ({_PULL_HINT})"
    elif code == "SpotInterruption":
        hint = f" ({_CAPACITY_HINT})"
    raise TaskDidNotRun(f"task {arn.rsplit('/', 1)[-1]} stopped before its command ran: "
                        f"{reason}{f' ({code})' if code else ''}{detail}{hint}")


def wait(ecs: Any, *, cluster: str, task_arn: str, container: str, timeout_seconds: float,
         on_poll: Callable[[dict], None] | None = None, poll_seconds: float = POLL_SECONDS,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> TaskResult:
    """Poll DescribeTasks until the task STOPPED (calling `on_poll` with each answer's task)."""
    deadline = clock() + timeout_seconds
    while True:
        answer = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
        task = next(iter(answer.get("tasks") or []), None)
        if task is None:
            reasons = "; ".join(str(f.get("reason")) for f in answer.get("failures") or [])
            raise TaskDidNotRun(f"ECS no longer describes task {task_arn} ({reasons or 'gone'})")
        if on_poll is not None:
            on_poll(task)
        if task.get("lastStatus") == "STOPPED":
            return judge_stopped(task, container)
        if clock() >= deadline:
            raise TimeoutError(f"task {task_arn.rsplit('/', 1)[-1]} is still "
                               f"{task.get('lastStatus')} after {timeout_seconds:g} s; it keeps "
                               "running (stop it with `aws ecs stop-task --cluster "
                               f"{cluster} --task {task_arn}`)")
        sleep(poll_seconds)
