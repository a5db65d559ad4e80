"""Drives the project's real policy pack over Pulumi's Analyzer gRPC protocol, the way the CLI
does: start the pack process, read its port, GetAnalyzerInfo, Configure (per-policy enforcement
and config, schema defaults applied as the CLI applies them), ConfigureStack, Analyze for every
resource and AnalyzeStack once. The verdicts are the pack's; nothing here judges a resource."""

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from shipyard.errors import ConfigError

from .engine import RecordedResource, Recording
from .stack_config import StackConfig

LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
          "disabled": analyzer_pb2.DISABLED, "remediate": analyzer_pb2.REMEDIATE}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
SEVERITY_NAMES = {0: "unspecified", 1: "low", 2: "medium", 3: "high", 4: "critical"}
_START_TIMEOUT_SECONDS = 60
_ANSWER_TIMEOUT_SECONDS = 120
"""How long one Analyze or AnalyzeStack answer may take. The pack answers in milliseconds; one
that does not answer is reported (exit 2), instead of the preview waiting for ever."""


def _answer(call: Any, what: str) -> Any:
    """A pack answer, or a one-line error naming what was being judged (the CLI shows a pack
    that fails an Analyzer call as an error too, and stops)."""
    try:
        return call.result(timeout=_ANSWER_TIMEOUT_SECONDS)
    except grpc.FutureTimeoutError:
        raise ConfigError("policy pack", what, f"it did not answer within "
                          f"{_ANSWER_TIMEOUT_SECONDS} s") from None
    except grpc.RpcError as error:
        details = error.details() if hasattr(error, "details") else str(error)
        raise ConfigError("policy pack", what,
                          f"the pack failed to judge it: {str(details).splitlines()[-1:]}") \
            from None


def configure_request(levels: dict[str, str],
                      properties: dict[str, dict[str, Any]]) -> Any:
    """The Configure request the CLI sends: each rule's level and its config properties."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, level in levels.items():
        props = struct_pb2.Struct()
        props.update(properties[name])
        request.policyConfig[name].CopyFrom(
            analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level], properties=props))
    return request


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    severity: str
    remediation: str
    url: str
    stack_policy: bool
    config_schema: dict


@dataclass(frozen=True)
class Verdict:
    policy: str
    enforcement_level: str
    severity: str
    urn: str
    message: str
    description: str
    remediation: str
    url: str


@dataclass(frozen=True)
class Skipped:
    """A rule the pack could not run because a value was unknown (preview time)."""
    policy: str
    urn: str
    message: str


@dataclass
class PolicyRun:
    pack_name: str
    pack_version: str
    policies: list[PolicyInfo]
    verdicts: list[Verdict]
    skipped: list[Skipped]
    levels: dict[str, str]


class PackProcess:
    """The pack as its own process, as the CLI runs it. `start` returns at once; `connect`
    waits for the port the pack prints, so callers can do other work while it boots."""

    def __init__(self, policy_dir: Path) -> None:
        self.policy_dir = policy_dir
        self.process: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None

    def start(self) -> Self:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-u", "__main__.py"],
                                        cwd=self.policy_dir, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env)
        return self

    def connect(self) -> analyzer_pb2_grpc.AnalyzerStub:
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"policy pack in {self.policy_dir} did not start: {line} "
                               f"{err.decode()[-2000:]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(self.channel).result(timeout=_START_TIMEOUT_SECONDS)
        return analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def running_pack(policy_dir: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """Start the pack and yield a connected stub."""
    with PackProcess(policy_dir) as pack:
        yield pack.connect()


def pack_version(policy_dir: Path) -> str:
    """The CLI takes a Python pack's version from PulumiPolicy.yaml; the SDK reports 0.0.1."""
    manifest = yaml.safe_load((policy_dir / "PulumiPolicy.yaml").read_text()) or {}
    return str(manifest.get("version", "0.0.1"))


def _policy_infos(info: analyzer_pb2.AnalyzerInfo) -> list[PolicyInfo]:
    return [PolicyInfo(
        name=p.name, description=p.description,
        enforcement_level=LEVEL_NAMES[p.enforcementLevel],
        severity=SEVERITY_NAMES.get(p.severity, "unspecified"), remediation=p.remediation_steps,
        url=p.url, stack_policy=p.policy_type == analyzer_pb2.POLICY_TYPE_STACK,
        config_schema=json_format.MessageToDict(p.configSchema)) for p in info.policies]


def resolve_policy_config(policies: list[PolicyInfo], config: dict[str, Any]
                          ) -> tuple[dict[str, str], dict[str, dict]]:
    """Per-policy enforcement level and properties, from a `--policy-pack-config` style document
    ({"all": level, "<policy>": level | {"enforcementLevel": level, ...properties}}), with each
    policy's schema defaults filled in and the result validated against its schema."""
    known = {p.name for p in policies} | {"all"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ConfigError("policy config", unknown[0], "not a policy of this pack")
    default_level = config.get("all")
    levels: dict[str, str] = {}
    properties: dict[str, dict] = {}
    for policy in policies:
        entry = config.get(policy.name, {})
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        level = entry.get("enforcementLevel", default_level or policy.enforcement_level)
        if level not in LEVELS:
            raise ConfigError(f"policy config {policy.name}.enforcementLevel", level,
                              "one of " + ", ".join(LEVELS))
        props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        schema = policy.config_schema
        for key, prop_schema in (schema.get("properties") or {}).items():
            if "default" in prop_schema and key not in props:
                props[key] = prop_schema["default"]
        if schema.get("properties"):
            try:
                jsonschema.validate(props, {"type": "object", **schema})
            except jsonschema.ValidationError as error:
                raise ConfigError(f"policy config {policy.name}", props, error.message) from None
        levels[policy.name] = level
        properties[policy.name] = props
    return levels, properties


def _options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect, ignoreChanges=resource.ignore_changes,
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        additionalSecretOutputs=resource.additional_secret_outputs, parent=resource.parent)


def _provider(resource: RecordedResource, by_urn: dict[str, RecordedResource]
              ) -> analyzer_pb2.AnalyzerProviderResource | None:
    if not resource.provider:
        return None
    urn = resource.provider.rpartition("::")[0]
    provider = by_urn.get(urn)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=provider.type, urn=provider.urn,
                                                 name=provider.name,
                                                 properties=provider.properties)


def _collect(response: analyzer_pb2.AnalyzeResponse, urn: str, infos: dict[str, PolicyInfo],
             verdicts: list[Verdict], skipped: list[Skipped]) -> None:
    for d in response.diagnostics:
        info = infos.get(d.policyName)
        if d.message.startswith(f"can't run policy '{d.policyName}'"):
            skipped.append(Skipped(d.policyName, urn, d.message))
            continue
        verdicts.append(Verdict(
            policy=d.policyName, enforcement_level=LEVEL_NAMES[d.enforcementLevel],
            severity=SEVERITY_NAMES.get(d.severity, "unspecified"), urn=d.urn or urn,
            message=d.message, description=d.description,
            remediation=info.remediation if info else "", url=info.url if info else ""))


def _analyze_request(resource: RecordedResource, by_urn: dict[str, RecordedResource]
                     ) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
        options=_options(resource), provider=_provider(resource, by_urn))


def analyzer_resource(resource: RecordedResource, by_urn: dict[str, RecordedResource]
                      ) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
        options=_options(resource), provider=_provider(resource, by_urn), parent=resource.parent,
        dependencies=resource.dependencies,
        propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                              for k, v in resource.property_dependencies.items()})


class PackSession:
    """One running pack: configure it, then ask it about resources and stacks."""

    def __init__(self, stub: analyzer_pb2_grpc.AnalyzerStub, policy_dir: Path) -> None:
        self.stub = stub
        self.info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.policies = _policy_infos(self.info)
        self.by_name = {p.name: p for p in self.policies}
        self.version = pack_version(policy_dir)
        self.levels: dict[str, str] = {}

    def configure(self, policy_config: dict[str, Any]) -> dict[str, str]:
        levels, properties = resolve_policy_config(self.policies, policy_config)
        self.stub.Configure(configure_request(levels, properties))
        self.levels = levels
        return levels

    def configure_stack(self, stack: StackConfig, *, dry_run: bool) -> None:
        # A map of strings, as the CLI sends it; secret values are left out.
        config = {k: v for k, v in stack.config.items() if k not in stack.secret_keys}
        self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack.stack, project=stack.project, organization="offline", dry_run=dry_run,
            config=config, config_secret_keys=stack.secret_keys))

    def analyze_resource(self, resource: RecordedResource,
                         by_urn: dict[str, RecordedResource]) -> tuple[list[Verdict], list[Skipped]]:
        return self.collect(resource, _answer(
            self.stub.Analyze.future(_analyze_request(resource, by_urn)), resource.urn))

    def collect(self, resource: RecordedResource, response: analyzer_pb2.AnalyzeResponse
                ) -> tuple[list[Verdict], list[Skipped]]:
        verdicts: list[Verdict] = []
        skipped: list[Skipped] = []
        _collect(response, resource.urn, self.by_name, verdicts, skipped)
        return verdicts, skipped

    def analyze_stack(self, resources: list[RecordedResource]
                      ) -> tuple[list[Verdict], list[Skipped]]:
        by_urn = {r.urn: r for r in resources}
        verdicts: list[Verdict] = []
        skipped: list[Skipped] = []
        response = _answer(self.stub.AnalyzeStack.future(analyzer_pb2.AnalyzeStackRequest(
            resources=[analyzer_resource(r, by_urn) for r in resources])), "the stack")
        _collect(response, "", self.by_name, verdicts, skipped)
        return verdicts, skipped

    def analyze_all(self, resources: list[RecordedResource]) -> tuple[list[Verdict], list[Skipped]]:
        """Every resource, then the stack: the order the engine uses. The calls are in flight
        together, as the engine's parallel steps send them; the answers are read in order."""
        by_urn = {r.urn: r for r in resources}
        pending = {r.urn: self.stub.Analyze.future(_analyze_request(r, by_urn)) for r in resources}
        return self.finish(resources, pending)

    def finish(self, resources: list[RecordedResource], pending: dict[str, Any]
               ) -> tuple[list[Verdict], list[Skipped]]:
        """The answers to Analyze calls already sent (`pending`, by URN), in the order of
        `resources`, then the stack's."""
        verdicts: list[Verdict] = []
        skipped: list[Skipped] = []
        for resource in resources:
            v, s = self.collect(resource, _answer(pending[resource.urn], resource.urn))
            verdicts += v
            skipped += s
        v, s = self.analyze_stack(resources)
        return verdicts + v, skipped + s


def analyze(recording: Recording, policy_dir: Path,
            stub: analyzer_pb2_grpc.AnalyzerStub | None = None) -> PolicyRun:
    """Judge a recording with the pack: a pack already started (`stub`), or a fresh one."""
    if stub is None:
        with running_pack(policy_dir) as started:
            return analyze(recording, policy_dir, started)
    session = PackSession(stub, policy_dir)
    levels = session.configure(recording.stack.policy_config)
    session.configure_stack(recording.stack, dry_run=recording.preview_unknowns)
    verdicts, skipped = session.analyze_all(recording.resources)
    return PolicyRun(pack_name=session.info.name, pack_version=session.version,
                     policies=session.policies, verdicts=verdicts, skipped=skipped, levels=levels)


_END = object()


class AnalysisAsRegistered:
    """Judge each resource while the program is still registering the next ones, as the engine
    sends Analyze for a resource when its step runs rather than after the program ends. The pack
    is its own process (the other core); a thread here connects to it, configures it, and sends
    each resource handed to `submit` as it arrives. `finish` reads the answers in the
    recording's order and judges the stack, so the result is what `analyze` gives."""

    def __init__(self, pack: PackProcess, stack: StackConfig, *, dry_run: bool) -> None:
        self._pack = pack
        self._stack = stack
        self._dry_run = dry_run
        self._arrived: queue.SimpleQueue = queue.SimpleQueue()
        self._pending: dict[str, Any] = {}
        self._session: PackSession | None = None
        self._levels: dict[str, str] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._send, name="analyze-as-registered",
                                        daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def submit(self, resource: RecordedResource) -> None:
        """Called by the recording monitor for each registered resource (any thread)."""
        self._arrived.put(resource)

    def _send(self) -> None:
        try:
            session = PackSession(self._pack.connect(), self._pack.policy_dir)
            self._levels = session.configure(self._stack.policy_config)
            session.configure_stack(self._stack, dry_run=self._dry_run)
            self._session = session
            # A resource's provider registers (and arrives) before the resource can name it.
            by_urn: dict[str, RecordedResource] = {}
            while (resource := self._arrived.get()) is not _END:
                by_urn[resource.urn] = resource
                self._pending[resource.urn] = session.stub.Analyze.future(
                    _analyze_request(resource, by_urn))
        except BaseException as error:  # noqa: BLE001  (re-raised in finish, on the caller's thread)
            self._error = error
            while self._arrived.get() is not _END:
                pass

    def stop(self) -> None:
        """No more resources (also after a failed program): let the thread end."""
        if self._thread.is_alive():
            self._arrived.put(_END)
            self._thread.join()

    def finish(self, recording: Recording) -> PolicyRun:
        self.stop()
        if self._error is not None:
            raise self._error
        session = self._session
        assert session is not None
        verdicts, skipped = session.finish(recording.resources, self._pending)
        return PolicyRun(pack_name=session.info.name, pack_version=session.version,
                         policies=session.policies, verdicts=verdicts, skipped=skipped,
                         levels=self._levels)
