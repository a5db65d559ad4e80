"""What every rule shares: reading properties, parsing embedded JSON (failing closed), walking IAM
statements, one guard around every rule, and declaring a policy with its metadata in one call."""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

FSBP_NAME = "AWS Foundational Security Best Practices"
_FSBP_PAGE = ("https://docs.aws.amazon.com/securityhub/latest/userguide/"
              "{service}-controls.html#{anchor}")
_MAX_REASON = 200


class Unparseable(Exception):
    """An embedded document could not be read as its consumer reads it: the rule reports."""


@dataclass(frozen=True)
class Refs:
    """The controls a rule implements, and why it exists. `doc` is the page to read when the rule
    has no Security Hub control (the product's own rules)."""
    why: str
    fsbp: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    doc: str | None = None

    def url(self) -> str:
        if self.fsbp:
            service, number = self.fsbp[0].split(".")
            return _FSBP_PAGE.format(service=service.lower(),
                                     anchor=f"{service.lower()}-{number}")
        assert self.doc, "a rule without a Security Hub control names its documentation page"
        return self.doc

    def tags(self) -> list[str]:
        return ([f"fsbp:{i}" for i in self.fsbp] + [f"cdk-nag:{i}" for i in self.cdk_nag]
                + [f"checkov:{i}" for i in self.checkov])

    def framework(self) -> PolicyComplianceFramework:
        if self.fsbp:
            return PolicyComplianceFramework(name=FSBP_NAME, version="1.0.0",
                                             reference=", ".join(self.fsbp), specification=self.why)
        return PolicyComplianceFramework(name="shipyard", version="1",
                                         reference=", ".join(self.cdk_nag + self.checkov) or None,
                                         specification=self.why)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    """Consumers disagree on duplicate keys (Python and Go keep the last, others the first or
    refuse): a document with one cannot be judged the way it will be applied."""
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise Unparseable(f"the document repeats the key {key!r}")
        result[key] = value
    return result


MAX_DEPTH = 64
"""Deeper than any document AWS takes (an ECS container definition or an IAM policy is a
handful of levels): past it the rules refuse rather than walk."""


def _not_json(constant: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (RFC 8259) and Go's decoder do not.
    raise Unparseable(f"holds {constant}, which is not JSON")


def depth_within(value: Any, what: str, limit: int = MAX_DEPTH) -> Any:
    """`value`, after checking without recursion that it nests at most `limit` levels."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            raise Unparseable(f"{what} is nested deeper than {limit} levels")
        if isinstance(item, Mapping):
            pending.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, Sequence) and not isinstance(item, str):
            pending.extend((v, depth + 1) for v in item)
    return value


def parse_json(value: Any, what: str) -> Any:
    if isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
        return depth_within(value, what)
    if not isinstance(value, str):
        raise Unparseable(f"{what} is not a JSON document (got {type(value).__name__})")
    try:
        parsed = json.loads(value, object_pairs_hook=_no_duplicate_keys,
                            parse_constant=_not_json)
    except json.JSONDecodeError as error:
        raise Unparseable(f"{what} is not valid JSON ({error.msg} at line {error.lineno})")
    except Unparseable as error:
        raise Unparseable(f"{what}: {error}") from None
    except RecursionError:
        raise Unparseable(f"{what} is nested too deeply to read") from None
    return depth_within(parsed, what)


def as_list(value: Any) -> list:
    """A value the engine may send as a string or a list (IAM Action, Resource...), as a list.
    Policy proxies are Mappings/Sequences, not dicts/lists."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def mapping(value: Any, what: str) -> Mapping:
    """An object property, or {} when absent; anything else cannot be judged."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Unparseable(f"{what} is not an object (got {type(value).__name__})")
    return value


def objects(value: Any, what: str) -> list[Mapping]:
    """A list of objects (possibly one object); nulls or scalars inside cannot be judged."""
    items = [value] if isinstance(value, Mapping) else as_list(value)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise Unparseable(f"{what}[{index}] is not an object (got {type(item).__name__})")
    return items


def type_matches(resource_type: str, *tokens: str) -> bool:
    """`aws:lb/...` and its older alias `aws:alb/...` name the same resources."""
    normalized = resource_type.replace("aws:alb/", "aws:lb/", 1)
    return normalized in tokens


# ---- unknown values ----------------------------------------------------------------------------
# The SDK skips a whole rule when it touches a value unknown at preview. A list with one unknown
# element must still have its known elements judged: `each_known` judges element by element and
# remembers the unknown; the guard re-raises it only when nothing else was found.
_DEFERRED: ContextVar[list[UnknownValueError] | None] = ContextVar("deferred_unknowns",
                                                                   default=None)


def each_known(items: Any, judge: Callable[[int, Any], Iterable[Any]]) -> Iterator[Any]:
    """judge(index, item) for every element whose judgement does not touch an unknown value."""
    count = len(items) if isinstance(items, Sequence) and not isinstance(items, str) else None
    sequence = items if count is not None else as_list(items)
    for index in range(len(sequence)):
        try:
            found = list(judge(index, sequence[index]))
        except UnknownValueError as unknown:
            deferred = _DEFERRED.get()
            if deferred is None:
                raise
            deferred.append(unknown)
            continue
        yield from found


def each_part(*parts: Callable[[], Iterable[Any]]) -> Iterator[Any]:
    """Independent parts of one rule (a role's inline documents and its managed ARNs): an unknown
    in one part does not stop the others being judged."""
    return each_known(list(parts), lambda index, part: part())


# ---- IAM statements ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    effect: str
    actions: list[str]
    not_actions: list[str] | None
    resources: list[str]
    not_resources: list[str] | None
    principal: Any
    condition: Mapping
    sid: str

    def label(self, index: int) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{index + 1}"


def _strings(value: Any, what: str) -> list[str]:
    items = as_list(value)
    for item in items:
        if not isinstance(item, str):
            raise Unparseable(f"{what} holds a {type(item).__name__}, not a string")
    return items


def statements(document: Any, what: str) -> list[Statement]:
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise Unparseable(f"{what} has no Statement")
    result = []
    for raw in objects(document["Statement"], f"{what} Statement"):
        if raw.get("Effect") not in ("Allow", "Deny"):
            raise Unparseable(f"{what} has a statement without Effect Allow or Deny")
        result.append(Statement(
            effect=raw["Effect"], actions=_strings(raw.get("Action"), f"{what} Action"),
            not_actions=(_strings(raw["NotAction"], f"{what} NotAction")
                         if "NotAction" in raw else None),
            resources=_strings(raw.get("Resource"), f"{what} Resource"),
            not_resources=(_strings(raw["NotResource"], f"{what} NotResource")
                           if "NotResource" in raw else None),
            principal=raw.get("Principal"),
            condition=mapping(raw.get("Condition"), f"{what} Condition"),
            sid=str(raw.get("Sid", ""))))
    return result


# ---- the guard and the declarations ------------------------------------------------------------
Check = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackValidationArgs], Iterable[tuple[str, str]]]


def _guarded(check: Callable, report: ReportViolation, args: Any) -> None:
    """Every rule runs here: whatever its input, the Analyzer call returns a verdict. An input the
    rule cannot read is a violation that says why ('Cannot verify'), never an exception."""
    token = _DEFERRED.set([])
    reported = 0
    try:
        for item in check(args):
            reported += 1
            if isinstance(item, tuple):
                report(item[1], item[0])
            else:
                report(item, None)
        deferred = _DEFERRED.get() or []
        if deferred and not reported:
            raise deferred[0]
    except UnknownValueError:
        if reported:
            return  # What was known is already judged; the unknown rest cannot excuse it.
        raise
    except Unparseable as error:
        report(f"Cannot verify: {error}. Fix the document so the rule can read it.", None)
    except Exception as error:  # noqa: BLE001 - the guard exists to turn any failure into a verdict
        reason = f"{type(error).__name__}: {error}"[:_MAX_REASON]
        report(f"Cannot verify: the rule could not read this input ({reason}).", None)
    finally:
        _DEFERRED.reset(token)


READS_TAG = "reads:"
"""Tag prefix carrying, per rule, each normalization and IAM semantics it relies on
("reads:<id>: <what it does>"): RULES.md lists them from the running pack."""


def _tags(refs: Refs, reads: tuple[str, ...]) -> list[str]:
    from .normalize import READINGS

    unknown = [key for key in reads if key not in READINGS]
    assert not unknown, f"undeclared readings {unknown}"
    return refs.tags() + [f"{READS_TAG}{key}: {READINGS[key]}" for key in reads]


def resource_policy(name: str, description: str, types: tuple[str, ...], check: Check, *,
                    refs: Refs, remediation: str, reads: tuple[str, ...],
                    severity: Severity = Severity.HIGH,
                    enforcement: EnforcementLevel | None = None,
                    config_schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    """`reads`: the ids of the normalizations and IAM semantics the rule relies on."""
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if type_matches(args.resource_type, *types):
            _guarded(check, report, args)

    policy = ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=enforcement,
        config_schema=config_schema, severity=severity, remediation_steps=remediation,
        url=refs.url(), framework=refs.framework(), tags=_tags(refs, reads))
    policy.reads = reads  # type: ignore[attr-defined]
    return policy


def stack_policy(name: str, description: str, check: StackCheck, *, refs: Refs,
                 remediation: str, reads: tuple[str, ...], severity: Severity = Severity.HIGH,
                 enforcement: EnforcementLevel | None = None,
                 config_schema: PolicyConfigSchema | None = None) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        _guarded(check, report, args)

    policy = StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=enforcement,
        config_schema=config_schema, severity=severity, remediation_steps=remediation,
        url=refs.url(), framework=refs.framework(), tags=_tags(refs, reads))
    policy.reads = reads  # type: ignore[attr-defined]
    return policy


def of_type(resources: Iterable, *tokens: str) -> Iterator:
    return (r for r in resources if type_matches(r.resource_type, *tokens))


def depends_on(resource: Any, prop: str, target: Any) -> bool:
    """Whether `resource.props[prop]` was computed from `target` (engine property dependencies)."""
    return any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, []))
