"""What the delivery plumbing needs to know about the application stacks, read from their stack
files (`Pulumi.<stack>.yaml` beside the program): the environment tag, the architecture, the
source folder of every service built from source, which the merge workflow's path filter, the
Deployments path filter and the artifacts stack follow, the DNS records the stack writes, and
the names its resources start with, which the deploy role is scoped to."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from shipyard.errors import ConfigError
from shipyard.topology import parse_dns
from shipyard.validation import validate_service_name

from .workload_grants import WorkloadGrants, workload_grants

APP_DIR = Path(__file__).resolve().parents[2]
_POLICY_FILE = "a policy config file inside the project, such as policy/config.staging.json"
# The program's own top-level logical names (__main__.py: the network, the cluster, the
# access-log bucket, the shared and internal load balancers). Pulumi derives every auto-name from
# a logical name, so each name the program creates starts with one of these or with a service's
# name; tests/test_delivery_prefixes.py runs the program for every topology and fails, naming
# the resource, on a name neither covers.
PROGRAM_NAMES = ("network", "cluster", "alb-logs", "shared", "internal")
# What can change what a stack deploys besides the services' source folders.
PROGRAM_PATHS = ("__main__.py", "stack_settings.py", "stack_topology.py", "artifact_images.py",
                 "Pulumi.yaml", "components/**", "policy/**", "pyproject.toml", "uv.lock")


@dataclass(frozen=True)
class AppStack:
    name: str
    environment: str
    architecture: str
    sources: tuple[str, ...]
    """Service source folders relative to the program, in config order, without duplicates."""
    built_containers: tuple[tuple[str, str], ...] = ()
    """(service, container) of every container built from source: each has an ECR repository
    whose exact name the delivery IAM derives (shipyard.repository_names)."""
    policy_config: str = ""
    """The stack's policy levels, relative to the program: `shipyard:policy_config` where the
    stack file chooses one (a dev or qa stack may reuse staging's), else
    `policy/config.<stack>.json`, as the offline preview resolves them."""
    dns_records: tuple[tuple[str, str], ...] = ()
    """(hosted zone id, record name) of every Route 53 alias the stack writes (the shared load
    balancers' and each service's own `dns`), parsed as the component parses them: the deploy
    role may change exactly these records."""
    resource_prefixes: tuple[str, ...] = PROGRAM_NAMES
    """What the names of the stack's resources start with: its services' names, then the
    program's own (PROGRAM_NAMES). The deploy role manages only resources so named."""
    workload_grants: WorkloadGrants = field(default_factory=WorkloadGrants)
    """What the services' roles reach beyond the program's own resources: the workload boundary
    includes exactly these (workload_grants.py)."""


def _config(stack: str, app_dir: Path) -> Mapping:
    path = app_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ConfigError(f"stacks.{stack}", stack,
                          f"a stack of the application with its file {path.name}")
    document = yaml.safe_load(path.read_text()) or {}
    return document.get("config") or {}


def read_app_stack(stack: str, app_dir: Path = APP_DIR, namespace: str = "shipyard") -> AppStack:
    config = _config(stack, app_dir)
    defaults = config.get(f"{namespace}:service_defaults") or {}
    services = config.get(f"{namespace}:services") or []
    sources: list[str] = []
    built: list[tuple[str, str]] = []
    architectures = set()
    names: list[str] = []
    for index, service in enumerate(services):
        merged = {**defaults, **service}
        # The component's own rule: the deploy role's name scope starts with it.
        names.append(validate_service_name(
            merged.get("name"), f"Pulumi.{stack}.yaml: {namespace}:services[{index}].name"))
        architectures.add(merged.get("architecture", "X86_64"))
        for container in merged.get("containers") or []:
            source = container.get("source")
            if source is None:
                continue
            folder = Path(str(source))
            if folder.is_absolute() or ".." in folder.parts:
                raise ConfigError(f"{namespace}:services[{index}].containers.source", source,
                                  "a folder inside the repository, relative to the program")
            sources.append(folder.as_posix().strip("/"))
            built.append((str(merged.get("name")), str(container.get("name"))))
    records = [_dns_record(config.get(f"{namespace}:{balancer}"), f"{namespace}:{balancer}.dns")
               for balancer in ("load_balancer", "internal_load_balancer")]
    records += [_dns_record({**defaults, **service}, f"{namespace}:services[{index}].dns")
                for index, service in enumerate(services)]
    if len(architectures) > 1:
        raise ConfigError(f"{namespace}:services", sorted(architectures),
                          "one architecture per stack: the artifacts stack of that architecture "
                          "builds every service")
    policy_config = config.get(f"{namespace}:policy_config", f"policy/config.{stack}.json")
    policy_path = Path(str(policy_config))
    if policy_path.is_absolute() or ".." in policy_path.parts:
        raise ConfigError(f"Pulumi.{stack}.yaml: {namespace}:policy_config", policy_config,
                          _POLICY_FILE)
    return AppStack(name=stack, environment=str(config.get(f"{namespace}:environment", stack)),
                    architecture=architectures.pop() if architectures else "X86_64",
                    sources=tuple(dict.fromkeys(sources)),
                    built_containers=tuple(dict.fromkeys(built)),
                    policy_config=policy_path.as_posix(),
                    dns_records=tuple(dict.fromkeys(r for r in records if r is not None)),
                    resource_prefixes=tuple(dict.fromkeys([*names, *PROGRAM_NAMES])),
                    workload_grants=workload_grants(
                        [{**defaults, **service} for service in services],
                        f"Pulumi.{stack}.yaml: {namespace}:services"))


def policy_levels(app: AppStack, app_dir: Path = APP_DIR) -> dict:
    """The policy config the stack's policy group enforces (the file the offline preview
    judges the stack by)."""
    path = app_dir / app.policy_config
    if not path.is_file():
        raise ConfigError(f"Pulumi.{app.name}.yaml: shipyard:policy_config", app.policy_config,
                          _POLICY_FILE)
    levels = json.loads(path.read_text())
    if not isinstance(levels, dict):
        raise ConfigError(f"Pulumi.{app.name}.yaml: shipyard:policy_config", app.policy_config,
                          "a JSON object of policy names and levels")
    return levels


def _dns_record(settings: object, setting: str) -> tuple[str, str] | None:
    if not isinstance(settings, Mapping) or settings.get("dns") is None:
        return None
    spec = parse_dns(settings["dns"], setting)
    return spec.zone_id, spec.name


def deploy_paths(stacks: list[AppStack]) -> list[str]:
    """Every path whose change can change what one of the stacks deploys."""
    paths = list(PROGRAM_PATHS)
    paths += [f"Pulumi.{s.name}.yaml" for s in stacks]
    paths += [f"{source}/**" for s in stacks for source in s.sources]
    return list(dict.fromkeys(paths))
