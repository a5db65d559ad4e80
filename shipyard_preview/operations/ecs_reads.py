"""The ECS and ELBv2 reads the day-two commands share: the live service, a task definition,
the service's running tasks, target health. Each returns the API's own shapes (botocore's
`ecs`/`elbv2` models), read through `Aws.call`/`Aws.pages` so failures are one line."""

from typing import Any

from .aws import Aws, AwsCallFailed
from .stack_outputs import ServiceOutputs

DESCRIBE_TASKS_LIMIT = 100  # DescribeTasks takes at most 100 tasks (ECS API reference)


def describe_service(aws: Aws, service: ServiceOutputs) -> dict:
    where = f"service {service.service_name} (cluster {service.cluster_name})"
    answer = aws.call("ecs", "DescribeServices", where, cluster=service.cluster_arn,
                      services=[service.service_name], include=["TAGS"])
    found = next((s for s in answer.get("services") or []
                  if s.get("serviceName") == service.service_name), None)
    if found is None:
        reasons = "; ".join(f"{f.get('reason')}" for f in answer.get("failures") or [])
        raise AwsCallFailed(f"ecs DescribeServices on {where}: not found in {aws.region} "
                            f"({reasons or 'not listed'}); the stack outputs may be stale "
                            "(`pulumi stack output`), or the credentials are for another account")
    if found.get("status") != "ACTIVE":
        raise AwsCallFailed(f"ecs DescribeServices on {where}: the service is "
                            f"{found.get('status')}, not ACTIVE; it was deleted or is being "
                            "deleted (run `pulumi up` to recreate it)")
    return dict(found)


def describe_task_definition(aws: Aws, arn: str) -> tuple[dict, dict[str, str]]:
    """The task definition and its tags."""
    answer = aws.call("ecs", "DescribeTaskDefinition", f"task definition {revision_name(arn)}",
                      taskDefinition=arn, include=["TAGS"])
    tags = {t["key"]: t["value"] for t in answer.get("tags") or [] if "key" in t}
    return dict(answer["taskDefinition"]), tags


def running_tasks(aws: Aws, service: ServiceOutputs) -> list[dict]:
    where = f"service {service.service_name} (cluster {service.cluster_name})"
    arns = [arn for page in aws.pages("ecs", "ListTasks", where, cluster=service.cluster_arn,
                                      serviceName=service.service_name,
                                      desiredStatus="RUNNING")
            for arn in page.get("taskArns") or []]
    tasks: list[dict] = []
    for start in range(0, len(arns), DESCRIBE_TASKS_LIMIT):
        answer = aws.call("ecs", "DescribeTasks", where, cluster=service.cluster_arn,
                          tasks=arns[start:start + DESCRIBE_TASKS_LIMIT])
        tasks.extend(answer.get("tasks") or [])
    return sorted(tasks, key=lambda t: str(t.get("taskArn")))


def target_health(aws: Aws, target_group_arn: str) -> list[dict]:
    answer = aws.call("elbv2", "DescribeTargetHealth",
                      f"target group {target_group_name(target_group_arn)}",
                      TargetGroupArn=target_group_arn)
    return list(answer.get("TargetHealthDescriptions") or [])


def target_groups_of(service: dict) -> list[str]:
    """The service's target groups: each load balancer's, and the alternate one of a
    blue/green deployment (`advancedConfiguration.alternateTargetGroupArn`)."""
    groups: list[str] = []
    for balancer in service.get("loadBalancers") or []:
        for arn in (balancer.get("targetGroupArn"),
                    (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")):
            if arn and arn not in groups:
                groups.append(arn)
    return groups


def target_group_name(arn: str) -> str:
    """The name in `arn:...:targetgroup/<name>/<id>`."""
    return arn.rsplit(":targetgroup/", 1)[-1].split("/", 1)[0]


def revision_name(task_definition_arn: str) -> str:
    """`family:revision` of a task definition ARN (or the value itself if not an ARN)."""
    return task_definition_arn.rsplit("/", 1)[-1]


def revision_number(task_definition_arn: str) -> int | None:
    tail = revision_name(task_definition_arn).rsplit(":", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else None


def task_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in resource.get("tags") or [] if "key" in t}
