"""The emergency-rollback marker and the check that makes the next `pulumi up` say so.

`shipyard rollback --emergency` points the ECS service at a retained revision directly (outside
Pulumi) and tags the service with the marker below: the revision it now runs, the one it ran
before, who did it and when. Without more, the next `pulumi up` would silently roll forward:
the provider compares its state, not the live service, so any change of the task definition
sends the stack's revision again (and `up --refresh` reads the live revision and puts the
stack's back).

`DriftCheck` is a dynamic resource registered before the ECS service, and the service depends
on it. Its Check (called by the engine on every preview and update, before the service's step)
reads the live service; while the service still runs the marked revision and the update would
deploy other images, Check fails with a message that names the revision, who and when, and the
two ways forward. Once the service runs another revision (the rollback was made permanent
through delivery, or rolled forward on purpose) the marker no longer binds.

The service is found without its physical name (which is only known after the service's own
step): ListServices in the cluster, the names that start with the component's logical service
name (Pulumi auto-names `<logical>-<7 hex>`), then the one whose task definition is in this
stack's family (one family per stack and service: rollout.task_definition_family).

Tag values may hold letters, digits, spaces and `+ - = . _ : / @`, up to 256 characters (ECS
API reference, Tag)."""

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.runtime import rpc

from .aws_session import ProviderIdentityError, provider_session

REVISION_TAG = "shipyard:emergency-rollback-revision"
FROM_TAG = "shipyard:emergency-rollback-from"
BY_TAG = "shipyard:emergency-rollback-by"
AT_TAG = "shipyard:emergency-rollback-at"
MARKER_KEYS = (REVISION_TAG, FROM_TAG, BY_TAG, AT_TAG)
TAG_VALUE_MAX = 256
_TAG_VALUE_UNSAFE = re.compile(r"[^\w .:/=+@-]")
DESCRIBE_SERVICES_LIMIT = 10  # DescribeServices takes at most 10 services (ECS API reference)
# ecs:ListServices, ecs:DescribeServices (with tags) and ecs:DescribeTaskDefinition: what the
# check calls, for the message when it may not.
CHECK_ACTIONS = ("ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeTaskDefinition")


@dataclass(frozen=True)
class EmergencyRollback:
    revision: int
    """The revision the rollback put the service on."""
    from_revision: int | None
    by: str
    at: str


def _tag_value(value: str) -> str:
    return _TAG_VALUE_UNSAFE.sub("_", value)[:TAG_VALUE_MAX]


def marker_tags(marker: EmergencyRollback) -> list[dict[str, str]]:
    """The ECS TagResource `tags` that record an emergency rollback."""
    values = {REVISION_TAG: str(marker.revision),
              FROM_TAG: "" if marker.from_revision is None else str(marker.from_revision),
              BY_TAG: marker.by, AT_TAG: marker.at}
    return [{"key": k, "value": _tag_value(v)} for k, v in values.items()]


def read_marker(tags: dict[str, str]) -> EmergencyRollback | None:
    revision = tags.get(REVISION_TAG, "")
    if not revision.isdigit():
        return None
    source = tags.get(FROM_TAG, "")
    return EmergencyRollback(revision=int(revision),
                             from_revision=int(source) if source.isdigit() else None,
                             by=tags.get(BY_TAG, "unknown"), at=tags.get(AT_TAG, "unknown"))


def revision_of(task_definition_arn: str) -> tuple[str, int | None]:
    """(family, revision) of a task definition ARN or `family:revision`."""
    name = task_definition_arn.rsplit("/", 1)[-1]
    family, _, revision = name.rpartition(":")
    if not family:
        return name, None
    return family, int(revision) if revision.isdigit() else None


def binding_marker(service: dict) -> EmergencyRollback | None:
    """The marker of a DescribeServices entry (with tags), if the service still runs the
    revision the emergency rollback put it on."""
    tags = {t["key"]: t["value"] for t in service.get("tags") or [] if "key" in t}
    marker = read_marker(tags)
    if marker is None:
        return None
    _, running = revision_of(str(service.get("taskDefinition", "")))
    return marker if running == marker.revision else None


def container_images(task_definition: dict) -> dict[str, str]:
    return {c["name"]: c.get("image", "") for c in task_definition.get("containerDefinitions")
            or [] if "name" in c}


def drift_message(*, stack: str, service: str, family: str, marker: EmergencyRollback) -> str:
    source = f", from revision {marker.from_revision}" if marker.from_revision else ""
    return (
        f"service {service} runs {family}:{marker.revision}, put there by an emergency "
        f"rollback (by {marker.by} at {marker.at}{source}); this update would replace it with "
        "other images, so it stops before touching the service. Either make the rollback "
        f"permanent: deploy the release that built revision {marker.revision} through delivery "
        f"(`shipyard rollback {stack} {service} --to {marker.revision}` names it), which deploys "
        "the same images and passes this check; or roll forward on purpose: "
        f"`shipyard rollback {stack} {service} --clear-emergency`, then run this update again.")


def find_emergency_drift(ecs: Any, *, cluster: str, family: str, service_prefix: str,
                         desired_images: dict[str, str] | None, stack: str,
                         service: str) -> str | None:
    """The failure message when an emergency rollback binds and the update would deploy other
    images (`desired_images` None: not known yet, as in a preview that builds), else None."""
    names = [arn for page in ecs.get_paginator("list_services").paginate(cluster=cluster)
             for arn in page.get("serviceArns") or []
             if arn.rsplit("/", 1)[-1].startswith(service_prefix)]
    for start in range(0, len(names), DESCRIBE_SERVICES_LIMIT):
        answer = ecs.describe_services(cluster=cluster,
                                       services=names[start:start + DESCRIBE_SERVICES_LIMIT],
                                       include=["TAGS"])
        for live in answer.get("services") or []:
            running = str(live.get("taskDefinition", ""))
            if revision_of(running)[0] != family:
                continue
            marker = binding_marker(live)
            if marker is None:
                continue
            if desired_images is not None:
                definition = ecs.describe_task_definition(taskDefinition=running)
                if container_images(definition["taskDefinition"]) == desired_images:
                    return None  # this update makes the rollback permanent
            return drift_message(stack=stack, service=service, family=family, marker=marker)
    return None


def _known(value: Any) -> bool:
    if value == rpc.UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(_known(v) for v in value.values())
    if isinstance(value, list):
        return all(_known(v) for v in value)
    return value is not None


def _why_unreadable(error: Exception) -> str:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped,unused-ignore]

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if "AccessDenied" in code or code == "UnauthorizedOperation":
            return (f"the drift check may not read the live service ({code}); the identity of "
                    f"this update needs {', '.join(CHECK_ACTIONS)} in the stack's region")
        return f"the drift check could not read the live service: {code}: " + " ".join(
            str(error.response.get("Error", {}).get("Message", "")).split())
    return f"the drift check could not read the live service: {type(error).__name__}: {error}"


class _DriftCheckProvider(pulumi.dynamic.ResourceProvider):
    def check(self, _olds: dict, news: dict) -> pulumi.dynamic.CheckResult:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]

        needed = ("cluster", "family", "service_prefix", "region", "account_id", "principal")
        if not all(_known(news.get(key)) for key in needed):
            return pulumi.dynamic.CheckResult(news, [])  # a first deployment: nothing runs yet
        images = news.get("images")
        try:
            message = find_emergency_drift(
                provider_session(news).client("ecs"), cluster=news["cluster"],
                family=news["family"], service_prefix=news["service_prefix"],
                desired_images=dict(images) if _known(images) and images else None,
                stack=str(news.get("stack")), service=str(news.get("service")))
        except ProviderIdentityError as error:
            message = str(error)
        except (ClientError, BotoCoreError) as error:
            message = _why_unreadable(error)
        failures = [pulumi.dynamic.CheckFailure("cluster", message)] if message else []
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=f"{props['cluster']}/{props['family']}",
                                           outs=props)

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        # The images change with every release; the check reads them from the inputs each time,
        # so only where it looks is a change worth showing.
        keys = ("cluster", "family", "service_prefix", "region")
        return pulumi.dynamic.DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=news)


class DriftCheck(pulumi.dynamic.Resource):
    """Fails preview and update while an emergency rollback binds the service (see the module
    docstring). Register it before the ECS service and make the service depend on it."""

    def __init__(self, name: str, *, service: str, cluster: pulumi.Input[str], family: str,
                 service_prefix: str, images: pulumi.Input[dict[str, str]],
                 identity: dict[str, pulumi.Output[str]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_DriftCheckProvider(), name, {
            "service": service, "stack": pulumi.get_stack(), "cluster": cluster,
            "family": family, "service_prefix": service_prefix, "images": images, **identity,
        }, opts)
