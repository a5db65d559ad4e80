"""What every rule shares: reading properties, parsing embedded JSON (failing closed), walking IAM
statements, and declaring a policy with its metadata in one call."""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

DOCS = "https://github.com/shipyard/shipyard/blob/main/policy/RULES.md"


class Unparseable(Exception):
    """An embedded JSON document could not be read: the rule reports instead of passing."""


def parse_json(value: Any, what: str) -> Any:
    if isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
        return value
    if not isinstance(value, str):
        raise Unparseable(f"{what} is not a JSON document (got {type(value).__name__})")
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise Unparseable(f"{what} is not valid JSON ({error.msg} at line {error.lineno})")


def num(value: Any) -> Any:
    """Numbers cross the protocol as floats; show 80, not 80.0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def container_definitions(props: Any) -> list:
    """A task definition's `containerDefinitions`: a JSON list of objects, or Unparseable."""
    definitions = parse_json(props.get("containerDefinitions"), "containerDefinitions")
    if isinstance(definitions, (str, Mapping)) or not isinstance(definitions, Sequence):
        raise Unparseable("containerDefinitions is not a list")
    for definition in definitions:
        if not isinstance(definition, Mapping):
            raise Unparseable("containerDefinitions has an entry that is not an object")
    return list(definitions)


def as_list(value: Any) -> list:
    """A value the engine may send as a string or a list (IAM Action, Resource...), as a list.
    Policy proxies are Mappings/Sequences, not dicts/lists."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def type_matches(resource_type: str, *tokens: str) -> bool:
    """`aws:lb/...` and its older alias `aws:alb/...` name the same resources."""
    normalized = resource_type.replace("aws:alb/", "aws:lb/", 1)
    return normalized in tokens


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: list[str]
    not_actions: list[str] | None
    resources: list[str]
    not_resources: list[str] | None
    principal: Any
    condition: dict
    sid: str

    def label(self, index: int) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{index + 1}"


def statements(document: Any, what: str) -> list[Statement]:
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise Unparseable(f"{what} has no Statement")
    result = []
    for raw in as_list(document["Statement"]):
        if not isinstance(raw, Mapping) or raw.get("Effect") not in ("Allow", "Deny"):
            raise Unparseable(f"{what} has a statement without Effect Allow or Deny")
        result.append(Statement(
            effect=raw["Effect"], actions=[str(a) for a in as_list(raw.get("Action"))],
            not_actions=[str(a) for a in as_list(raw["NotAction"])] if "NotAction" in raw else None,
            resources=[str(r) for r in as_list(raw.get("Resource"))],
            not_resources=([str(r) for r in as_list(raw["NotResource"])]
                           if "NotResource" in raw else None),
            principal=raw.get("Principal"), condition=raw.get("Condition") or {},
            sid=str(raw.get("Sid", ""))))
    return result


Check = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackValidationArgs], Iterable[tuple[str, str]]]


def _with_parse_guard(check: Callable, report: ReportViolation, args: Any) -> None:
    try:
        for item in check(args):
            if isinstance(item, tuple):
                report(item[1], item[0])
            else:
                report(item, None)
    except Unparseable as error:
        report(f"Cannot verify: {error}. Fix the document so the rule can read it.", None)


def resource_policy(name: str, description: str, types: tuple[str, ...], check: Check, *,
                    remediation: str, severity: Severity = Severity.HIGH,
                    enforcement: EnforcementLevel | None = None,
                    config_schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if type_matches(args.resource_type, *types):
            _with_parse_guard(check, report, args)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=enforcement,
        config_schema=config_schema, severity=severity, remediation_steps=remediation,
        url=f"{DOCS}#{name}")


def stack_policy(name: str, description: str, check: StackCheck, *, remediation: str,
                 severity: Severity = Severity.HIGH, enforcement: EnforcementLevel | None = None,
                 config_schema: PolicyConfigSchema | None = None) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        _with_parse_guard(check, report, args)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=enforcement,
        config_schema=config_schema, severity=severity, remediation_steps=remediation,
        url=f"{DOCS}#{name}")


def of_type(resources: Iterable, *tokens: str) -> Iterator:
    return (r for r in resources if type_matches(r.resource_type, *tokens))


def depends_on(resource: Any, prop: str, target: Any) -> bool:
    """Whether `resource.props[prop]` was computed from `target` (engine property dependencies)."""
    return any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, []))
