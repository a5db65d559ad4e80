"""The rollout check: a resource after the ECS service that makes `pulumi up` fail when the
service did not end on the task definition it was given.

Why it exists: with the deployment circuit breaker, ECS rolls a failing deployment back to the
last steady task definition, and the provider's `wait_for_steady_state` then sees a steady
service and reports success (terraform-provider-aws #20858). ECS's own record says otherwise:
DescribeServices lists the deployments; the PRIMARY one is the most recent, and after a rollback
it runs the previous task definition. Its `rolloutState` (COMPLETED, FAILED, IN_PROGRESS;
returned for rolling-update services behind no Classic Load Balancer) says whether it reached a
steady state (ECS API reference, Deployment; botocore's ecs model).

The judging is a pure function over a DescribeServices answer; the dynamic provider polls it in
the stack provider's region and identity (aws_session.py)."""

import time
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi.dynamic

from .aws_session import provider_session
from .errors import ConfigError

# ECS RegisterTaskDefinition: family is up to 255 letters, numbers, underscores and hyphens.
FAMILY_MAX_LENGTH = 255
_FAMILY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class RolloutError(Exception):
    """The service is not running the task definition this update gave it."""


def task_definition_family(project: str, stack: str, service: str) -> str:
    """One family per stack and service, so two stacks in one account never share revisions
    (a rollback in one must not pick the other's). Characters ECS refuses become '-'."""
    family = "".join(ch if ch in _FAMILY_CHARS else "-" for ch in f"{project}-{stack}-{service}")
    if len(family) > FAMILY_MAX_LENGTH:
        raise ConfigError("task definition family", family,
                          f"at most {FAMILY_MAX_LENGTH} characters (ECS); it is "
                          "<project>-<stack>-<service>: use shorter names")
    return family


def judge_rollout(response: dict, *, service_arn: str, task_definition_arn: str) -> dict | None:
    """The verdict on one DescribeServices answer: a summary when the service finished rolling
    out the given task definition, None while it is still rolling out, RolloutError otherwise."""
    service = next((s for s in response.get("services") or []
                    if s.get("serviceArn") == service_arn), None)
    if service is None:
        reasons = "; ".join(f"{f.get('arn')}: {f.get('reason')}"
                            for f in response.get("failures") or []) or "not listed"
        raise RolloutError(f"ECS does not describe the service {service_arn} ({reasons}).")
    name = service.get("serviceName", service_arn)
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        raise RolloutError(f"service {name} has no PRIMARY deployment; ECS did not start the "
                           "update.")
    ours = next((d for d in deployments if d.get("taskDefinition") == task_definition_arn), None)
    if primary.get("taskDefinition") != task_definition_arn:
        reason = (ours or {}).get("rolloutStateReason") or "no reason recorded"
        raise RolloutError(
            f"service {name} runs {primary.get('taskDefinition')}, not {task_definition_arn}: "
            f"ECS rolled the deployment back ({reason}). The previous revision is still "
            "registered and serving; fix the cause (see the service's events and the stopped "
            "tasks' reasons) and deploy again.")
    state = primary.get("rolloutState")
    if state == "FAILED":
        raise RolloutError(f"the deployment of {task_definition_arn} to service {name} failed: "
                           f"{primary.get('rolloutStateReason') or 'no reason recorded'}.")
    if state == "COMPLETED" or (state is None and len(deployments) == 1
                                and primary.get("runningCount") == primary.get("desiredCount")):
        return {"service": name, "task_definition": task_definition_arn,
                "rollout_state": state or "STEADY"}
    return None


def wait_for_rollout(ecs: Any, *, cluster: str, service_arn: str, task_definition_arn: str,
                     timeout_seconds: float, poll_seconds: float = 15.0,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> dict:
    deadline = clock() + timeout_seconds
    while True:
        response = ecs.describe_services(cluster=cluster, services=[service_arn])
        verdict = judge_rollout(response, service_arn=service_arn,
                                task_definition_arn=task_definition_arn)
        if verdict is not None:
            return verdict
        if clock() >= deadline:
            raise RolloutError(f"the deployment of {task_definition_arn} did not complete within "
                               f"{timeout_seconds:g} s; not reporting it as a success.")
        sleep(poll_seconds)


class _RolloutCheckProvider(pulumi.dynamic.ResourceProvider):
    def _evaluate(self, props: dict) -> dict:
        ecs = provider_session(props).client("ecs")
        verdict = wait_for_rollout(
            ecs, cluster=props["cluster"], service_arn=props["service_arn"],
            task_definition_arn=props["task_definition_arn"],
            timeout_seconds=float(props["timeout_seconds"]))
        return {**props, "rollout_state": verdict["rollout_state"]}

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=props["service_arn"], outs=self._evaluate(props))

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        # Every new task definition revision, and every other change of the service that starts
        # a deployment (capacity, network, platform), is a new deployment to check.
        keys = ("cluster", "service_arn", "task_definition_arn", "region", "deployment_settings")
        return pulumi.dynamic.DiffResult(
            changes=any(olds.get(k) != news.get(k) for k in keys),
            replaces=["service_arn"] if olds.get("service_arn") != news.get("service_arn") else [])

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=self._evaluate(news))


class RolloutCheck(pulumi.dynamic.Resource):
    rollout_state: pulumi.Output[str]

    def __init__(self, name: str, *, cluster: pulumi.Input[str], service_arn: pulumi.Input[str],
                 task_definition_arn: pulumi.Input[str],
                 identity: dict[str, pulumi.Output[str]], timeout_seconds: int = 900,
                 deployment_settings: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_RolloutCheckProvider(), name, {
            "cluster": cluster, "service_arn": service_arn,
            "task_definition_arn": task_definition_arn, **identity,
            "deployment_settings": deployment_settings,
            "timeout_seconds": timeout_seconds, "rollout_state": None,
        }, opts)
