"""Decode each resource once per pack, not once per rule.

pulumi-policy's Analyze (pulumi_policy/policy.py, `_PolicyAnalyzerServicer.Analyze`) rebuilds a
resource's properties for every rule it runs: `json_format.MessageToDict` of the Struct, then
`deserialize_properties`, then `unknown_checking_proxy`, and the same again for the provider's
properties (`_get_provider_resource`); AnalyzeStack does it for every resource for every stack rule.
With 40-odd rules that rebuilding is about 90 % of the pack's time, and the rules themselves the
rest. The three steps are pure functions of the Struct's contents, and the rules only read what
they are given (the proxies are read-only Mappings and Sequences; no rule writes into them), so
the first rule's copy can serve every later rule that sees a Struct with the same bytes.

`install()` rebinds those three names in pulumi_policy.policy to memoizing versions, keyed by the
Struct's deterministic serialization. It does so only for the SDK versions whose Analyze was read
for this (1.21.x); any other version keeps the SDK's own path, slower and just as right. Nothing
here decides a verdict: tests/test_policy_decode_once.py compares every response byte for byte
with and without it."""

import threading
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import struct_pb2
from pulumi_policy.version import VERSION

# The versions whose Analyze/AnalyzeStack/_get_provider_resource build properties as
# unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct))).
_READ_VERSIONS = ("1.21.",)
# A preview's resources, Analyze then AnalyzeStack, fit many times over; a long-lived pack keeps
# the most recent ones only.
_MAX_ENTRIES = 8192


class _Entry:
    __slots__ = ("deserialized", "proxy", "raw")

    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.deserialized: _Deserialized | None = None
        self.proxy: Any = None


class _Raw(dict):
    """MessageToDict's answer, carrying its cache entry to the next step. A dict like any other
    to every reader."""
    __slots__ = ("entry",)
    entry: _Entry


class _Deserialized(dict):
    __slots__ = ("entry",)
    entry: _Entry


class _Memo:
    def __init__(self, to_dict: Any, deserialize: Any, proxy: Any, json_module: Any) -> None:
        self._to_dict, self._deserialize, self._proxy = to_dict, deserialize, proxy
        self._json_module = json_module
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        # Struct object -> its bytes. Every rule of one Analyze call, and every stack rule of one
        # AnalyzeStack call, reads the same message object; holding it keeps its id unique.
        self._keys: dict[int, tuple[Any, bytes]] = {}
        # The gRPC server answers on several threads.
        self._lock = threading.Lock()

    def message_to_dict(self, message: Any, *args: Any, **kwargs: Any) -> dict:
        if args or kwargs or not isinstance(message, struct_pb2.Struct):
            return self._to_dict(message, *args, **kwargs)
        with self._lock:
            known = self._keys.get(id(message))
            if known is not None and known[0] is message:
                key = known[1]
            else:
                key = message.SerializeToString(deterministic=True)
                if len(self._keys) >= _MAX_ENTRIES:
                    self._keys.clear()
                self._keys[id(message)] = (message, key)
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(self._to_dict(message))
                self._entries[key] = entry
                if len(self._entries) > _MAX_ENTRIES:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
        # A fresh top level per caller: Configure keeps its dict as the rule's config.
        raw = _Raw(entry.raw)
        raw.entry = entry
        return raw

    def deserialize_properties(self, props: Any, proxy_secrets: bool = False) -> Any:
        if proxy_secrets or not isinstance(props, _Raw):
            return self._deserialize(props, proxy_secrets)
        entry = props.entry
        with self._lock:
            if entry.deserialized is None:
                entry.deserialized = _Deserialized(self._deserialize(entry.raw))
                entry.deserialized.entry = entry
            return entry.deserialized

    def unknown_checking_proxy(self, props: Any) -> Any:
        if not isinstance(props, _Deserialized):
            return self._proxy(props)
        entry = props.entry
        with self._lock:
            if entry.proxy is None:
                entry.proxy = self._proxy(props)
            return entry.proxy


def installed() -> bool:
    return isinstance(getattr(sdk, "_decode_once", None), _Memo)


def install() -> bool:
    """Make the SDK decode each distinct Struct once. False (and nothing changed) on an SDK
    version whose Analyze was not read for this."""
    if installed():
        return True
    if not VERSION.startswith(_READ_VERSIONS):
        return False
    # Built on whatever the SDK binds now (sdk_guard's versions when it is installed first).
    memo = _Memo(sdk.json_format.MessageToDict, sdk.deserialize_properties,
                 sdk.unknown_checking_proxy, sdk.json_format)
    # Only pulumi_policy.policy's own bindings change; json_format itself is left alone.
    shim = SimpleNamespace(**{name: getattr(sdk.json_format, name)
                              for name in dir(sdk.json_format) if not name.startswith("__")})
    shim.MessageToDict = memo.message_to_dict
    sdk.json_format = shim  # type: ignore[assignment]
    sdk.deserialize_properties = memo.deserialize_properties  # type: ignore[assignment]
    sdk.unknown_checking_proxy = memo.unknown_checking_proxy  # type: ignore[assignment]
    sdk._decode_once = memo  # type: ignore[attr-defined]
    return True


def uninstall() -> None:
    """Back to the SDK's own decoding (tests compare the two)."""
    memo = getattr(sdk, "_decode_once", None)
    if not isinstance(memo, _Memo):
        return
    sdk.json_format = memo._json_module  # type: ignore[assignment]
    sdk.deserialize_properties = memo._deserialize  # type: ignore[assignment]
    sdk.unknown_checking_proxy = memo._proxy  # type: ignore[assignment]
    del sdk._decode_once  # type: ignore[attr-defined]
