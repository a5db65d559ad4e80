"""Ask the running pack (over the Analyzer protocol) what it thinks of hand-made resources."""

import json
from typing import Any

from conftest import recorded
from pulumi.runtime import rpc

from shipyard_preview.analyzer import PackSession

UNKNOWN = rpc.UNKNOWN
DIGEST = "sha256:" + "a" * 64


def messages(pack: PackSession, policy: str, type_token: str, props: dict,
             name: str = "subject") -> list[str]:
    """The violation messages `policy` reports for one resource, without the description line."""
    verdicts, _ = pack.analyze_resource(recorded(type_token, name, props), {})
    return [v.message.split("\n", 1)[1] for v in verdicts if v.policy == policy]


def skipped(pack: PackSession, policy: str, type_token: str, props: dict) -> bool:
    _, skips = pack.analyze_resource(recorded(type_token, "subject", props), {})
    return any(s.policy == policy for s in skips)


def stack_messages(pack: PackSession, policy: str, resources: list) -> list[tuple[str, str]]:
    verdicts, _ = pack.analyze_stack(resources)
    return [(v.urn.rsplit("::", 1)[-1], v.message.split("\n", 1)[1])
            for v in verdicts if v.policy == policy]


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = None, **extra: Any) -> dict:
    statement = {"Effect": "Allow", "Action": action, **extra}
    if resource is not None:
        statement["Resource"] = resource
    return statement


def containers(*definitions: dict) -> dict:
    return {"containerDefinitions": json.dumps(list(definitions))}
