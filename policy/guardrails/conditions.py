"""IAM Condition blocks: evaluated for one request, and judged by the requests they admit.

Evaluation follows `@cloud-copilot/iam-simulate` (`src/condition/condition.ts` and one module per
operator), which tests/test_policy_iam_differential.py compares this module with on generated
conditions and requests. What IAM does, and this module too (IAM User Guide, "IAM JSON policy
elements: Condition operators" and "Single-valued vs. multivalued context keys"):
- operator names and condition keys are matched ignoring case; values respecting case (except
  the ...IgnoreCase operators and Bool);
- a statement's clauses all have to match (AND); a clause's values are alternatives (OR), except
  for the negated operators, where the key must differ from every value;
- `...IfExists` and the negated operators match when the key is absent; the others do not;
- `ForAnyValue:` does not match an absent key, `ForAllValues:` does (and an empty set);
- `StringLike`/`ArnLike`/`ArnEquals` read `*` and `?` as wildcards; `StringEquals` reads them
  literally; `${...}` values are policy variables.
Operators this module does not evaluate (Date*, Binary*) make the answer None: unknown."""

import ipaddress
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .common import Unparseable, as_list
from .glob import compile_glob, glob_match, has_wildcard
from .normalize import reading

Context = Mapping[str, str | Sequence[str]]
_POSITIVE = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
_LIKE = {"stringlike", "arnlike", "arnequals", "stringnotlike", "arnnotlike", "arnnotequals"}


@dataclass(frozen=True)
class Clause:
    operator: str
    base: str
    """The operator without set prefix or IfExists, lower case (`stringequals`)."""
    set_operator: str | None
    """`forallvalues`, `foranyvalue` or None."""
    if_exists: bool
    key: str
    values: tuple[str, ...]

    @property
    def patterns(self) -> bool:
        """Whether the values are read as wildcard patterns."""
        return self.base in _LIKE


def _value(value: Any, where: str) -> str:
    # IAM reads condition values as strings; JSON true/1 are "true"/"1".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return value
    raise Unparseable(f"{where} holds a {type(value).__name__}, not a string")


def clauses(condition: Any, where: str = "Condition") -> list[Clause]:
    if condition is None:
        return []
    if not isinstance(condition, Mapping):
        raise Unparseable(f"{where} is not an object")
    found = []
    for operator, block in condition.items():
        name = str(operator)
        set_operator, colon, base = name.partition(":")
        if not colon:
            set_operator, base = "", name
        if set_operator and set_operator.lower() not in ("forallvalues", "foranyvalue"):
            raise Unparseable(f"{where} has the operator {name!r}, which IAM does not know")
        if not isinstance(block, Mapping):
            raise Unparseable(f"{where}.{name} is not an object")
        if_exists = base.lower().endswith("ifexists")
        base = base[:-len("IfExists")] if if_exists else base
        for key, values in block.items():
            items = as_list(values)
            found.append(Clause(name, base.lower(), set_operator.lower() or None, if_exists,
                                str(key),
                                tuple(_value(v, f"{where}.{name}.{key}") for v in items)))
    return found


# ---- evaluation of one request -----------------------------------------------------------------
def _lookup(context: Context, key: str) -> str | list[str] | None:
    for name, value in context.items():
        if name.lower() == key.lower():
            return value if isinstance(value, str) else list(value)
    return None


def _variables(context: Context) -> dict[str, str]:
    return {k: v for k, v in context.items() if isinstance(v, str)}


def _resolve(value: str, context: Context) -> str | None:
    """The value with its policy variables replaced, or None when one is missing."""
    glob = compile_glob(value.replace("*", "${*}").replace("?", "${?}"),
                        variables=_variables(context), unresolved="none")
    return None if glob.never else glob.literal


def _arn_like(pattern: str, arn: str, context: Context) -> bool | None:
    """Whether `arn` matches the ArnLike pattern; None when either is not an ARN of five or more
    segments (then neither ArnLike nor ArnNotLike matches)."""
    wanted, given = pattern.split(":"), arn.split(":")
    if len(wanted) < 5 or len(given) < 5:
        return None
    wanted = wanted[:5] + [":".join(wanted[5:])]
    given = given[:5] + [":".join(given[5:])]
    return all(glob_match(compile_glob(w, variables=_variables(context), unresolved="none"), g)
               for w, g in zip(wanted[1:], given[1:], strict=True))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "numericequals": lambda a, b: a == b, "numericnotequals": lambda a, b: a != b,
    "numericlessthan": lambda a, b: a < b, "numericlessthanequals": lambda a, b: a <= b,
    "numericgreaterthan": lambda a, b: a > b, "numericgreaterthanequals": lambda a, b: a >= b}


def _one(base: str, request: str, values: Sequence[str], context: Context) -> bool | None:
    """Whether one request value satisfies a base operator with the policy's values."""
    def each(test: Callable[[str], bool], negated: bool = False) -> bool:
        # A value whose policy variable the request lacks never matches, negated or not.
        results = []
        for value in values:
            resolved = _resolve(value, context)
            if resolved is None:
                results.append(False)
                continue
            outcome = test(value if base in _LIKE else resolved)
            results.append(not outcome if negated else outcome)
        return all(results) if negated else any(results)

    if base in ("stringequals", "stringnotequals"):
        return each(lambda v: v == request, base == "stringnotequals")
    if base in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return each(lambda v: v.lower() == request.lower(), "not" in base)
    if base in ("stringlike", "stringnotlike"):
        glob_of = (lambda v: compile_glob(v, variables=_variables(context), unresolved="none"))
        return each(lambda v: glob_match(glob_of(v), request), base == "stringnotlike")
    if base in ("arnlike", "arnequals", "arnnotlike", "arnnotequals"):
        negated = "not" in base
        outcomes = [_arn_like(v, request, context) for v in values]
        if negated:
            return all(o is False for o in outcomes)
        return any(o is True for o in outcomes)
    if base == "bool":
        if request.lower() not in ("true", "false"):
            return False
        return any((_resolve(v, context) or "").lower() == request.lower()
                   and (_resolve(v, context) or "").lower() in ("true", "false") for v in values)
    if base in _NUMERIC:
        given = _number(request)
        if given is None:
            return False
        numbers = [_number(_resolve(v, context) or "") for v in values]
        test = _NUMERIC[base]
        if base == "numericnotequals":
            return all(n is not None and test(given, n) for n in numbers)
        return any(n is not None and test(given, n) for n in numbers)
    if base in ("ipaddress", "notipaddress"):
        try:
            address = ipaddress.ip_address(request)
        except ValueError:
            return False
        inside = []
        for value in values:
            try:
                inside.append(address in ipaddress.ip_network(value, strict=False))
            except ValueError:
                inside.append(False)
        return any(inside) if base == "ipaddress" else not any(inside)
    return None


def clause_matches(clause: Clause, context: Context) -> bool | None:
    present = _lookup(context, clause.key)
    if clause.base == "null":
        goal = "true" if present is None else "false"
        return any(v.lower() == goal for v in clause.values)
    if clause.set_operator == "foranyvalue":
        if present is None:
            return False
        outcomes = [_one(clause.base, v, clause.values, context) for v in as_list(present)]
        return True if any(o is True for o in outcomes) else (
            None if any(o is None for o in outcomes) else False)
    if clause.set_operator == "forallvalues":
        if present is None:
            return True
        outcomes = [_one(clause.base, v, clause.values, context) for v in as_list(present)]
        return False if any(o is False for o in outcomes) else (
            None if any(o is None for o in outcomes) else True)
    if present is None:
        return clause.if_exists or "not" in clause.base
    if not isinstance(present, str):
        return False  # a multivalued key needs a set operator
    return _one(clause.base, present, clause.values, context)


@reading("iam-condition-evaluation", "Conditions evaluated for a request as IAM does (checked "
                                     "against iam-simulate): operators and keys ignoring case, "
                                     "clauses ANDed, values ORed (negated operators: none may "
                                     "match), IfExists and negated operators match an absent "
                                     "key, ForAnyValue does not, ForAllValues does.")
def matches(condition: Any, context: Context) -> bool | None:
    """Whether a request with `context` satisfies every clause; None when it depends on an
    operator this module does not evaluate."""
    outcomes = [clause_matches(c, context) for c in clauses(condition)]
    if any(o is False for o in outcomes):
        return False
    return None if any(o is None for o in outcomes) else True


# ---- what a condition admits -------------------------------------------------------------------
def literal_value(value: str, pattern: bool) -> bool:
    """A value that names one thing: no wildcard where wildcards are read, no variable."""
    if "${" in value:
        return False
    return not (pattern and has_wildcard(value)) and value.strip() not in ("", "*")


def confining(condition: Any, key: str) -> Iterator[Clause]:
    """The clauses that every admitted request must satisfy with a value of `key` present:
    positive operators, without IfExists, and not ForAllValues (which admits an absent key)."""
    for clause in clauses(condition):
        if (clause.key.lower() == key.lower() and clause.base in _POSITIVE
                and not clause.if_exists and clause.set_operator != "forallvalues"):
            yield clause


@reading("iam-condition-confines", "A condition confines a key when one of its clauses, with "
                                  "a positive operator (StringEquals[IgnoreCase], StringLike, "
                                  "Arn*) and neither IfExists nor ForAllValues, allows only "
                                  "values that name one thing (no wildcard where the operator "
                                  "reads wildcards, no variable); other clauses only narrow it.")
def confines(condition: Any, key: str,
             accept: Callable[[str, bool], bool] = literal_value) -> bool:
    """Whether the condition admits only requests whose `key` is one of the values `accept`
    approves (value, read as a pattern). One confining clause is enough: the clauses are ANDed,
    so whatever else the condition says can only admit less."""
    return any(all(accept(v, c.patterns) for v in c.values) and c.values
               for c in confining(condition, key))


def mentions(condition: Any, key: str) -> bool:
    return any(c.key.lower() == key.lower() for c in clauses(condition))
