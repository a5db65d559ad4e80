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
    return json.dumps(value)


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


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    project_file = project_dir / "Pulumi.yaml"
    project = yaml.safe_load(project_file.read_text())
    name = project["name"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ConfigError("stack", stack,
                          "one of " + ", ".join(available_stacks(project_dir)))
    stack_doc = yaml.safe_load(stack_file.read_text()) or {}
    declared = project.get("config") or {}
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, declaration in declared.items():
        full_key = key if ":" in key else f"{name}:{key}"
        if isinstance(declaration, dict) and "default" in declaration:
            values[full_key] = _as_config_string(declaration["default"])
    for key, value in (stack_doc.get("config") or {}).items():
        namespace, _, short = key.partition(":")
        is_secret = isinstance(value, dict) and set(value) == {"secure"}
        # Secret keys are named by the user (services refer to them), so only plain values
        # must be declared: a misspelt setting fails here instead of being silently ignored.
        if namespace == name and short not in declared and not is_secret:
            raise ConfigError(f"{stack_file.name}: {key}", "<value>",
                              "not declared in Pulumi.yaml; known keys are "
                              + ", ".join(sorted(declared)))
        if is_secret:
            values[key] = SECRET_PLACEHOLDER_PREFIX + short
            secret_keys.append(key)
        else:
            values[key] = _as_config_string(value)
    region = values.get("aws:region")
    if not region:
        raise ConfigError(f"{stack_file.name}: aws:region", None, "required (e.g. eu-west-1)")
    policy_file = _policy_file(project_dir, name, stack, values, declared)
    policy_config = json.loads(policy_file.read_text()) if policy_file is not None else {}
    return StackConfig(project=name, stack=stack, config=values, secret_keys=secret_keys,
                       policy_config=policy_config, region=region)
