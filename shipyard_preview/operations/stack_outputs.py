"""What the stack made, as the stack itself reports it: its `services` output (see
`__main__.py`), read from `pulumi stack output --json --show-secrets=false` when the Pulumi CLI
is on PATH, or from a file written by that command (`--outputs FILE`). Nothing here guesses a
name: every cluster, service, log group and family comes from the outputs.

Also the stack's update history (`pulumi stack history --json`, or `--history FILE`), which
ties a task definition revision to the update, and so the commit, that registered it."""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError

_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):cluster/(.+)$")
_REQUIRED = ("cluster_arn", "cluster_name", "service_name", "log_group_name",
             "task_definition_family", "task_definition_arn", "image_digests")
# `pulumi stack history --json` times: the format the Automation API parses them with
# (pulumi/automation/_stack.py, `_DATETIME_FORMAT`).
_HISTORY_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class ServiceOutputs:
    """One service of the stack's `services` output."""

    name: str
    cluster_arn: str
    cluster_name: str
    service_name: str
    log_group_name: str
    task_definition_family: str
    task_definition_arn: str
    image_digests: dict[str, str]
    url: str
    execute_command: bool

    @property
    def region(self) -> str:
        match = _ARN_RE.match(self.cluster_arn)
        assert match is not None  # checked when parsed
        return match.group(2)

    @property
    def account(self) -> str:
        match = _ARN_RE.match(self.cluster_arn)
        assert match is not None
        return match.group(3)


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    services: dict[str, ServiceOutputs]
    source: str
    """Where they were read from (a file, or the pulumi command), for messages."""

    def service(self, name: str) -> ServiceOutputs:
        if name not in self.services:
            raise ConfigError("service", name, "one of the stack's services: "
                              + (", ".join(sorted(self.services)) or "(none)"))
        return self.services[name]

    def selected(self, name: str | None) -> list[ServiceOutputs]:
        return [self.service(name)] if name else [self.services[n] for n in sorted(self.services)]


def _pulumi_json(args: list[str], *, stack: str, project_dir: Path | None, what: str) -> Any:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ConfigError(f"--{what}", None, f"a file written by `pulumi {' '.join(args)} "
                          f"--stack {stack} > FILE`; no pulumi CLI is on PATH to run it here")
    result = subprocess.run([pulumi, *args, "--stack", stack, "--non-interactive"],
                            cwd=project_dir, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError("stack", stack, f"a stack `pulumi {args[0]} {args[1]}` can read "
                          f"({last.strip()})")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise ConfigError("stack", stack, f"JSON from `pulumi {' '.join(args)}` ({error})") \
            from None


def _read_json_file(path: str, setting: str, written_by: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(setting, path, f"an existing file written by `{written_by}`")
    try:
        return json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(setting, path, f"valid JSON written by `{written_by}` ({error})") \
            from None


def load_outputs(stack: str, *, outputs_file: str | None,
                 project_dir: Path | None) -> StackOutputs:
    if outputs_file is not None:
        raw = _read_json_file(outputs_file, "--outputs",
                              "pulumi stack output --json --show-secrets=false")
        source = outputs_file
    else:
        raw = _pulumi_json(["stack", "output", "--json", "--show-secrets=false"], stack=stack,
                           project_dir=project_dir, what="outputs")
        source = f"pulumi stack output --stack {stack}"
    return parse_outputs(stack, raw, source)


def parse_outputs(stack: str, raw: Any, source: str) -> StackOutputs:
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), dict):
        raise ConfigError("services", None if not isinstance(raw, dict) else raw.get("services"),
                          f"an output `services` in {source} (a mapping of service name to its "
                          "cluster, service, log group and task definition; the shipyard "
                          "program exports it: deploy with this version first)")
    services = {}
    for name, values in raw["services"].items():
        services[name] = _service(str(name), values, source)
    return StackOutputs(stack=stack, services=services, source=source)


def _service(name: str, values: Any, source: str) -> ServiceOutputs:
    setting = f"services.{name}"
    if not isinstance(values, dict):
        raise ConfigError(setting, values, f"a mapping in {source}")
    missing = [key for key in _REQUIRED if values.get(key) in (None, "")]
    if missing:
        raise ConfigError(setting, sorted(values), f"the keys {', '.join(_REQUIRED)} "
                          f"({', '.join(missing)} missing in {source})")
    for key in _REQUIRED[:-1]:
        if not isinstance(values[key], str) or values[key] == "[secret]":
            raise ConfigError(f"{setting}.{key}", values[key], "a plain string (not a secret)")
    if not _ARN_RE.match(values["cluster_arn"]):
        raise ConfigError(f"{setting}.cluster_arn", values["cluster_arn"],
                          "an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)")
    digests = values["image_digests"]
    if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
        raise ConfigError(f"{setting}.image_digests", digests,
                          "a mapping of container name to image reference")
    return ServiceOutputs(
        name=name, cluster_arn=values["cluster_arn"], cluster_name=values["cluster_name"],
        service_name=values["service_name"], log_group_name=values["log_group_name"],
        task_definition_family=values["task_definition_family"],
        task_definition_arn=values["task_definition_arn"],
        image_digests={str(k): str(v) for k, v in digests.items()},
        url=str(values.get("url") or ""),
        execute_command=values.get("execute_command") is True)


@dataclass(frozen=True)
class Update:
    """One entry of the stack's history."""

    version: int
    kind: str
    result: str
    started: datetime
    ended: datetime | None
    commit: str | None
    """`git.head` of the update's environment (the Pulumi CLI records it from the checkout)."""
    message: str


def load_history(stack: str, *, history_file: str | None,
                 project_dir: Path | None) -> list[Update]:
    if history_file is not None:
        raw = _read_json_file(history_file, "--history",
                              "pulumi stack history --json --show-secrets=false")
    else:
        raw = _pulumi_json(["stack", "history", "--json", "--show-secrets=false"],
                           stack=stack, project_dir=project_dir, what="history")
    if not isinstance(raw, list):
        raise ConfigError("--history", type(raw).__name__,
                          "the JSON list `pulumi stack history --json` prints")
    return [_update(entry) for entry in raw if isinstance(entry, dict)]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, _HISTORY_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def _update(entry: dict) -> Update:
    environment: dict = (entry["environment"] if isinstance(entry.get("environment"), dict)
                         else {})
    started = _time(entry.get("startTime"))
    return Update(version=int(entry.get("version") or 0), kind=str(entry.get("kind", "")),
                  result=str(entry.get("result", "")),
                  started=started or datetime.fromtimestamp(0, UTC),
                  ended=_time(entry.get("endTime")),
                  commit=(str(environment["git.head"]) if environment.get("git.head") else None),
                  message=str(entry.get("message") or ""))


def update_that_registered(history: list[Update], registered_at: datetime) -> Update | None:
    """The update (a `pulumi up`) during which a task definition revision was registered."""
    for update in history:
        if update.kind != "update" or update.ended is None:
            continue
        if update.started <= registered_at <= update.ended:
            return update
    return None
