"""A change guard: a dynamic resource that records values which must not change for the life of
another resource, and fails the preview (and so `pulumi up`, which previews first) when one
would.

Some changes the engine would carry out, and carry out badly. An ECR repository cannot be
renamed or re-encrypted in place (its name and encryption configuration are create-only: the
CloudFormation registry schema of AWS::ECR::Repository lists them in createOnlyProperties, and
terraform-provider-aws marks them ForceNew), so the engine replaces it, which fails on a
repository that holds images (force_delete is off) and would lose the images rollback needs.
The load-balancer wiring of a service whose traffic shifts between two target groups is not
sent again after creation (container_service.ecs_owned_service_fields), so a change to it would
silently not reach ECS. The guard turns both into a clear refusal before anything changes.

The guard calls no AWS API. Its diff runs in the preview with the values the program would
register; a value the preview cannot know yet (the resource it comes from is being replaced)
counts as a change. The judging is a pure function, tested without the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.runtime import rpc

SUBJECT_KEY = "subject"
REMEDY_KEY = "remedy"
FIXED_KEY = "fixed"


class ChangeRefused(Exception):
    """A value the guard protects would change."""


def refused_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """'<key>: <old> -> <new>' for every recorded value the new inputs change."""
    before, after = olds.get(FIXED_KEY) or {}, news.get(FIXED_KEY) or {}
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        shown = "(unknown until deploy: what it comes from is replaced)" if _unknown(new) \
            else repr(new)
        changes.append(f"{key}: {old!r} -> {shown}")
    return changes


def _unknown(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown(v) for v in value)
    return value == rpc.UNKNOWN


def refusal_message(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    changes = refused_changes(olds, news)
    if not changes:
        return None
    return (f"{news.get(SUBJECT_KEY) or olds.get(SUBJECT_KEY)}: refusing to change "
            f"{'; '.join(changes)}. {news.get(REMEDY_KEY) or olds.get(REMEDY_KEY)}")


class _ChangeGuardProvider(pulumi.dynamic.ResourceProvider):
    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=str(props[SUBJECT_KEY]), outs=props)

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        message = refusal_message(olds, news)
        if message is not None:
            raise ChangeRefused(message)
        # The subject and the remedy are wording: recording a new one changes nothing else.
        return pulumi.dynamic.DiffResult(changes=any(
            olds.get(k) != news.get(k) for k in (SUBJECT_KEY, REMEDY_KEY)), replaces=[])

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=news)


class ChangeGuard(pulumi.dynamic.Resource):
    def __init__(self, name: str, *, subject: str, fixed: Mapping[str, pulumi.Input[Any]],
                 remedy: str, opts: pulumi.ResourceOptions | None = None) -> None:
        """`subject`: what is guarded, as the refusal names it; `fixed`: the values that must
        not change; `remedy`: what to do instead, appended to the refusal."""
        super().__init__(_ChangeGuardProvider(), name, {
            SUBJECT_KEY: subject, FIXED_KEY: dict(fixed), REMEDY_KEY: remedy}, opts)
