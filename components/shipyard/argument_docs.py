"""An argument's description and default are written once: in the docstring under its field in
the args TypedDict. This module reads them back, so the parser's defaults, the README's argument
tables and the schema Pulumi infers for other languages all come from that one place.

The docstring of an optional field says `Default: <value>`. When <value> starts with a JSON
literal (`256`, `"X86_64"`, `false`, `["0.0.0.0/0"]`) that literal is the default the parser
applies; otherwise (`Default: none (logs off).`) the argument is simply absent. A required field's
docstring says `Required.` instead.

Pulumi's schema inference reads field docstrings the same way (the source of the class, parsed
with `ast`: pulumi/provider/experimental/analyzer.py, `Analyzer.get_docstring`), so what a
TypeScript or Go user reads is this text too."""

import ast
import inspect
import json
import re
import sys
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

_DEFAULT_RE = re.compile(r"\bDefault:\s*")
_JSON = json.JSONDecoder()


class NoValue:
    """The default of an argument that is absent unless given (`Default: none ...`)."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = NoValue()


@dataclass(frozen=True)
class Argument:
    name: str
    annotation: str
    """The field's type as written, without NotRequired (e.g. `Input[str]`, `list[ContainerArgs]`)."""
    required: bool
    description: str
    default_text: str
    """What follows `Default:` in the docstring, or "required"."""
    default: Any
    """The JSON value that follows `Default:`, or NO_VALUE."""


@cache
def _class_nodes(module_name: str) -> dict[str, ast.ClassDef]:
    source = inspect.getsource(sys.modules[module_name])
    return {node.name: node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}


def _field_docstrings(node: ast.ClassDef) -> dict[str, tuple[str, str]]:
    """Field name -> (annotation as written, docstring) for every annotated field of a class."""
    fields: dict[str, tuple[str, str]] = {}
    body = node.body
    for index, statement in enumerate(body):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        following = body[index + 1] if index + 1 < len(body) else None
        doc = (following.value.value if isinstance(following, ast.Expr)
               and isinstance(following.value, ast.Constant)
               and isinstance(following.value.value, str) else "")
        fields[statement.target.id] = (_display_type(statement.annotation), inspect.cleandoc(doc))
    return fields


def _display_type(annotation: ast.expr) -> str:
    text = ast.unparse(annotation).replace("pulumi.", "")
    match = re.fullmatch(r"NotRequired\[(.*)\]", text)
    return match.group(1) if match else text


def _parse_default(name: str, doc: str) -> tuple[str, Any]:
    match = _DEFAULT_RE.search(doc)
    if match is None:
        raise ValueError(f"the docstring of optional argument {name!r} does not state its "
                         "default ('Default: ...')")
    text = " ".join(doc[match.end():].split()).rstrip(".")
    try:
        value, _ = _JSON.raw_decode(text)
    except json.JSONDecodeError:
        return text, NO_VALUE
    return text, value


@cache
def arguments(args_type: type) -> dict[str, Argument]:
    """Field name -> its documented type, requiredness, description and default, in source order.

    Raises ValueError for a field without a docstring or an optional field without a default:
    every argument is documented, or the package does not import."""
    if not typing.is_typeddict(args_type):
        raise TypeError(f"{args_type.__name__} is not a TypedDict")
    node = _class_nodes(args_type.__module__)[args_type.__name__]
    required_keys: frozenset[str] = args_type.__required_keys__  # type: ignore[attr-defined]
    result: dict[str, Argument] = {}
    for name, (annotation, doc) in _field_docstrings(node).items():
        if not doc:
            raise ValueError(f"argument {args_type.__name__}.{name} has no docstring")
        required = name in required_keys
        if required:
            text, value = "required", NO_VALUE
        else:
            text, value = _parse_default(f"{args_type.__name__}.{name}", doc)
        result[name] = Argument(name=name, annotation=annotation, required=required,
                                description=doc, default_text=text, default=value)
    return result


def defaults(args_type: type) -> dict[str, Any]:
    """Argument name -> default value, for the optional arguments whose default is a value."""
    return {name: arg.default for name, arg in arguments(args_type).items()
            if arg.default is not NO_VALUE}


def outputs(component: type) -> dict[str, tuple[str, str]]:
    """Output name -> (type as written, docstring) for a component's annotated outputs."""
    node = _class_nodes(component.__module__)[component.__name__]
    return {name: (annotation.replace("Output[", "", 1)[:-1] if annotation.startswith("Output[")
                   else annotation, doc)
            for name, (annotation, doc) in _field_docstrings(node).items()}


def markdown_table(args_type: type) -> str:
    """The README table of one args type: argument, type, default, description."""
    lines = ["| argument | type | default | description |", "|---|---|---|---|"]
    for arg in arguments(args_type).values():
        description = _DEFAULT_RE.split(" ".join(arg.description.split()))[0].strip()
        description = re.sub(r"\s*\bRequired\.$", "", description)
        default = "**required**" if arg.required else _markdown_default(arg)
        lines.append(f"| `{arg.name}` | `{arg.annotation}` | {default} | "
                     f"{_escape(description)} |")
    return "\n".join(lines) + "\n"


def markdown_outputs(component: type) -> str:
    lines = ["| output | type | description |", "|---|---|---|"]
    for name, (annotation, doc) in outputs(component).items():
        lines.append(f"| `{name}` | `{annotation}` | {_escape(' '.join(doc.split()))} |")
    return "\n".join(lines) + "\n"


def _markdown_default(arg: Argument) -> str:
    if arg.default is NO_VALUE:
        return _escape(arg.default_text)
    _, end = _JSON.raw_decode(arg.default_text)
    literal, rest = arg.default_text[:end], arg.default_text[end:].lstrip(". ")
    return f"`{literal}`" + (f" {_escape(rest)}" if rest else "")


def _escape(text: str) -> str:
    return text.replace("|", "\\|")

