"""Reads a stack's config the way the Pulumi CLI does: `Pulumi.<stack>.yaml` over the defaults
declared in `Pulumi.yaml`. Secret values cannot be decrypted offline; each becomes a marked
placeholder that is registered as a secret, so it is masked wherever it would be shown."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from shipyard.errors import ConfigError
from shipyard.regions import partition_of

SECRET_PLACEHOLDER_PREFIX = "offline-placeholder-secret:"


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    config: dict[str, str]
    """Fully-qualified key -> value as the language host receives it (objects as JSON)."""
    secret_keys: list[str]
    policy_config: dict[str, Any]
    region: str


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    # YAML also yields dates and timestamps; the CLI passes them on as text.
    return json.dumps(value, default=str)


def available_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _policy_file(project_dir: Path, project: str, stack: str, values: dict[str, str],
                 declared: dict) -> Path | None:
    """In a project that declares `policy_config`, every stack chooses its policy levels: that
    key names a file (a dev or qa stack may reuse staging's), else `policy/config.<stack>.json`
    must exist. Falling back to the pack's defaults would judge a new stack by levels nobody
    chose. Other projects (delivery) keep the file if there is one, else the defaults."""
    chosen = values.get(f"{project}:policy_config")
    default = project_dir / "policy" / f"config.{stack}.json"
    if "policy_config" not in declared:
        return default if default.is_file() else None
    if chosen is not None:
        # Lexically inside the project (a symlinked policy folder is fine, `..` is not).
        path = Path(os.path.normpath(project_dir / chosen))
        if not path.is_file() or not path.is_relative_to(os.path.normpath(project_dir)):
            raise ConfigError(f"Pulumi.{stack}.yaml: {project}:policy_config", chosen,
                              "a policy config file inside the project, such as "
                              "policy/config.staging.json")
        return path
    if not default.is_file():
        raise ConfigError(f"Pulumi.{stack}.yaml: {project}:policy_config", None,
                          f"choose the stack's policy levels: add policy/config.{stack}.json or "
                          "set shipyard:policy_config to an existing one (e.g. "
                          "policy/config.staging.json)")
    return default


def _load_yaml(path: Path) -> Any:
    """A YAML file, or one line naming the file, the line and the problem (never a traceback,
    never the offending text: it may hold a value that should have been a secret)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path.name, None, f"a readable UTF-8 file ({error})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        # PyYAML marks where it noticed the problem and, for an unclosed structure, where that
        # structure began: both lines are named.
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or getattr(error, "context", None) or error
        where = f"line {mark.line + 1}" if mark is not None else "the file"
        detail = " ".join(str(problem).split())
        context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and start is not None and start is not mark:
            detail += f" ({' '.join(str(context).split())} that starts on line {start.line + 1})"
        raise ConfigError(path.name, where, "YAML syntax error: " + detail) from None


# Pulumi.yaml `config` types (Pulumi project file reference, "config" section). Values written by
# `pulumi config set` without `--type` are strings, so "true"/"42" are accepted as the CLI does.
def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool) or value in ("true", "false")


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())


_DECLARED_TYPES = {
    "string": ("a string", lambda v: isinstance(v, str)),
    "integer": ("an integer", _is_integer),
    "boolean": ("true or false", _is_boolean),
    "array": ("a list", lambda v: isinstance(v, list)),
}


def _check_declared_type(setting: str, declaration: Any, value: Any) -> None:
    declared = declaration.get("type") if isinstance(declaration, dict) else None
    if declared is None:
        return
    if declared not in _DECLARED_TYPES:
        raise ConfigError(f"Pulumi.yaml: config.{setting}.type", declared,
                          "one of " + ", ".join(_DECLARED_TYPES))
    description, accepts = _DECLARED_TYPES[declared]
    if not accepts(value):
        raise ConfigError(setting, value, f"{description} (declared type {declared} in "
                                          "Pulumi.yaml)")


def _refers_to_secret(value: Any, key: str) -> bool:
    """Whether some service takes `key` as a secret (`{config: <key>}` anywhere in the config)."""
    if isinstance(value, dict):
        return value == {"config": key} or any(_refers_to_secret(v, key) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to_secret(v, key) for v in value)
    return False


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        raise ConfigError("--project-dir", str(project_dir), "a folder containing Pulumi.yaml")
    project = _load_yaml(project_file)
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise ConfigError("Pulumi.yaml", "<document>", "a mapping with a project name")
    name = project["name"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ConfigError("stack", stack,
                          "one of " + ", ".join(available_stacks(project_dir)))
    stack_doc = _load_yaml(stack_file)
    if stack_doc is None:
        stack_doc = {}
    if not isinstance(stack_doc, dict):
        raise ConfigError(stack_file.name, "<document>", "a mapping with a config: section")
    declared = project.get("config") or {}
    if not isinstance(declared, dict):
        raise ConfigError("Pulumi.yaml: config", "<section>", "a mapping of declared keys")
    stack_values = stack_doc.get("config") or {}
    if not isinstance(stack_values, dict):
        raise ConfigError(f"{stack_file.name}: config", "<section>",
                          "a mapping of <namespace>:<key> to values")
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, declaration in declared.items():
        full_key = key if ":" in str(key) else f"{name}:{key}"
        if isinstance(declaration, dict) and "default" in declaration:
            _check_declared_type(f"Pulumi.yaml: config.{key}.default", declaration,
                                 declaration["default"])
            values[full_key] = _as_config_string(declaration["default"])
    for key, value in stack_values.items():
        if not isinstance(key, str) or ":" not in key:
            raise ConfigError(f"{stack_file.name}: {key}", "<value>",
                              "a key of the form <namespace>:<name>, e.g. "
                              f"{name}:environment")
        namespace, _, short = key.partition(":")
        is_secret = isinstance(value, dict) and set(value) == {"secure"}
        # Secret keys are named by the user (services refer to them), so only plain values
        # must be declared: a misspelt setting fails here instead of being silently ignored.
        if namespace == name and short not in declared and not is_secret:
            if _refers_to_secret(stack_values, short):
                raise ConfigError(key, "<plain value hidden>",
                                  "stored in plain text; store it with "
                                  f"`pulumi config set --secret {short} <value>`")
            raise ConfigError(f"{stack_file.name}: {key}", "<value>",
                              "not declared in Pulumi.yaml; known keys are "
                              + ", ".join(sorted(declared)))
        if is_secret:
            values[key] = SECRET_PLACEHOLDER_PREFIX + short
            secret_keys.append(key)
            continue
        if value is None:
            raise ConfigError(key, None, "a value (remove the key to use the default)")
        if namespace == name:
            _check_declared_type(key, declared[short], value)
        values[key] = _as_config_string(value)
    region = values.get("aws:region")
    if not region:
        raise ConfigError(f"{stack_file.name}: aws:region", None, "required (e.g. eu-west-1)")
    partition_of(region, "aws:region")
    policy_file = _policy_file(project_dir, name, stack, values, declared)
    try:
        policy_config = json.loads(policy_file.read_text()) if policy_file is not None else {}
    except (OSError, ValueError) as error:
        raise ConfigError(str(policy_file.relative_to(project_dir)) if policy_file else "policy",
                          None, f"valid JSON ({error})") from None
    return StackConfig(project=name, stack=stack, config=values, secret_keys=secret_keys,
                       policy_config=policy_config, region=region)
