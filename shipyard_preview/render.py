"""The plan as text a reviewer reads in a minute: resources under their component with key
settings, IAM grants per role (wildcards marked), rollout bounds, then the policy verdicts."""

import json
from typing import Any

from .cost import render_cost


def _short(urn: str | None) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 110 else text[:107] + "..."


def _tree(plan: dict) -> list[str]:
    children: dict[str | None, list[dict]] = {}
    urns = {r["urn"] for r in plan["resources"]}
    for resource in plan["resources"]:
        parent = resource["parent"] if resource["parent"] in urns else None
        children.setdefault(parent, []).append(resource)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            indent = "    " * depth
            marks = "".join([" [protected]" if resource["protect"] else "",
                             f" [ignores {', '.join(resource['ignoreChanges'])}]"
                             if resource["ignoreChanges"] else ""])
            lines.append(f"{indent}+ {resource['type']}  {resource['name']}{marks}")
            for label, value in resource["keySettings"].items():
                if label == "containers":
                    for container in value:
                        lines.append(f"{indent}      container {container.get('name')}:")
                        for key, item in container.items():
                            if key != "name":
                                shown = item if isinstance(item, str) else json.dumps(item)
                                lines.append(f"{indent}          {key}: {shown}")
                else:
                    lines.append(f"{indent}      {label}: {_value(value)}")
            walk(resource["urn"], depth + 1)

    walk(None, 0)
    return lines


def _iam(plan: dict) -> list[str]:
    lines = []
    for grant in plan["iam"]:
        lines.append(f"  role {grant['role']} (policy {grant['policy']})")
        if grant["unreadable"]:
            lines.append("      [policy not readable offline: secret or unknown]")
        for statement in grant["statements"]:
            mark = ("  <-- WILDCARD: every resource" if statement["wildcard"] else
                    "  (wildcard inside a named resource)" if statement["scopedWildcard"] else "")
            lines.append(f"      {statement['effect']} {', '.join(statement['actions'])}")
            lines.append(f"          on {', '.join(map(str, statement['resources']))}{mark}")
    return lines


def _verdicts(policy: dict) -> list[str]:
    lines = [(f"Policy pack {policy['pack']} v{policy['version']}: {policy['policies']} rules, "
              f"{policy['mandatoryViolations']} mandatory and {policy['advisoryViolations']} "
              "advisory violations"),
             f"  policy config: {policy['config'] or 'the pack defaults'}"]
    for verdict in sorted(policy["verdicts"],
                          key=lambda v: (v["enforcementLevel"] != "mandatory", v["policy"])):
        message = verdict["message"].split("\n", 1)[-1]
        lines.append(f"  [{verdict['enforcementLevel']}] {verdict['policy']} "
                     f"({verdict['severity']}) on {_short(verdict['urn']) or 'stack'}")
        lines.append(f"      {message}")
        if verdict["remediation"]:
            lines.append(f"      fix: {verdict['remediation']}")
    if policy["skipped"]:
        lines.append(f"  {len(policy['skipped'])} rule evaluations skipped (values unknown "
                     "until deploy):")
        for skipped in policy["skipped"]:
            lines.append(f"      {skipped['policy']} on {_short(skipped['urn']) or 'stack'}")
    return lines


def render_text(plan: dict) -> str:
    header = (f"Offline preview of {plan['project']}/{plan['stack']}: "
              f"{plan['resourceCount']} resources"
              + (" (unknowns as at a first preview)" if plan["previewUnknowns"] else ""))
    bounds = {k: v for k, v in plan["outputs"].items() if k.endswith("rollout_bound_seconds")}
    rollout = (["Rollout bound (health checks to healthy + draining)",
                *[f"  {k.removesuffix('_rollout_bound_seconds')}: {v} s"
                  for k, v in bounds.items()], ""] if bounds else [])
    sections = [header, "", "Resources", *_tree(plan), "", "IAM grants", *_iam(plan), "",
                *rollout, "Outputs", *[f"  {k}: {_value(v)}" for k, v in plan["outputs"].items()], "",
                *render_cost(plan["cost"])]
    if "policy" in plan:
        sections += ["", *_verdicts(plan["policy"])]
    return "\n".join(sections) + "\n"
