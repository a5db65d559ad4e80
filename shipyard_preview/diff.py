"""What a change does, against a saved `--json` plan: resources added and removed (type and
URN), changed properties field by field (container definitions by container and key), the IAM
grants added and removed as (action, resource) pairs per role, and the cost delta."""

import json
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError

from .cost import cost_delta, estimate, render_cost_delta

_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
_POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
# Container-definition lists whose items have a name: compared item by item.
_NAMED_LISTS = ("environment", "secrets", "mountPoints", "dependsOn")
_EXPECTED = "a JSON plan written by `shipyard preview --out` (or --json)"


def load_saved_plan(path: str) -> dict:
    """A saved plan, checked enough to diff against; anything else is a ConfigError (exit 2)."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError("--against", path, f"an existing file: {_EXPECTED}")
    try:
        plan = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError("--against", path, f"{_EXPECTED}; not JSON ({error})") from None
    resources = plan.get("resources") if isinstance(plan, dict) else None
    if not isinstance(resources, list) or not all(
            isinstance(r, dict) and isinstance(r.get("urn"), str) and isinstance(r.get("type"), str)
            and isinstance(r.get("properties"), dict) for r in resources):
        raise ConfigError("--against", path,
                          f"{_EXPECTED}; it has no resources list with urn, type and properties")
    return plan


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
        return flat or {prefix: {}}
    return {prefix: value}


def _containers(raw: Any) -> dict[str, dict] | None:
    if not isinstance(raw, str):
        return None
    try:
        definitions = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(definitions, list):
        return None
    containers = {}
    for index, container in enumerate(definitions):
        if not isinstance(container, dict):
            return None
        shaped = dict(container)
        for key in _NAMED_LISTS:
            items = shaped.get(key)
            if isinstance(items, list) and all(isinstance(i, dict) and "name" in i
                                               for i in items):
                shaped[key] = {i["name"]: {k: v for k, v in i.items() if k != "name"}
                               for i in items}
        containers[str(container.get("name", f"#{index}"))] = shaped
    return containers


def _container_changes(before: Any, after: Any) -> list[dict] | None:
    old, new = _containers(before), _containers(after)
    if old is None or new is None:
        return None
    changes: list[dict[str, Any]] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes.append({"property": f"containerDefinitions[{name}]", "before": "present",
                            "after": "removed"})
        elif name not in old:
            changes.append({"property": f"containerDefinitions[{name}]", "before": "absent",
                            "after": "added"})
        else:
            a, b = _flatten(old[name]), _flatten(new[name])
            changes += [{"property": f"containerDefinitions[{name}].{key}",
                         "before": a.get(key), "after": b.get(key)}
                        for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
    return changes


def _json_object(value: Any) -> Any:
    """A property holding a JSON object as a string (provider inputs, documents), parsed so it
    diffs by key; anything else unchanged."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value
        return parsed if isinstance(parsed, dict) else value
    return value


def _property_changes(resource_type: str, before: dict, after: dict) -> list[dict]:
    changes: list[dict] = []
    old, new = dict(before), dict(after)
    if resource_type == _TASK_DEFINITION:
        containers = _container_changes(old.get("containerDefinitions"),
                                        new.get("containerDefinitions"))
        if containers is not None:
            changes += containers
            old.pop("containerDefinitions", None)
            new.pop("containerDefinitions", None)
    if resource_type in _POLICY_TYPES and old.get("policy") != new.get("policy"):
        changes.append({"property": "policy", "before": "...", "after": "see IAM changes"})
        old.pop("policy", None)
        new.pop("policy", None)
    a = _flatten({k: _json_object(v) for k, v in old.items()})
    b = _flatten({k: _json_object(v) for k, v in new.items()})
    changes += [{"property": key, "before": a.get(key), "after": b.get(key)}
                for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
    return sorted(changes, key=lambda c: c["property"])


def _grants(plan: dict) -> set[tuple[str, str, str, str]]:
    """(role, effect, action, resource) for every statement of every identity policy."""
    grants = set()
    for grant in plan.get("iam") or []:
        if not isinstance(grant, dict):
            continue
        role = str(grant.get("role") or grant.get("policy"))
        for statement in grant.get("statements") or []:
            for action in statement.get("actions") or []:
                for resource in statement.get("resources") or []:
                    grants.add((role, str(statement.get("effect")), str(action), str(resource)))
    return grants


def diff_plans(before: dict, after: dict) -> dict:
    old = {r["urn"]: r for r in before.get("resources", [])}
    new = {r["urn"]: r for r in after.get("resources", [])}
    changed = []
    for urn in sorted(set(old) & set(new)):
        changes = _property_changes(new[urn]["type"], old[urn]["properties"],
                                    new[urn]["properties"])
        if changes:
            changed.append({"urn": urn, "type": new[urn]["type"], "changes": changes})
    old_grants, new_grants = _grants(before), _grants(after)

    def grant_rows(rows: set) -> list[dict]:
        return [{"role": role, "effect": effect, "action": action, "resource": resource}
                for role, effect, action, resource in sorted(rows)]

    saved_cost = before.get("cost")
    if not isinstance(saved_cost, dict) and isinstance(after.get("cost"), dict):
        # A plan saved before the estimate existed: price its resources the same way.
        saved_cost = estimate(list(old.values()), after["cost"]["region"])
    return {
        "added": [{"urn": u, "type": new[u]["type"]} for u in sorted(set(new) - set(old))],
        "removed": [{"urn": u, "type": old[u]["type"]} for u in sorted(set(old) - set(new))],
        "changed": changed,
        "iam": {"added": grant_rows(new_grants - old_grants),
                "removed": grant_rows(old_grants - new_grants)},
        "cost": cost_delta(saved_cost, after.get("cost") or {}),
    }


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"),
                                                           sort_keys=True)


def render_diff(diff: dict) -> str:
    lines = [(f"Against the saved plan: {len(diff['added'])} to add, {len(diff['changed'])} "
              f"to change, {len(diff['removed'])} to remove")]
    lines += [f"  + {item['type']}  {item['urn']}" for item in diff["added"]]
    lines += [f"  - {item['type']}  {item['urn']}" for item in diff["removed"]]
    for item in diff["changed"]:
        lines.append(f"  ~ {item['type']}  {item['urn']}")
        for change in item["changes"]:
            lines.append(f"      {change['property']}: {_shown(change['before'])} => "
                         f"{_shown(change['after'])}")
    iam = diff["iam"]
    lines.append(f"IAM changes: {len(iam['added'])} grants added, {len(iam['removed'])} removed")
    lines += [f"  + {g['role']}: {g['effect']} {g['action']} on {g['resource']}"
              for g in iam["added"]]
    lines += [f"  - {g['role']}: {g['effect']} {g['action']} on {g['resource']}"
              for g in iam["removed"]]
    lines += render_cost_delta(diff["cost"])
    return "\n".join(lines) + "\n"
