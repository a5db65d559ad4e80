"""What a change does to the plan: resources added, removed, and changed properties, compared by
URN against a saved `--json` plan."""

from typing import Any


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
        return flat or {prefix: {}}
    return {prefix: value}


def diff_plans(before: dict, after: dict) -> dict:
    old = {r["urn"]: r for r in before.get("resources", [])}
    new = {r["urn"]: r for r in after.get("resources", [])}
    changed = []
    for urn in sorted(set(old) & set(new)):
        a, b = _flatten(old[urn]["properties"]), _flatten(new[urn]["properties"])
        changes = [{"property": key, "before": a.get(key), "after": b.get(key)}
                   for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
        if changes:
            changed.append({"urn": urn, "type": new[urn]["type"], "changes": changes})
    return {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new)),
            "changed": changed}


def render_diff(diff: dict) -> str:
    lines = [(f"Against the saved plan: {len(diff['added'])} to add, {len(diff['changed'])} "
              f"to change, {len(diff['removed'])} to remove")]
    lines += [f"  + {urn.rsplit('::', 1)[-1]}" for urn in diff["added"]]
    lines += [f"  - {urn.rsplit('::', 1)[-1]}" for urn in diff["removed"]]
    for item in diff["changed"]:
        lines.append(f"  ~ {item['urn'].rsplit('::', 1)[-1]} ({item['type']})")
        for change in item["changes"]:
            before, after = str(change["before"]), str(change["after"])
            lines.append(f"      {change['property']}: {before[:80]} => {after[:80]}")
    return "\n".join(lines) + "\n"
