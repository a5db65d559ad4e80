"""The value the provider and AWS act on, for every property a rule reads.

The engine hands the pack the program's inputs as written; pulumi-aws (terraform-provider-aws
behind pulumi-terraform-bridge) then converts and normalizes them before AWS sees them. A rule
that compares the written value judges something AWS never receives: `protocol: "http"` is an
HTTP listener, `assignPublicIp: "true"` assigns a public IP. Every rule reads its properties
through the functions here, each of which names the source of its behaviour. A value the
provider would refuse is `Unparseable` (the rule says 'Cannot verify'); a value unknown at
preview raises the SDK's UnknownValueError as before.

Each reading is registered under an id with a sentence saying what it does; every rule declares
the ids it relies on (RULES.md lists them) and tests/test_policy_normalization.py checks the
declarations against what the rules really call.

Sources:
- pulumi-terraform-bridge `pkg/tfbridge/schema.go` (makeTerraformInput): a string for an integer
  property is parsed with strconv.ParseInt(s, 10, 64); a number for an integer property is
  truncated (int(float64)); a number or bool for a string property becomes its text
  (strconv.FormatFloat 'f' -1, "true"/"false"); a string for a boolean property is passed on and
  read by terraform-plugin-sdk's field readers with strconv.ParseBool.
- terraform-provider-aws: `internal/service/elbv2/listener.go` (protocol: ValidateFunc
  StringInSlice(..., ignoreCase) and StateFunc strings.ToUpper; default_action type validated
  ignoring case), `internal/service/ec2/vpc_security_group.go` (ProtocolForValue: lower case,
  "-1"/"all" are all traffic, protocol numbers 1, 6, 17, 58 become their names).
- EC2 API reference, IpPermission.IpProtocol: with -1 or a protocol other than tcp, udp, icmp
  or icmpv6, traffic on all ports is allowed whatever ports are given.
"""

import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .common import Unparseable

P = ParamSpec("P")
R = TypeVar("R")
READINGS: dict[str, str] = {}
"""id -> what the reading does, for every normalization and IAM semantics the rules rely on."""
_USED: ContextVar[set[str] | None] = ContextVar("readings_used", default=None)


def reading(key: str, description: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a function as the reading `key`; calls are recorded while `recording()`."""
    READINGS[key] = description

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def recorded(*args: P.args, **kwargs: P.kwargs) -> R:
            used = _USED.get()
            if used is not None:
                used.add(key)
            return function(*args, **kwargs)
        return recorded
    return decorate


@contextmanager
def recording() -> Iterator[set[str]]:
    used: set[str] = set()
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


def _shown(value: Any) -> str:
    """A value as the report shows it: repr, cut short (a property can be a whole document)."""
    shown = repr(value)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise Unparseable(f"{what} is {value!r}, not a finite number")
    return value


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@reading("bool", "Booleans as the provider reads them: true/false, a string Go's "
                 "strconv.ParseBool accepts ('true', 'TRUE', 't', '1', ...), or the numbers 0 "
                 "and 1; anything else cannot be verified.")
def flag(props: Mapping, key: str, what: str | None = None, *, default: bool = False) -> bool:
    value = props.get(key)
    what = what or key
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise Unparseable(f"{what} is {_shown(value)}, which the provider does not read as a "
                          "boolean")
    if isinstance(value, int | float):
        number = _finite(float(value), what)
        if number in (0.0, 1.0):
            return number == 1.0
    raise Unparseable(f"{what} is {_shown(value)}, not a boolean")


@reading("int", "Integers as the provider reads them: a number (truncated, as Go's int() "
                "does), or a decimal string strconv.ParseInt accepts ('443', '+443'); NaN, "
                "infinities, fractions written as strings and other text cannot be verified.")
def integer(props: Mapping, key: str, what: str | None = None) -> int | None:
    value = props.get(key)
    what = what or key
    if value is None:
        return None
    if isinstance(value, bool):
        raise Unparseable(f"{what} is {_shown(value)}, not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(_finite(value, what))
    if isinstance(value, str):
        digits = value[1:] if value[:1] in "+-" else value
        if digits.isascii() and digits.isdigit():
            return int(value)
        raise Unparseable(f"{what} is {_shown(value)}, which the provider does not read as an "
                          "integer")
    raise Unparseable(f"{what} is {_shown(value)}, not a number")


@reading("text", "Strings as the provider receives them: numbers and booleans written where "
                 "a string belongs become their text (80 -> '80', true -> 'true').")
def text(props: Mapping, key: str, what: str | None = None) -> str | None:
    return _text(props, key, what)


def _text(props: Mapping, key: str, what: str | None) -> str | None:
    value = props.get(key)
    what = what or key
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        number = _finite(value, what)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, str):
        return value
    raise Unparseable(f"{what} is {_shown(value)}, not a string")


@reading("upper-case-enum", "Names the provider validates ignoring case and stores upper-cased "
                            "(listener protocols: 'http' is HTTP).")
def upper(props: Mapping, key: str, what: str | None = None) -> str | None:
    value = _text(props, key, what)
    return value.upper() if value is not None else None


@reading("case-insensitive-enum", "Names the provider validates ignoring case (listener action "
                                  "types: 'Forward' is forward).")
def lower(props: Mapping, key: str, what: str | None = None) -> str | None:
    value = _text(props, key, what)
    return value.lower() if value is not None else None


ENUMS_FILE = Path(__file__).resolve().parent / "datasets" / "enums.json"
# (botocore service, shape) of every enumeration a rule reads; the provider validates these
# names respecting case (terraform-provider-aws enum.Validate / StringInSlice(..., false)).
ENUM_SHAPES = {"ecs": ("NetworkMode", "PidMode", "DeploymentControllerType",
                       "DeploymentStrategy"),
               "ecr": ("ImageTagMutability", "EncryptionType", "ScanFrequency"),
               "elbv2": ("LoadBalancerTypeEnum", "ProtocolEnum", "ActionTypeEnum"),
               "kms": ("CustomerMasterKeySpec",)}


def build_enums() -> dict[str, dict[str, list[str]]]:
    """The values of ENUM_SHAPES, from the installed botocore (tests keep the file equal)."""
    import botocore.loaders  # type: ignore[import-untyped]

    loader = botocore.loaders.Loader()
    result: dict[str, dict[str, list[str]]] = {}
    for service, shapes in ENUM_SHAPES.items():
        model = loader.load_service_model(service, "service-2")["shapes"]
        result[service] = {shape: list(model[shape]["enum"]) for shape in shapes}
    return result


@cache
def enum_values(service: str, shape: str) -> tuple[str, ...]:
    return tuple(json.loads(ENUMS_FILE.read_text())[service][shape])


@reading("enum", "Names of an AWS enumeration (from botocore's service model), compared exactly "
                 "as the provider validates them; a name AWS does not define cannot be verified.")
def enum(props: Mapping, key: str, service: str, shape: str, what: str | None = None, *,
         default: str | None = None, fold: Callable[[str], str] | None = None) -> str:
    what = what or key
    value = _text(props, key, what)
    if value is None or value == "":
        if default is None:
            raise Unparseable(f"{what} is not set")
        return default
    allowed = enum_values(service, shape)
    folded = fold(value) if fold else value
    if folded not in allowed:
        raise Unparseable(f"{what} is {value!r}, which the provider refuses (one of "
                          f"{', '.join(allowed)})")
    return folded


SG_PROTOCOL_NAMES = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6"}
ALL_TRAFFIC = "-1"


@reading("ip-protocol", "Security group protocols as the provider stores them: case folded, "
                        "'all' and '-1' are all traffic, numbers 1/6/17/58 are icmp/tcp/udp/"
                        "icmpv6; any other protocol number opens every port of that protocol.")
def ip_protocol(props: Mapping, key: str, what: str | None = None) -> str:
    what = what or key
    value = _text(props, key, what)
    if value is None:
        raise Unparseable(f"{what} is not set")
    protocol = value.lower()
    if protocol in ("-1", "all"):
        return ALL_TRAFFIC
    if protocol in SG_PROTOCOL_NAMES.values():
        return protocol
    digits = protocol[1:] if protocol[:1] in "+-" else protocol
    if digits.isascii() and digits.isdigit():
        number = int(protocol)
        if number == -1:
            return ALL_TRAFFIC
        if 0 <= number <= 255:
            return SG_PROTOCOL_NAMES.get(str(number), str(number))
    raise Unparseable(f"{what} is {value!r}, not a protocol AWS accepts (tcp, udp, icmp, "
                      "icmpv6, a protocol number 0-255, or -1/all)")


@reading("role-name-or-arn", "IAM roles named by ARN or by name are the same role when the "
                             "names match ignoring case (ECS takes either; IAM role names are "
                             "unique ignoring case).")
def role_identity(value: Any) -> str | None:
    if value is None or value == "":
        return None
    name = str(value)
    if name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    return name.casefold()


