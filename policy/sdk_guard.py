"""Keep the SDK's own decoding from failing an Analyzer call before any rule runs.

pulumi-policy's Analyze and AnalyzeStack (pulumi_policy/policy.py) decode each resource with
`json_format.MessageToDict(struct)` then `deserialize_properties`, outside any try: whatever
raises there fails the whole RPC, and the CLI stops the preview. Three inputs do, and the engine
sends each of them (pulumi/pulumi `pkg/resource/plugin/analyzer_plugin.go` marshals properties
with KeepUnknowns and KeepSecrets, and protobuf carries any float):
- a NaN or an infinity anywhere in the properties: MessageToDict raises ValueError ("Fail to
  serialize NaN for Value.number_value");
- nesting deeper than about 190 levels: MessageToDict and deserialize_properties recurse and
  raise RecursionError;
- a map with Pulumi's signature key whose signature deserialize_properties does not know, or a
  secret without a value: it raises AssertionError.

`install()` rebinds those two names in pulumi_policy.policy to versions that call the SDK's own
function first and return its answer whenever it has one, so every input the SDK already
decodes decodes exactly as before (upstream-compatible). Only when it raises do they decode
without recursion instead: non-finite numbers stay floats (the rules' normalizing layer refuses
them with a 'Cannot verify' verdict), depth is kept as it is (the rules refuse what is nested
past their limit), and an unreadable signature becomes an `Unreadable` value that no rule can
mistake for a property. tests/test_policy_never_crash.py sends each such input through the gRPC
server."""

from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import json_format, struct_pb2
from pulumi_policy.deserialize import (
    SPECIAL_ARCHIVE_SIG,
    SPECIAL_ASSET_SIG,
    SPECIAL_SECRET_SIG,
    SPECIAL_SIG_KEY,
)


class Unreadable:
    """A value the SDK could not decode; rules that read it report 'Cannot verify'."""
    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"<unreadable: {self.why}>"


def struct_to_python(message: struct_pb2.Struct) -> dict:
    """A Struct as plain Python values, without recursion; floats kept as they are."""
    root: dict = {}
    pending: list[tuple[Any, Any, Any]] = [(root, key, value)
                                           for key, value in message.fields.items()]
    while pending:
        target, key, value = pending.pop()
        kind = value.WhichOneof("kind")
        if kind == "struct_value":
            child: Any = {}
            pending.extend((child, k, v) for k, v in value.struct_value.fields.items())
        elif kind == "list_value":
            items = list(value.list_value.values)
            child = [None] * len(items)
            pending.extend((child, index, item) for index, item in enumerate(items))
        elif kind == "number_value":
            child = value.number_value
        elif kind == "string_value":
            child = value.string_value
        elif kind == "bool_value":
            child = value.bool_value
        else:
            child = None
        target[key] = child
    return root


def _decode(value: Any) -> Any:
    """deserialize_properties without recursion, for what the SDK's own version refuses."""
    holder: list = [None]
    pending: list[tuple[Any, Any, Any]] = [(holder, 0, value)]
    while pending:
        target, key, item = pending.pop()
        if isinstance(item, dict) and SPECIAL_SIG_KEY in item:
            signature = item[SPECIAL_SIG_KEY]
            if signature == SPECIAL_SECRET_SIG:
                if "value" in item:
                    pending.append((target, key, item["value"]))
                else:
                    target[key] = Unreadable("a secret without a value")
                continue
            if signature in (SPECIAL_ASSET_SIG, SPECIAL_ARCHIVE_SIG):
                target[key] = Unreadable("an asset or archive the SDK could not read")
                continue
            target[key] = Unreadable(f"a value with the unknown signature {signature!r}")
        elif isinstance(item, dict):
            child: Any = {}
            target[key] = child
            pending.extend((child, k, v) for k, v in item.items())
        elif isinstance(item, list):
            child = [None] * len(item)
            target[key] = child
            pending.extend((child, index, v) for index, v in enumerate(item))
        else:
            target[key] = item
    return holder[0]


def guarded_message_to_dict(original: Any) -> Any:
    def message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(message, *args, **kwargs)
        except (ValueError, RecursionError):
            if args or kwargs or not isinstance(message, struct_pb2.Struct):
                raise
            return struct_to_python(message)
    return message_to_dict


def guarded_deserialize(original: Any) -> Any:
    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        try:
            return original(props, proxy_secrets)
        except (AssertionError, RecursionError):
            if proxy_secrets or not isinstance(props, dict):
                raise
            return _decode(props)
    deserialize_properties.guarded = True  # type: ignore[attr-defined]
    return deserialize_properties


def installed() -> bool:
    return bool(getattr(sdk.deserialize_properties, "guarded", False))


def install() -> None:
    """Guard the SDK's decoding (call before decode_once.install, which memoizes on top)."""
    if installed():
        return
    shim = type(json_format)("json_format_guarded")
    shim.__dict__.update({k: v for k, v in vars(sdk.json_format).items()
                          if not k.startswith("__")})
    shim.MessageToDict = guarded_message_to_dict(sdk.json_format.MessageToDict)  # type: ignore[attr-defined]
    sdk.json_format = shim  # type: ignore[assignment]
    sdk.deserialize_properties = guarded_deserialize(  # type: ignore[assignment]
        sdk.deserialize_properties)
