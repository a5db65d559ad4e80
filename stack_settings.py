"""The one loader of stack config (`Pulumi.<stack>.yaml`). It turns config into validated
ContainerService arguments before the program registers anything, so a bad stack fails with one
clear message and nothing half-created.

Defaults live in Pulumi.yaml's `config:` block (the CLI applies them; so does the offline
preview), not here."""

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from shipyard import validation as v
from shipyard.errors import ConfigError
from shipyard.network import NetworkSpec, parse_network_args
from shipyard.spec import ContainerServiceArgs, ServiceSpec, parse_service_args

from stack_topology import StackTopology, applicable_defaults, kind_of, prepare

NAMESPACE = "shipyard"
# Any environment name works (dev, qa, ...); "prod" adds its own requirements (certificate, WAF).
ENVIRONMENT_RE = v.re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# Filled in by the program from the network, not by config.
_PROGRAM_OWNED = frozenset({"vpc_id", "public_subnet_ids", "private_subnet_ids", "cluster_arn",
                            "cluster_name", "access_logs_bucket", "source_version",
                            "load_balancer", "service_connect_namespace"})
_PLACEHOLDER_VPC = "vpc-validation-only"


@dataclass(frozen=True)
class StackSettings:
    environment: str
    network: NetworkSpec
    services: dict[str, dict[str, Any]]
    """Service name -> ContainerServiceArgs, without the network and cluster (program-owned)."""
    access_logs: bool
    access_log_expiry_days: int
    protect_stateful: bool
    source_version: str
    specs: dict[str, ServiceSpec] = field(default_factory=dict)
    topology: StackTopology = field(default_factory=StackTopology)
    """Shared load balancer, callers, url references and creation order."""


def source_version() -> str:
    """The commit being deployed: from CI's environment, else git, else 'unversioned'."""
    for variable in ("SHIPYARD_SOURCE_VERSION", "GITHUB_SHA"):
        if os.environ.get(variable):
            return os.environ[variable][:40]
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=5).stdout.strip() or "unversioned"
    except (OSError, subprocess.SubprocessError):
        return "unversioned"


def _parse_network(raw: object) -> NetworkSpec:
    setting = f"{NAMESPACE}:network"
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping of network settings")
    return parse_network_args(raw, setting)


def _resolve_secrets(container: dict, config: pulumi.Config, setting: str) -> dict:
    """Turn `{config: key}` secret sources into secret Outputs; refuse keys stored in plain text."""
    secrets = container.get("secrets")
    if not isinstance(secrets, Mapping):
        return container
    resolved = {}
    for env_name, source in secrets.items():
        where = f"{setting}.secrets.{env_name}"
        if isinstance(source, Mapping) and "config" in source:
            if set(source) != {"config"}:
                raise ConfigError(where, sorted(source), "'config' stands alone")
            key = source["config"]
            full_key = f"{NAMESPACE}:{key}"
            if not isinstance(key, str) or config.get(key) is None:
                raise ConfigError(f"{where}.config", key,
                                  f"the name of a config secret; set it with "
                                  f"`pulumi config set --secret {key} <value>`")
            if not pulumi.runtime.is_config_secret(full_key):
                raise ConfigError(full_key, "<plain value hidden>",
                                  "stored in plain text; set it with "
                                  f"`pulumi config set --secret {key} <value>`")
            resolved[env_name] = {"value": config.require_secret(key)}
        elif isinstance(source, str):
            raise ConfigError(where, "<plain value hidden>",
                              "a secret source {config: <key>} or {arn: <secret ARN>}, never a "
                              "plain value")
        else:
            resolved[env_name] = source
    return {**container, "secrets": resolved}


def load_stack_settings(config: pulumi.Config | None = None) -> StackSettings:
    config = config or pulumi.Config(NAMESPACE)
    environment = config.get("environment")
    if not isinstance(environment, str) or not ENVIRONMENT_RE.match(environment):
        raise ConfigError(f"{NAMESPACE}:environment", environment,
                          "an environment name such as dev, qa, staging or prod (lowercase "
                          "letters, digits and '-', at most 32)")
    network = _parse_network(config.get_object("network"))
    defaults = config.get_object("service_defaults") or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{NAMESPACE}:service_defaults", defaults, "a mapping of service settings")
    raw_services = config.get_object("services")
    if not isinstance(raw_services, list) or not raw_services:
        raise ConfigError(f"{NAMESPACE}:services", raw_services,
                          "a non-empty list of services, each with a name and containers")
    access_logs = config.require_bool("access_logs")
    protect = config.require_bool("protect_stateful")
    version = source_version()
    services: dict[str, dict[str, Any]] = {}
    specs: dict[str, ServiceSpec] = {}
    entries: list[tuple[str, str, dict[str, Any]]] = []
    for index, raw in enumerate(raw_services):
        setting = f"{NAMESPACE}:services[{index}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(setting, raw, "a mapping with a name and containers")
        name = raw.get("name")
        if not isinstance(name, str):
            raise ConfigError(f"{setting}.name", name, "a service name such as web")
        if name in services:
            raise ConfigError(f"{setting}.name", name, "service names must be unique in a stack")
        own = {k: val for k, val in raw.items() if k != "name"}
        args = {**applicable_defaults(defaults, own), **own}
        owned = sorted(set(args) & _PROGRAM_OWNED)
        if owned:
            raise ConfigError(f"{setting}.{owned[0]}", args[owned[0]],
                              "set by the program from the network and cluster; configure "
                              f"{NAMESPACE}:network instead")
        if isinstance(args.get("containers"), list):
            args["containers"] = [_resolve_secrets(dict(c), config, f"{setting}.containers[{i}]")
                                  if isinstance(c, Mapping) else c
                                  for i, c in enumerate(args["containers"])]
        args.setdefault("protect_stateful", protect)
        if environment == "prod" and kind_of(args) == "public":
            if not args.get("certificate_arn"):
                raise ConfigError(f"{setting}.certificate_arn", args.get("certificate_arn"),
                                  "required in prod: an ACM certificate ARN for the HTTPS "
                                  "listener")
            args.setdefault("waf", {"enabled": True})
        services[name] = args
        entries.append((setting, name, args))
    services, probes, topology = prepare(entries, config.get_object("load_balancer"), defaults,
                                         str(environment))
    for setting, name, _ in entries:
        # Validate now, with placeholders for what the program supplies, so every bad value is
        # reported before the first resource exists.
        probe: ContainerServiceArgs = {
            **probes[name], "vpc_id": _PLACEHOLDER_VPC,  # type: ignore[typeddict-item]
            "public_subnet_ids": [], "private_subnet_ids": [], "source_version": version}
        specs[name] = parse_service_args(name, probe, setting)
    return StackSettings(environment=str(environment), network=network, services=services,
                         access_logs=access_logs,
                         access_log_expiry_days=config.require_int("access_log_expiry_days"),
                         protect_stateful=protect, source_version=version, specs=specs,
                         topology=topology)
