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
import pulumi_aws as aws
from shipyard import validation as v
from shipyard.access_logs import log_delivery_principal
from shipyard.errors import ConfigError
from shipyard.network import NetworkSpec, parse_network_args
from shipyard.regions import arn_region, partition_of
from shipyard.repository_names import repository_name
from shipyard.spec import ContainerServiceArgs, ServiceSpec, parse_service_args

from stack_topology import StackTopology, applicable_defaults, kind_of, prepare

NAMESPACE = "shipyard"
# Any environment name works (dev, qa, ...); "prod" adds its own requirements (certificate, WAF).
ENVIRONMENT_RE = v.re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# Filled in by the program from the network, not by config.
_PROGRAM_OWNED = frozenset({"vpc_id", "public_subnet_ids", "private_subnet_ids", "cluster_arn",
                            "cluster_name", "access_logs_bucket", "source_version",
                            "load_balancer", "service_connect_namespace"})
_PLACEHOLDER_VPC = "vpc-00000000000000000"
# S3 lifecycle expiration takes a positive number of days; 100 years is beyond any retention.
MAX_EXPIRY_DAYS = 36500


@dataclass(frozen=True)
class StackSettings:
    environment: str
    network: NetworkSpec
    services: dict[str, dict[str, Any]]
    """Service name -> ContainerServiceArgs, without the network and cluster (program-owned)."""
    access_logs: bool
    access_log_expiry_days: int
    protect_stateful: bool
    source_versions: dict[str, str]
    """Service name -> git identity of its source folders (see source_versions)."""
    specs: dict[str, ServiceSpec] = field(default_factory=dict)
    topology: StackTopology = field(default_factory=StackTopology)
    """Shared load balancer, callers, url references and creation order."""


def source_versions(sources_by_service: Mapping[str, list[str]]) -> dict[str, str]:
    """Service -> the git identity of the source it builds: `<folder>@<tree id>` per source
    folder, as committed at HEAD. A tree id changes when, and only when, the folder's committed
    content changes, so an unrelated commit (a README edit) leaves every input as it was: the
    commit itself is never a resource input (it would update every resource on every deploy).
    It also works in a shallow clone. The commit is in Pulumi's own record of each update
    (`git.head` in the update metadata, see docs/stacks.md, "Tags")."""
    paths = sorted({path for sources in sources_by_service.values() for path in sources})
    trees: dict[str, str] = {}
    if paths:
        try:
            # `HEAD:./<path>` is relative to the working directory, which is the project's.
            lines = subprocess.run(["git", "rev-parse", *(f"HEAD:./{p}" for p in paths)],
                                   capture_output=True, text=True, check=True,
                                   timeout=5).stdout.split()
            if len(lines) == len(paths):
                trees = dict(zip(paths, lines, strict=True))
            # A folder with uncommitted changes builds something HEAD does not describe. Two
            # calls for all folders (paths relative to the working directory).
            changed = set()
            for command in (["git", "diff", "HEAD", "--name-only", "--relative", "-z"],
                            ["git", "ls-files", "--others", "--exclude-standard", "-z"]):
                changed |= set(filter(None, subprocess.run(
                    [*command, "--", *paths], capture_output=True, text=True, check=True,
                    timeout=5).stdout.split("\0")))
            for path in paths:
                folder = os.path.normpath(path)
                if path in trees and any(f == folder or f.startswith(folder + "/")
                                         for f in changed):
                    trees[path] += "+uncommitted-changes"
        except (OSError, subprocess.SubprocessError):
            trees = {}
    return {name: ",".join(f"{path}@{trees.get(path, 'uncommitted')}" for path in sorted(sources))
            or "prebuilt-images" for name, sources in sources_by_service.items()}


def _parse_network(raw: object, region: str) -> NetworkSpec:
    setting = f"{NAMESPACE}:network"
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping of network settings")
    return parse_network_args(raw, setting, region=region)


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
                                  "stored in plain text; store it with "
                                  f"`pulumi config set --secret {key} <value>`")
            resolved[env_name] = {"value": config.require_secret(key)}
        elif isinstance(source, str):
            raise ConfigError(where, "<plain value hidden>",
                              "a secret source {config: <key>} or {arn: <secret ARN>}, never a "
                              "plain value")
        else:
            resolved[env_name] = source
    return {**container, "secrets": resolved}


def _object(config: pulumi.Config, key: str) -> Any:
    """A structured value; text that is not YAML/JSON structure is a clear refusal."""
    try:
        return config.get_object(key)
    except (ValueError, pulumi.ConfigTypeError):
        raise ConfigError(f"{NAMESPACE}:{key}", config.get(key),
                          "a YAML mapping or list (see Pulumi.yaml)") from None


def _boolean(config: pulumi.Config, key: str) -> bool:
    value = config.get(key)
    if value not in ("true", "false"):
        raise ConfigError(f"{NAMESPACE}:{key}", value, "true or false")
    return value == "true"


def _days(config: pulumi.Config, key: str) -> int:
    value = config.get(key)
    days = int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else None
    if days is None or not 1 <= days <= MAX_EXPIRY_DAYS:
        raise ConfigError(f"{NAMESPACE}:{key}", value,
                          f"a whole number of days from 1 to {MAX_EXPIRY_DAYS}")
    return days


# Keys whose ARN names a resource the stack's own region must hold, wherever they appear in
# the config (a service, the service defaults, either shared load balancer): a load balancer
# uses only ACM certificates of its own region (ELB User Guide, "SSL certificates for your
# Application Load Balancer").
REGION_BOUND_KEYS = frozenset({"certificate_arn"})


def check_regions(value: object, setting: str, region: str) -> None:
    """Every region-bound ARN anywhere under `value` is in `region`."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            where = f"{setting}.{key}"
            if key in REGION_BOUND_KEYS and isinstance(inner, str) and inner.startswith("arn:") \
                    and arn_region(inner) != region:
                raise ConfigError(where, inner,
                                  f"a certificate in the stack's region {region}; a load "
                                  "balancer uses only ACM certificates of its own region")
            check_regions(inner, where, region)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            check_regions(inner, f"{setting}[{index}]", region)


def _deploying_account() -> str:
    """The account the stack's credentials act in (STS GetCallerIdentity, through the default
    provider, before any resource is registered)."""
    return str(aws.get_caller_identity().account_id)


def _names_a_secret_arn(*documents: object) -> bool:
    """Whether any container takes a secret by ARN (only then is the account asked)."""
    def walk(value: object) -> bool:
        if isinstance(value, Mapping):
            return "arn" in value or any(walk(inner) for inner in value.values())
        return isinstance(value, list) and any(walk(inner) for inner in value)
    return any(walk(document) for document in documents)


def load_stack_settings(config: pulumi.Config | None = None) -> StackSettings:
    config = config or pulumi.Config(NAMESPACE)
    # The provider's region (aws:region config, else AWS_REGION): refused here, before anything
    # is registered, when botocore does not know it.
    region = aws.config.region
    partition_of(region, "aws:region")
    environment = config.get("environment")
    if not isinstance(environment, str) or not ENVIRONMENT_RE.match(environment):
        raise ConfigError(f"{NAMESPACE}:environment", environment,
                          "an environment name such as dev, qa, staging or prod (lowercase "
                          "letters, digits and '-', at most 32)")
    network = _parse_network(_object(config, "network"), str(region))
    defaults = _object(config, "service_defaults") or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{NAMESPACE}:service_defaults", defaults, "a mapping of service settings")
    raw_services = _object(config, "services")
    if not isinstance(raw_services, list) or not raw_services:
        raise ConfigError(f"{NAMESPACE}:services", raw_services,
                          "a non-empty list of services, each with a name and containers")
    access_logs = _boolean(config, "access_logs")
    protect = _boolean(config, "protect_stateful")
    expiry_days = _days(config, "access_log_expiry_days")
    if access_logs:
        # The log writer differs per region; a region it is not verified for is refused now.
        log_delivery_principal(region)
    for key, raw in (("service_defaults", defaults), ("services", raw_services),
                     ("load_balancer", _object(config, "load_balancer")),
                     ("internal_load_balancer", _object(config, "internal_load_balancer"))):
        check_regions(raw, f"{NAMESPACE}:{key}", str(region))
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
    account = _deploying_account() if _names_a_secret_arn(raw_services, defaults) else None
    services, probes, topology = prepare(entries, _object(config, "load_balancer"), defaults,
                                         str(environment),
                                         _object(config, "internal_load_balancer"))
    for setting, name, _ in entries:
        # Validate now, with placeholders for what the program supplies, so every bad value is
        # reported before the first resource exists.
        probe: ContainerServiceArgs = {
            **probes[name], "vpc_id": _PLACEHOLDER_VPC,  # type: ignore[typeddict-item]
            "public_subnet_ids": [], "private_subnet_ids": []}
        specs[name] = parse_service_args(name, probe, setting, account_id=account)
        for container in specs[name].containers:
            if container.source is not None:  # its ECR repository's name, as the component does
                repository_name(pulumi.get_project(), pulumi.get_stack(), name, container.name,
                                setting=setting)
    return StackSettings(environment=str(environment), network=network, services=services,
                         access_logs=access_logs,
                         access_log_expiry_days=expiry_days,
                         protect_stateful=protect, specs=specs, topology=topology,
                         source_versions=source_versions({
                             name: [c.source for c in spec.containers if c.source]
                             for name, spec in specs.items()}))
