"""What an IAM pattern grants, decided by matching rather than by looking for '*' in one place.

IAM patterns use '*' (any run of characters) and '?' (one character); everything else is
literal, including '[' (fnmatch would read a character class). `${*}`, `${?}` and `${$}` are
escapes for the literal characters; any other `${...}` is a policy variable, whose value the
requester controls as far as this pack knows, so it matches anything.
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
"""

import re
import string
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from .common import as_list

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "\\*", "?": "\\?", "$": "\\$"}
WILDCARD_CHARS = ("*", "?", "${")


@cache
def _regex(pattern: str, ignore_case: bool) -> re.Pattern:
    parts = []
    position = 0
    for match in _VARIABLE.finditer(pattern):
        parts.append(_glob(pattern[position:match.start()]))
        inner = match.group(1)
        parts.append(_ESCAPES.get(inner, ".*"))
        position = match.end()
    parts.append(_glob(pattern[position:]))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _glob(text: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _regex(pattern, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """IAM action names are case-insensitive."""
    return matches(pattern, action, ignore_case=True)


def has_wildcard(pattern: str) -> bool:
    return any(w in pattern for w in WILDCARD_CHARS)


# Probe names for a resource-name variable of an ARN template: one per character a name can
# start with, so a union of narrow prefixes that together admit every name is caught. Key ids
# are UUIDs (or mrk-<hex> for multi-Region keys); other names are lower/upper case alphanumerics.
_HEX = "0123456789abcdef"
_NAME_STARTS = string.ascii_lowercase + string.digits + string.ascii_uppercase + "_-./"


def _probe_values(variable: str) -> list[str]:
    if variable.lower().endswith("keyid"):
        return [f"{c}1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5{c}" for c in _HEX] + \
            [f"mrk-{c}1b2c3d45e6f4a7b8c9d0e1f2a3b4c5" for c in _HEX]
    return [f"{c}zzprobe{c}" for c in _NAME_STARTS]


_PROBE_REGION = "zz-probe-9"
_PROBE_ACCOUNT = "000000000009"


def _fill(template: str, name: str) -> str:
    def value(match: re.Match) -> str:
        variable = match.group(1)
        return {"Partition": "aws", "Region": _PROBE_REGION,
                "Account": _PROBE_ACCOUNT}.get(variable, name)
    return _VARIABLE.sub(value, template)


def _resource_part(arn: str) -> tuple[str, str] | None:
    parts = arn.split(":", 5)
    return (parts[2], parts[5]) if len(parts) == 6 and parts[0] == "arn" else None


def covers_every(patterns: Iterable[str], arn_template: str) -> bool:
    """Whether the Resource patterns, together, match every resource the ARN template names
    (within any one region and account: a wildcard only there does not widen a name)."""
    patterns = list(patterns)
    if any(p.strip() == "*" for p in patterns):
        return True
    variables = [v for v in _VARIABLE.findall(arn_template)
                 if v not in ("Partition", "Region", "Account")]
    probes = _probe_values(variables[-1]) if variables else ["x"]
    for probe in probes:
        target = _resource_part(_fill(arn_template, probe))
        if target is None:
            return False
        service, resource = target
        if not any(_covers(p, service, resource, arn_template, probe) for p in patterns):
            return False
    return True


def _covers(pattern: str, service: str, resource: str, template: str, probe: str) -> bool:
    split = _resource_part(pattern)
    if split is None:
        # A truncated pattern such as 'arn:aws:kms:*' matches whole ARNs.
        return has_wildcard(pattern) and matches(pattern, _fill(template, probe))
    pattern_service, pattern_resource = split
    return matches(pattern_service, service) and matches(pattern_resource, resource)


# ---- conditions ----------------------------------------------------------------------------
# Operators that confine a key to the listed values. '...IfExists' passes when the key is absent
# and 'ForAllValues:' passes on an empty set, so neither confines; negated operators confine to
# everything but the values. Like and Arn operators read '*' and '?' as wildcards; the Equals
# operators are literal. (IAM JSON policy reference: condition operators.)
_CONFINING = {"StringEquals": False, "StringEqualsIgnoreCase": False, "StringLike": True,
              "ArnEquals": True, "ArnLike": True}


def confining_values(condition: Any, key: str) -> list[tuple[str, bool]]:
    """(value, is_pattern) for every value a confining operator allows for `key`."""
    found: list[tuple[str, bool]] = []
    if not isinstance(condition, Mapping):
        return found
    for operator, block in condition.items():
        base = str(operator)
        if base.startswith("ForAnyValue:"):
            base = base.split(":", 1)[1]
        if base not in _CONFINING or not isinstance(block, Mapping):
            continue
        for name, values in block.items():
            if str(name).lower() == key.lower():
                found += [(str(v), _CONFINING[base]) for v in as_list(values)]
    return found


def confines(condition: Any, key: str, probes: Iterable[str]) -> bool:
    """Whether the condition confines `key` to values none of which admits an arbitrary probe
    (a value '*', or a pattern matching any account or repository, confines nothing)."""
    values = confining_values(condition, key)
    if not values:
        return False
    probes = list(probes)
    for value, is_pattern in values:
        if value.strip() in ("", "*"):
            return False  # a bare '*' admits anyone as a pattern and is a mistake as a literal
        if is_pattern and any(matches(value, p) for p in probes):
            return False
    return True
