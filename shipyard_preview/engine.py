"""Runs the real Pulumi program under the SDK's mock runtime and records every resource the way
the engine hands it to a policy pack: type, name, URN, parent, dependencies, property
dependencies, options, provider and the serialized inputs (camelCase, secrets marked)."""

import asyncio
import contextlib
import os
import runpy
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import wait_for_rpcs
from shipyard.errors import ConfigError

from .mocks import OfflineMocks
from .stack_config import StackConfig


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool | None
    additional_secret_outputs: list[str]
    provider: str
    """Provider reference `urn::id`, or "" for the default provider."""
    properties: struct_pb2.Struct
    """Inputs exactly as serialized by the SDK for the engine."""
    id: str = ""
    aliases: list[dict] = field(default_factory=list)
    """Alias specs as sent to the engine (e.g. {"spec": {"parentUrn": ...}})."""
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """The customTimeouts option as sent to the engine (create/update/delete, e.g. "39m")."""


@dataclass
class Recording:
    stack: StackConfig
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    preview_unknowns: bool = False

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mock: pulumi.runtime.Mocks,
                 on_register: Callable[[RecordedResource], None] | None = None) -> None:
        super().__init__(mock)
        self.recorded: list[RecordedResource] = []
        self.on_register = on_register

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine does not qualify a type with the root stack's type; the SDK's mock does.
        if parent and parent.split("::")[2].split("$")[-1] == "pulumi:pulumi:Stack":
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            properties = struct_pb2.Struct()
            properties.CopyFrom(request.object)
            recorded = RecordedResource(
                urn=response.urn, type=request.type, name=request.name,
                custom=bool(request.custom), parent=request.parent,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns)
                                       for k, v in request.propertyDependencies.items()},
                protect=bool(request.protect), ignore_changes=list(request.ignoreChanges),
                delete_before_replace=(request.deleteBeforeReplace
                                       if request.deleteBeforeReplaceDefined else None),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                provider=request.provider, properties=properties, id=response.id,
                aliases=[json_format.MessageToDict(a) for a in request.aliases],
                custom_timeouts={op: getattr(request.customTimeouts, op)
                                 for op in ("create", "update", "delete")
                                 if getattr(request.customTimeouts, op)})
            self.recorded.append(recorded)
            if self.on_register is not None:
                self.on_register(recorded)
        return response


class _StackWithoutSourceText(types.ModuleType):
    """`traceback` as pulumi.runtime.resource sees it during an offline run. The SDK records
    where each resource was created (`_get_stack_trace`: file and line of every frame) with
    traceback.extract_stack(), which also loads, stats and caches the text of every source file
    on the stack to fill in each frame's `line`, which the SDK never reads: about a tenth of the
    run for 20 services. Frames here carry the same file, line and function name, without the
    text; everything else is the real module."""

    def __init__(self) -> None:
        super().__init__("traceback")
        self.__dict__.update(traceback.__dict__)

    @staticmethod
    def extract_stack(f: types.FrameType | None = None,
                      limit: int | None = None) -> traceback.StackSummary:
        frame: types.FrameType | None = f if f is not None else sys._getframe(1)
        frames: list[traceback.FrameSummary] = []
        while frame is not None and (limit is None or len(frames) < limit):
            frames.append(traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno,
                                                 frame.f_code.co_name, lookup_line=False))
            frame = frame.f_back
        frames.reverse()
        return traceback.StackSummary.from_list(frames)


@contextlib.contextmanager
def _source_positions_without_source_text() -> Iterator[None]:
    sdk = pulumi.runtime.resource
    if getattr(sdk, "traceback", None) is not traceback:  # an SDK that no longer does this
        yield
        return
    sdk.traceback = _StackWithoutSourceText()
    try:
        yield
    finally:
        sdk.traceback = traceback


def _reset_runtime() -> None:
    settings.reset_options()
    settings.set_root_resource(None)  # type: ignore[arg-type]


async def _resolve_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    resolved = {}
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        known = await output.is_known()
        secret = await output.is_secret()
        resolved[key] = ("[secret]" if secret else
                         (await output.future()) if known else "[unknown until deploy]")
    return resolved


def program_entry(project_dir: Path) -> Path:
    """The file the language host runs: `main` of Pulumi.yaml (a file, or a folder with
    `__main__.py`), else the project folder's `__main__.py`."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    main = project.get("main") if isinstance(project, dict) else None
    entry = project_dir / str(main) if main else project_dir
    if entry.is_dir():
        entry = entry / "__main__.py"
    if not entry.is_file():
        raise ConfigError("Pulumi.yaml: main", str(main or "."),
                          "a Python file, or a folder with __main__.py")
    return entry


def run_program(project_dir: Path, stack: StackConfig, *, preview_unknowns: bool = False,
                on_register: Callable[[RecordedResource], None] | None = None) -> Recording:
    """Run the program of `project_dir` for `stack`. Raises what the program raises (a
    ConfigError for bad config) after the runtime is reset. `on_register` sees each resource
    as it is registered (from the SDK's worker threads)."""
    entry = program_entry(project_dir)
    program_dir = entry.parent
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    monitor = RecordingMonitor(OfflineMocks(stack.region, preview_unknowns=preview_unknowns),
                               on_register)
    _reset_runtime()
    pulumi.runtime.set_mocks(monitor.mocks, project=stack.project, stack=stack.stack,
                             preview=preview_unknowns, monitor=monitor)
    pulumi.runtime.set_all_config(dict(stack.config), list(stack.secret_keys))
    previous_cwd = os.getcwd()
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        with _source_positions_without_source_text():
            outputs = _run(entry, loop, monitor)
    finally:
        os.chdir(previous_cwd)
        sys.path.remove(str(program_dir))
        _reset_runtime()
        loop.close()
        asyncio.set_event_loop(None)
    return Recording(stack=stack, resources=monitor.recorded, outputs=outputs,
                     preview_unknowns=preview_unknowns)


def _run(entry: Path, loop: asyncio.AbstractEventLoop, monitor: RecordingMonitor
         ) -> dict[str, Any]:
    """The program, then everything it queued (resources created inside `apply` too)."""
    try:
        runpy.run_path(str(entry), run_name="__main__")
    except Exception as error:
        # Lets callers show (and tests assert) that a rejected program registered nothing.
        error.registered_before_failure = list(monitor.recorded)  # type: ignore[attr-defined]
        # Let what the runtime already queued (the root stack) finish before the loop closes.
        with contextlib.suppress(Exception):
            loop.run_until_complete(wait_for_rpcs(await_all_outstanding_tasks=False))
        raise
    loop.run_until_complete(wait_for_rpcs())
    root = settings.get_root_resource()
    return loop.run_until_complete(_resolve_outputs(dict(getattr(root, "outputs", {}))))
