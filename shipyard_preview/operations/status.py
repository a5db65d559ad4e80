"""`shipyard status`: what runs where, judged against what the stack last deployed.

Per service: task counts, every deployment (the PRIMARY one is the newest; its `rolloutState`
is COMPLETED, IN_PROGRESS or FAILED: ECS API reference, Deployment), the revision and, per
container, the image the revision names, the digest each running task reports (DescribeTasks
`containers[].imageDigest`) and the revision's `source-version` tag, the last events, the
health of every target group (blue/green has two), the URL, and drift:

- the PRIMARY deployment runs another revision than the stack's `task_definition_arn` (ECS
  rolled back, someone changed it outside Pulumi, or a `pulumi up` is running now);
- a container runs another image than the stack's `image_digests`;
- an emergency rollback marker binds (components/shipyard/drift.py).

Steady: the service has one deployment, it COMPLETED (or, where ECS reports no rollout state,
runs as many tasks as it wants), and nothing is pending."""

from datetime import UTC, datetime
from typing import Any

from shipyard.drift import binding_marker, container_images

from .aws import Aws
from .ecs_reads import (
    describe_service,
    describe_task_definition,
    revision_name,
    running_tasks,
    target_group_name,
    target_groups_of,
    target_health,
    task_id,
)
from .stack_outputs import ServiceOutputs, StackOutputs

EVENTS_SHOWN = 5
SOURCE_VERSION_TAG = "source-version"  # the tag ContainerService puts on each revision


def iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None if value is None else str(value)


def _deployment(item: dict) -> dict:
    return {"id": item.get("id", ""), "status": item.get("status", ""),
            "rolloutState": item.get("rolloutState"),
            "rolloutStateReason": item.get("rolloutStateReason"),
            "taskDefinition": item.get("taskDefinition", ""),
            "revision": revision_name(str(item.get("taskDefinition", ""))),
            "desired": int(item.get("desiredCount", 0)),
            "running": int(item.get("runningCount", 0)),
            "pending": int(item.get("pendingCount", 0)),
            "failed": int(item.get("failedTasks", 0)),
            "createdAt": iso(item.get("createdAt")), "updatedAt": iso(item.get("updatedAt"))}


def judge_steady(service: dict) -> tuple[bool, str]:
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return False, "no PRIMARY deployment"
    state = primary.get("rolloutState")
    if state == "FAILED":
        return False, f"the deployment FAILED: {primary.get('rolloutStateReason') or 'no reason'}"
    if len(deployments) > 1:
        return False, (f"deploying: {len(deployments)} deployments, the PRIMARY one "
                       f"{state or 'without a rollout state'}")
    if state not in (None, "COMPLETED"):
        return False, f"the PRIMARY deployment is {state}"
    if service.get("pendingCount", 0) or service.get("runningCount") != service.get(
            "desiredCount"):
        return False, (f"{service.get('runningCount')} of {service.get('desiredCount')} tasks "
                       f"running, {service.get('pendingCount', 0)} pending")
    return True, "steady"


def judge_drift(outputs: ServiceOutputs, service: dict, primary_images: dict[str, str],
                tasks: list[dict]) -> dict:
    reasons: list[str] = []
    primary: dict = next((d for d in service.get("deployments") or []
                          if d.get("status") == "PRIMARY"), {})
    running = str(primary.get("taskDefinition") or service.get("taskDefinition", ""))
    marker = binding_marker({**service, "taskDefinition": running})
    if running != outputs.task_definition_arn:
        ours = next((d for d in service.get("deployments") or []
                     if d.get("taskDefinition") == outputs.task_definition_arn), None)
        why = (" (an emergency rollback)" if marker is not None
               else f" (ECS rolled back: {primary.get('rolloutStateReason')})"
               if "rolled back" in str(primary.get("rolloutStateReason") or "").lower()
               or (ours or {}).get("rolloutState") == "FAILED"
               else "; a `pulumi up` in progress, or a change made outside Pulumi")
        reasons.append(f"runs {revision_name(running)}, the stack last deployed "
                       f"{revision_name(outputs.task_definition_arn)}{why}")
    for container, image in sorted(primary_images.items()):
        wanted = outputs.image_digests.get(container)
        if wanted is not None and wanted != image:
            same_repository = image.split("@")[0] == wanted.split("@")[0]
            running_ref, wanted_ref = ((image.rsplit("@", 1)[-1], wanted.rsplit("@", 1)[-1])
                                       if same_repository else (image, wanted))
            reasons.append(f"container {container} runs {running_ref}, the stack deployed "
                           f"{wanted_ref}")
    for task in tasks:
        for container in task.get("containers") or []:
            image = primary_images.get(container.get("name", ""), "")
            digest = container.get("imageDigest")
            if (task.get("taskDefinitionArn") == running and digest and "@" in image
                    and image.rsplit("@", 1)[1] != digest):
                reasons.append(f"task {task_id(task['taskArn'])} container {container['name']} "
                               f"runs {digest}, not the revision's {image.rsplit('@', 1)[1]}")
    return {"drifted": bool(reasons), "reasons": reasons,
            "deployedTaskDefinition": outputs.task_definition_arn,
            "runningTaskDefinition": running,
            "emergencyRollback": None if marker is None else {
                "revision": marker.revision, "from": marker.from_revision, "by": marker.by,
                "at": marker.at}}


def service_status(aws: Aws, outputs: ServiceOutputs) -> dict:
    service = describe_service(aws, outputs)
    primary = next((d for d in service.get("deployments") or []
                    if d.get("status") == "PRIMARY"), None)
    running_arn = str((primary or service).get("taskDefinition", ""))
    definition, tags = describe_task_definition(aws, running_arn)
    images = container_images(definition)
    tasks = running_tasks(aws, outputs)
    steady, why = judge_steady(service)
    drift = judge_drift(outputs, service, images, tasks)
    digests: dict[str, set[str]] = {}
    for task in tasks:
        for container in task.get("containers") or []:
            if container.get("imageDigest"):
                digests.setdefault(container["name"], set()).add(container["imageDigest"])
    return {
        "name": outputs.name, "serviceName": outputs.service_name,
        "cluster": outputs.cluster_name, "url": outputs.url,
        "steady": steady, "steadyReason": why, "drift": drift,
        "tasks": {"desired": int(service.get("desiredCount", 0)),
                  "running": int(service.get("runningCount", 0)),
                  "pending": int(service.get("pendingCount", 0))},
        "deployments": [_deployment(d) for d in service.get("deployments") or []],
        "revision": revision_name(running_arn),
        "sourceVersion": tags.get(SOURCE_VERSION_TAG),
        "containers": [{"name": name, "image": image,
                        "runningDigests": sorted(digests.get(name, set()))}
                       for name, image in images.items()],
        "runningTasks": [{"id": task_id(t["taskArn"]),
                          "revision": revision_name(str(t.get("taskDefinitionArn", ""))),
                          "lastStatus": t.get("lastStatus", ""),
                          "health": t.get("healthStatus", "UNKNOWN")} for t in tasks],
        "targets": [{"targetGroup": target_group_name(arn),
                     "targets": [{"id": d.get("Target", {}).get("Id", ""),
                                  "port": d.get("Target", {}).get("Port"),
                                  "state": d.get("TargetHealth", {}).get("State", ""),
                                  "reason": d.get("TargetHealth", {}).get("Reason")}
                                 for d in target_health(aws, arn)]}
                    for arn in target_groups_of(service)],
        "events": [{"at": iso(e.get("createdAt")), "message": " ".join(
            str(e.get("message", "")).split())}
            for e in (service.get("events") or [])[:EVENTS_SHOWN]],
    }


def stack_status(aws_for: Any, outputs: StackOutputs, service: str | None) -> dict:
    """`aws_for(service_outputs)` gives the Aws of that service's region."""
    services = [service_status(aws_for(s), s) for s in outputs.selected(service)]
    return {"stack": outputs.stack, "services": services,
            "steady": all(s["steady"] for s in services),
            "drifted": any(s["drift"]["drifted"] for s in services)}


def _count(targets: list[dict]) -> str:
    states: dict[str, int] = {}
    for target in targets:
        states[target["state"]] = states.get(target["state"], 0) + 1
    reasons = sorted({t["reason"] for t in targets if t.get("reason")})
    text = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "no targets"
    return text + (f" ({', '.join(reasons)})" if reasons else "")


WIDTH = 100
_LABEL = 15  # two spaces, a 12-character label, a space


def _field(label: str, text: str) -> list[str]:
    """`  <label>  <text>`, the text wrapped to WIDTH under itself."""
    import textwrap

    return textwrap.wrap(text, width=WIDTH, initial_indent=f"  {label:<12} ",
                         subsequent_indent=" " * _LABEL, break_on_hyphens=False,
                         break_long_words=False) or [f"  {label}"]


def _service_lines(s: dict, stack: str) -> list[str]:
    verdict = ("steady" if s["steady"] else "NOT STEADY") + (
        ", DRIFTED" if s["drift"]["drifted"] else "")
    lines = [(f"{s['name']}  (stack {stack}, cluster {s['cluster']}, service "
             f"{s['serviceName']}): {verdict}")]
    if s["url"]:
        lines += _field("url", s["url"])
    t = s["tasks"]
    lines += _field("tasks", f"desired {t['desired']}, running {t['running']}, pending "
                             f"{t['pending']}")
    if not s["steady"]:
        lines += _field("why", s["steadyReason"])
    for index, d in enumerate(s["deployments"]):
        reason = f": {d['rolloutStateReason']}" if d["rolloutStateReason"] else ""
        lines += _field("deployments" if index == 0 else "",
                        f"{d['status']:<8} {d['revision']}  {d['rolloutState'] or '-'}  running "
                        f"{d['running']}/{d['desired']}, pending {d['pending']}, failed "
                        f"{d['failed']}{reason}")
    lines += _field("revision", f"{s['revision']}  source-version "
                                f"{s['sourceVersion'] or '(no tag)'}")
    for c in s["containers"]:
        repository, _, digest = c["image"].partition("@")
        lines += _field("container", f"{c['name']}  {repository}")
        if digest:
            lines += _field("", f"revision's {digest}")
        for index, running in enumerate(c["runningDigests"] or ["no running task"]):
            lines += _field("", ("running    " if index == 0 else " " * 11) + running)
    drift = s["drift"]
    if drift["drifted"]:
        for reason in drift["reasons"]:
            lines += _field("drift", reason)
        marker = drift["emergencyRollback"]
        if marker is not None:
            lines += _field("", f"emergency rollback by {marker['by']} at {marker['at']}; the "
                                "next `pulumi up` stops until it is made permanent or cleared "
                                "(docs/day-two.md)")
    else:
        lines += _field("drift", "none: runs what the stack last deployed")
    for group in s["targets"]:
        lines += _field("targets", f"{group['targetGroup']}: {_count(group['targets'])}")
    for index, event in enumerate(s["events"]):
        lines += _field("events" if index == 0 else "", f"{event['at']}  {event['message']}")
    return lines


def render_status(document: dict) -> str:
    lines: list[str] = []
    for s in document["services"]:
        lines += [*_service_lines(s, document["stack"]), ""]
    return "\n".join(lines)
