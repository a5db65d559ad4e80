"""AWS's documented IAM policy evaluation logic, implemented once so tests can ask "would AWS allow
this exact request?" instead of eyeballing JSON.

What it implements, with the page of the IAM User Guide each rule comes from:
- Policy evaluation logic (reference_policies_evaluation-logic.html): an explicit Deny in any
  applicable policy wins; otherwise the request needs an Allow; within one account an Allow in
  either the identity-based or the resource-based policy is enough. A resource policy that names
  an account (`arn:aws:iam::<id>:root` or `<id>`) delegates to that account's IAM policies and
  grants nothing by itself to its principals (reference_policies_elements_principal.html,
  "AWS account principals").
- Action / NotAction (reference_policies_elements_action.html, _notaction.html): service prefix
  and action name are case-insensitive; `*` and `?` wildcards.
- Resource / NotResource (reference_policies_elements_resource.html, _notresource.html): see
  `arn_matches`, the reading the maintained IAM simulator implements (wildcards within the
  partition, service, region and account segments; the resource type literally; the rest, which
  may hold `:` and `/`, as one string); what the documentation leaves open is refused.
- Principal / NotPrincipal for resource-based policies (reference_policies_elements_principal.html):
  `"*"` or `{"AWS": "*"}` is everyone; `{"Service": ...}` is a service principal.
- Condition (reference_policies_elements_condition_operators.html and
  reference_policies_condition-single-vs-multi-valued-context-keys.html): operators of one block
  are ANDed, keys of one operator are ANDed, the values of one key are ORed (for a negated
  operator: the request value must match none of them). Key names are case-insensitive. A key
  absent from the request context makes the condition false, except for negated operators (true),
  `...IfExists` (true) and `Null`. `ForAnyValue:` needs one request value to match;
  `ForAllValues:` needs every request value to match (and holds when the key is absent).

Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool,
Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals}, Null, each with
IfExists. An operator it does not know raises UnsupportedPolicy: a test must never pass because
the evaluator skipped a condition it could not read (fail closed).

Not modelled (none of the project's documents use them): permissions boundaries, SCPs/RCPs,
session policies, cross-account evaluation, policy variables (refused), Date/IpAddress/Binary
operators. For those, ask the IAM simulator (shipyard_preview/iam_simulator.py); where this
evaluator answers, test_iam_evaluator_agrees.py holds it to the simulator's answer.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any


class Decision(Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


class UnsupportedPolicy(ValueError):
    """The document uses something this evaluator does not implement."""


@dataclass(frozen=True)
class Request:
    action: str
    """`service:Action`, as AWS authorizes it."""
    resource: str
    """The ARN the call acts on (`*` for actions without resource-level permissions)."""
    principal: Mapping[str, str] = field(default_factory=dict)
    """Who calls, for resource policies: {"AWS": role ARN} or {"Service": "x.amazonaws.com"}."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """Condition keys present in the request: a string, a bool, a number or a list of strings."""


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # fnmatch would also give [..] a meaning; IAM only knows * and ?.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).match(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    return wildcard_match(pattern, action, ignore_case=True)


def _arn_parts(arn: str) -> tuple[list[str], str] | None:
    """(partition, service, region, account), resource part; None for what is not a full ARN."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return parts[1:5], ":".join(parts[5:])


def _product(segments: list[str], resource: str) -> str:
    """The resource part's type prefix up to its first `/` or `:` (`repository/`, `log-group:`),
    "" when it has neither or for S3's bucket and object ARNs (no region, no account)."""
    if segments[1] == "s3" and not segments[2] and not segments[3]:
        return ""
    cuts = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    return resource[:min(cuts) + 1] if cuts else ""


def _refuse_variables(pattern: str) -> None:
    if "${" in pattern:
        raise UnsupportedPolicy(f"policy variables ({pattern!r})")


def arn_matches(pattern: str, arn: str) -> bool:
    """The Resource element as IAM matches it (reference_policies_elements_resource.html and
    reference-arns.html), in the reading the IAM simulator implements, so the two cannot drift
    (test_iam_evaluator_agrees.py): partition, service, region and account match segment by
    segment, wildcards inside their segment, without regard to case; the resource part's type
    prefix (`repository/`, `log-group:`) literally; the rest with `*` and `?` spanning `/` and
    `:`. A request on `*` (an action without resource-level permissions) is named only by `*`.
    Where IAM's documentation leaves the meaning open the pattern is refused: fewer than six
    segments (a "trailing" wildcard standing for the missing ones), a wildcard in the service
    segment or in the resource type, policy variables."""
    if pattern == "*":
        return True
    _refuse_variables(pattern)
    policy = _arn_parts(pattern)
    if policy is None:
        raise UnsupportedPolicy(f"Resource {pattern!r} is not a full ARN")
    segments, resource = policy
    product = _product(segments, resource)
    if any(c in segments[1] + product for c in "*?"):
        raise UnsupportedPolicy(f"Resource {pattern!r}: a wildcard in the service or the "
                                "resource type")
    request = _arn_parts(arn)
    if request is None:
        return False
    if not all(wildcard_match(p, a, ignore_case=True)
               for p, a in zip(segments, request[0], strict=True)):
        return False
    return request[1].startswith(product) and wildcard_match(resource[len(product):],
                                                             request[1][len(product):])


def arn_condition_matches(pattern: str, value: str) -> bool:
    """ArnEquals / ArnLike (reference_policies_elements_condition_operators.html, ARN): each of
    the six segments matched with its wildcards, the resource part as one string, case
    sensitive. A value that is not a full ARN never matches; a pattern that is not one is
    refused."""
    _refuse_variables(pattern)
    policy = _arn_parts(pattern)
    if policy is None:
        raise UnsupportedPolicy(f"ARN condition value {pattern!r} is not a full ARN")
    request = _arn_parts(value)
    if request is None:
        return False
    return all(wildcard_match(p, a) for p, a in zip(
        [*policy[0], policy[1]], [*request[0], request[1]], strict=True))


_ACCOUNT_ROOT = re.compile(r"^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$")


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


def _principal_matches(element: Any, principal: Mapping[str, str]) -> tuple[bool, bool]:
    """(matches, delegates): `delegates` is true when the match is through an account principal,
    which hands the decision to that account's identity policies."""
    if element == "*":
        return True, False
    if not isinstance(element, Mapping):
        raise UnsupportedPolicy(f"Principal {element!r}")
    for kind, values in element.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise UnsupportedPolicy(f"Principal type {kind!r}")
        caller = principal.get(kind)
        for value in _as_list(values):
            if value == "*" and caller is not None:
                return True, False
            if caller is None:
                continue
            if kind == "AWS":
                account = _ACCOUNT_ROOT.match(value)
                if account and _account_of(caller) == account.group(1):
                    return True, caller != value
            if value == caller:
                return True, False
    return False, False


# ---------------------------------------------------------------------------------------------
# Conditions

def _string_equals(policy: str, request: Any) -> bool:
    return isinstance(request, str) and policy == request


def _string_equals_ignore_case(policy: str, request: Any) -> bool:
    return isinstance(request, str) and policy.lower() == request.lower()


def _string_like(policy: str, request: Any) -> bool:
    return isinstance(request, str) and wildcard_match(policy, request)


def _arn_equals_or_like(policy: str, request: Any) -> bool:
    # ArnEquals and ArnLike behave the same: both honour wildcards, segment by segment.
    return isinstance(request, str) and arn_condition_matches(policy, request)


def _bool(policy: Any, request: Any) -> bool:
    def as_bool(value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None
    wanted, got = as_bool(policy), as_bool(request)
    if wanted is None:
        raise UnsupportedPolicy(f"Bool value {policy!r}")
    return got is not None and wanted == got


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _numeric(compare: Any) -> Any:
    def check(policy: Any, request: Any) -> bool:
        wanted, got = _number(policy), _number(request)
        if wanted is None:
            raise UnsupportedPolicy(f"Numeric value {policy!r}")
        return got is not None and compare(got, wanted)
    return check


# operator -> (value comparison, negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_equals_or_like, False),
    "ArnLike": (_arn_equals_or_like, False),
    "ArnNotEquals": (_arn_equals_or_like, True),
    "ArnNotLike": (_arn_equals_or_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
}


def _lookup(context: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            return True, value
    return False, None


def _condition_holds(operator: str, key: str, policy_values: Any,
                     context: Mapping[str, Any]) -> bool:
    qualifier, _, bare = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedPolicy(f"condition qualifier {qualifier!r}")
    present, request_value = _lookup(context, key)
    values = _as_list(policy_values)
    if bare == "Null":
        if qualifier:
            raise UnsupportedPolicy(f"{operator}")
        wanted_absent = [_bool(value, True) for value in values]
        return (not present) in wanted_absent
    if_exists = bare.endswith("IfExists")
    base = bare[: -len("IfExists")] if if_exists else bare
    if base not in _OPERATORS:
        raise UnsupportedPolicy(f"condition operator {operator!r}")
    compare, negated = _OPERATORS[base]
    request_values = _as_list(request_value) if present else []
    if qualifier == "ForAllValues":
        # True when every request value matches (vacuously true for an absent or empty key).
        return all(_value_holds(compare, negated, values, item) for item in request_values)
    if qualifier == "ForAnyValue":
        return any(_value_holds(compare, negated, values, item) for item in request_values)
    if not present:
        return if_exists or negated
    if isinstance(request_value, list | tuple):
        # A multivalued key without a set qualifier: AWS compares as if single-valued; with more
        # than one value that is ambiguous, so refuse rather than guess.
        if len(request_value) != 1:
            raise UnsupportedPolicy(f"multivalued key {key!r} needs ForAnyValue/ForAllValues")
        request_value = request_value[0]
    return _value_holds(compare, negated, values, request_value)


def _value_holds(compare: Any, negated: bool, policy_values: list, request_value: Any) -> bool:
    matched = any(compare(value, request_value) for value in policy_values)
    return not matched if negated else matched


def conditions_hold(block: Mapping[str, Mapping[str, Any]] | None,
                    context: Mapping[str, Any]) -> bool:
    if not block:
        return True
    return all(_condition_holds(operator, key, values, context)
               for operator, keys in block.items() for key, values in keys.items())


# ---------------------------------------------------------------------------------------------
# Statements and policies

_KNOWN_ELEMENTS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                   "NotPrincipal", "Condition"}


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


@dataclass(frozen=True)
class _Match:
    effect: str
    delegates: bool


def _statement_applies(statement: Mapping[str, Any], request: Request,
                       *, resource_policy: bool) -> _Match | None:
    unknown = set(statement) - _KNOWN_ELEMENTS
    if unknown:
        raise UnsupportedPolicy(f"statement elements {sorted(unknown)}")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"Effect {effect!r}")
    if ("Action" in statement) == ("NotAction" in statement):
        raise UnsupportedPolicy("a statement needs exactly one of Action and NotAction")
    if "Action" in statement:
        if not any(action_matches(p, request.action) for p in _as_list(statement["Action"])):
            return None
    elif any(action_matches(p, request.action) for p in _as_list(statement["NotAction"])):
        return None
    if "Resource" in statement and "NotResource" in statement:
        raise UnsupportedPolicy("both Resource and NotResource")
    if "Resource" in statement:
        if not any(arn_matches(p, request.resource) for p in _as_list(statement["Resource"])):
            return None
    elif "NotResource" in statement:
        if any(arn_matches(p, request.resource) for p in _as_list(statement["NotResource"])):
            return None
    elif not resource_policy:
        raise UnsupportedPolicy("an identity policy statement needs Resource or NotResource")
    delegates = False
    if resource_policy:
        if "NotPrincipal" in statement:
            raise UnsupportedPolicy("NotPrincipal")
        if "Principal" not in statement:
            raise UnsupportedPolicy("a resource policy statement needs a Principal")
        matches, delegates = _principal_matches(statement["Principal"], request.principal)
        if not matches:
            return None
    elif "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy("Principal in an identity policy")
    if not conditions_hold(statement.get("Condition"), request.context):
        return None
    return _Match(effect, delegates)


def _matches(document: Mapping[str, Any] | None, request: Request,
             *, resource_policy: bool) -> list[_Match]:
    if document is None:
        return []
    if document.get("Version") != "2012-10-17":
        raise UnsupportedPolicy(f"Version {document.get('Version')!r}")
    found = []
    for statement in _statements(document):
        match = _statement_applies(statement, request, resource_policy=resource_policy)
        if match is not None:
            found.append(match)
    return found


def evaluate(request: Request, *, identity_policies: Iterable[Mapping[str, Any]] = (),
             resource_policy: Mapping[str, Any] | None = None,
             key_policy: bool = False) -> Decision:
    """The decision for a request within one account (the caller and the resource in the same
    account). A service principal has no identity policies: only the resource policy speaks.

    `key_policy=True` applies KMS's rule (KMS Developer Guide, key-policies.html): IAM policies
    count only when the key policy lets the account's IAM decide (an Allow for the account)."""
    identity = [m for doc in identity_policies
                for m in _matches(doc, request, resource_policy=False)]
    resource = _matches(resource_policy, request, resource_policy=True)
    if any(m.effect == "Deny" for m in identity + resource):
        return Decision.EXPLICIT_DENY
    if any(m.effect == "Allow" and not m.delegates for m in resource):
        return Decision.ALLOW
    if key_policy and not any(m.effect == "Allow" and m.delegates for m in resource):
        return Decision.IMPLICIT_DENY
    if any(m.effect == "Allow" for m in identity):
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def is_allowed(request: Request, **policies: Any) -> bool:
    return evaluate(request, **policies) is Decision.ALLOW


__all__ = ["Decision", "Request", "UnsupportedPolicy", "action_matches", "arn_condition_matches",
           "arn_matches", "conditions_hold", "evaluate", "is_allowed", "wildcard_match"]
