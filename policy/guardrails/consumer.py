"""Read an embedded JSON document the way its consumer will.

The provider (terraform-provider-aws, under pulumi-aws) decodes `containerDefinitions` and Batch's
`containerProperties` with Go's encoding/json into the AWS SDK's structs
(internal/service/ecs/container_definitions.go: expandContainerDefinitions ->
tfjson.DecodeFromString into []awstypes.ContainerDefinition). That decoder (internal/json/decode.go)
calls Decode until EOF, so a string holding two JSON documents is applied as the last one; Python
refuses such a string ("Extra data"), so it is never judged as the first. encoding/json "matches
incoming object keys to the keys used by Marshal ... preferring an exact match but also accepting
a case-insensitive match" (https://pkg.go.dev/encoding/json#Unmarshal), and when several keys
match one field the last one wins (golang/go#43664). So `"Privileged": true` after
`"privileged": false` reaches ECS as privileged. Rules must not judge a different document than the
one ECS gets: any key that is not the exact API name but folds to one, at any depth, and any
repeated key, makes the document unjudgeable (Unparseable). Keys that match no field are dropped by
the decoder and by ECS alike, so they are ignored here too.

The API names come from botocore's service models (ECS RegisterTaskDefinition, Batch
RegisterJobDefinition), reduced to datasets/consumer_shapes.json by `build_shapes`; a test keeps the
file equal to what the installed botocore gives, so the pack does not load botocore at start-up.
"""

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from .common import Unparseable, parse_json
from .normalize import reading

SHAPES_FILE = Path(__file__).resolve().parent / "datasets" / "consumer_shapes.json"
# (botocore service, root shape) for every document the rules read from a Go-decoded string.
ROOTS = {"ecs": "ContainerDefinition", "batch": "ContainerProperties"}


def build_shapes() -> dict:
    """The member names of every shape reachable from ROOTS, from the installed botocore."""
    import botocore.loaders  # type: ignore[import-untyped]

    loader = botocore.loaders.Loader()
    result: dict[str, dict] = {}
    for service, root in ROOTS.items():
        shapes = loader.load_service_model(service, "service-2")["shapes"]
        reduced: dict[str, dict] = {}
        pending = [root]
        while pending:
            name = pending.pop()
            if name in reduced:
                continue
            shape = shapes[name]
            entry: dict[str, Any] = {"type": shape["type"]}
            if shape["type"] == "structure":
                entry["members"] = {m: spec["shape"] for m, spec in shape["members"].items()}
                pending += entry["members"].values()
            elif shape["type"] == "list":
                entry["member"] = shape["member"]["shape"]
                pending.append(entry["member"])
            elif shape["type"] == "map":
                entry["value"] = shape["value"]["shape"]
                pending.append(entry["value"])
            reduced[name] = entry
        result[service] = {"root": root, "shapes": dict(sorted(reduced.items()))}
    return result


@cache
def _shapes() -> dict:
    return json.loads(SHAPES_FILE.read_text())


def _fold(key: str) -> str:
    # Go folds with Unicode simple case folding (so 'ſ' matches 's', 'K' (Kelvin) matches 'k');
    # casefold() is at least as broad, which errs towards refusing.
    return key.casefold()


_SCALARS = {"boolean": "a JSON boolean", "integer": "a whole number", "long": "a whole number",
            "double": "a number", "float": "a number", "string": "a string"}


def _scalar_fits(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "long"):
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if kind in ("double", "float"):
        return isinstance(value, int | float) and not isinstance(value, bool) and \
            math.isfinite(float(value))
    return isinstance(value, str)


def _walk(value: Any, shape_name: str, shapes: Mapping, path: str) -> None:
    shape = shapes.get(shape_name) or {}
    kind = shape.get("type")
    if value is None:
        return  # null is an absent field to Go's decoder
    if kind in _SCALARS and not _scalar_fits(kind, value):
        # Go's decoder refuses the whole document ("cannot unmarshal string into Go struct
        # field ... of type bool"): ECS never receives it.
        raise Unparseable(f"{path} is {value!r}; the provider's decoder takes only "
                          f"{_SCALARS[kind]} there")
    if kind == "structure" and not isinstance(value, Mapping) or kind == "list" and (
            isinstance(value, str) or not isinstance(value, Sequence)) or kind == "map" and \
            not isinstance(value, Mapping):
        raise Unparseable(f"{path} is {type(value).__name__}; the provider's decoder takes "
                          f"a JSON {'object' if kind != 'list' else 'list'} there")
    if kind == "structure" and isinstance(value, Mapping):
        members = shape["members"]
        folded = {_fold(m): m for m in members}
        for key in value:
            if key in members:
                _walk(value[key], members[key], shapes, f"{path}.{key}")
            elif _fold(str(key)) in folded:
                raise Unparseable(
                    f"{path} has the key {key!r}; the provider's decoder applies it as "
                    f"{folded[_fold(str(key))]!r} (Go encoding/json matches keys ignoring case), "
                    "so write the exact ECS name")
    elif kind == "list" and isinstance(value, Sequence) and not isinstance(value, str):
        for index, item in enumerate(value):
            _walk(item, shape["member"], shapes, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, Mapping):
        for key in value:
            _walk(value[key], shape["value"], shapes, f"{path}.{key}")


@reading("go-json", "Embedded container documents read as the provider's Go decoder reads them: "
                    "keys matched ignoring case are refused, repeated keys refused, each field "
                    "of the type botocore's model gives it (a string where a boolean belongs "
                    "is refused, as the decoder refuses it), no NaN/Infinity, no nesting "
                    "deeper than 64.")
def decoded_objects(value: Any, service: str, what: str, *, many: bool) -> list[Mapping]:
    """The document as the provider decodes it: a list of objects (`many`) or one object."""
    document = parse_json(value, what)
    items = document if many else [document]
    if many and (isinstance(document, (str, Mapping)) or not isinstance(document, Sequence)):
        raise Unparseable(f"{what} is not a list")
    model = _shapes()[service]
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise Unparseable(f"{what} has an entry that is not an object")
        _walk(item, model["root"], model["shapes"], f"{what}[{index}]" if many else what)
    return list(items)


def container_definitions(props: Any) -> list[Mapping]:
    """A task definition's `containerDefinitions` as ECS will receive them, or Unparseable."""
    return decoded_objects(props.get("containerDefinitions"), "ecs", "containerDefinitions",
                           many=True)
