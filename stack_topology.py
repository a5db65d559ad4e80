"""How a stack's services fit together, from stack config: which are routed on the shared load
balancer (and with which priorities), who calls which private service, which environment values
are another service's address, and the order the program must create services in. Validated
with the rest of the stack config, before anything is registered.

Config-only shapes, translated here into ContainerService arguments:
- `routing: {paths, hosts, priority?}` on a `topology: shared` service -> the SharedLoadBalancer's
  `routes`;
- `callers: [names]` on a private service -> `callers: {name: <that service's security group>}`;
- an environment value `{service_url: <name>}` -> that service's `url` (a private service's
  Service Connect address is static, so it is filled in here)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard import validation as v
from shipyard.errors import ConfigError
from shipyard.routing import Route, allocate_priorities, parse_route
from shipyard.service_connect import service_connect_url
from shipyard.shared_load_balancer import parse_shared_load_balancer_args
from shipyard.topology import OWN_LOAD_BALANCER_KEYS, TOPOLOGIES

NAMESPACE = "shipyard"
SERVICE_URL_KEY = "service_url"
# Keys of shipyard:load_balancer; vpc, subnets, access logs and routes come from the program.
LOAD_BALANCER_KEYS = frozenset({"certificate_arn", "ingress_cidrs", "deletion_protection",
                                "test_listener_port", "test_ingress_cidrs", "waf", "dns"})
# Shared load balancer settings that fall back to shipyard:service_defaults.
_INHERITED_BY_LOAD_BALANCER = ("certificate_arn", "ingress_cidrs", "deletion_protection")
_PLACEHOLDER_SG = "sg-00000000"
_PLACEHOLDER_NAMESPACE = "arn:aws:servicediscovery:validation-only"
_PLACEHOLDER_URL = "http://validation-only"


@dataclass(frozen=True)
class ProbeBalancer:
    """Stands in for the SharedLoadBalancer while config is validated."""
    routes: dict[str, Route]
    priorities: dict[str, int]
    test_listener_port: int | None


@dataclass(frozen=True)
class StackTopology:
    load_balancer: dict[str, Any] | None = None
    """SharedLoadBalancerArgs without vpc, subnets and access logs; None: no shared ALB."""
    priorities: dict[str, int] = field(default_factory=dict)
    callers: dict[str, list[str]] = field(default_factory=dict)
    """Private service -> the services that may call it."""
    url_references: dict[str, dict[tuple[int, str], str]] = field(default_factory=dict)
    """Service -> (container index, variable) -> the service whose url it receives."""
    order: list[str] = field(default_factory=list)
    service_connect_users: frozenset[str] = frozenset()
    """Services that need the Service Connect namespace: private ones and their callers."""


def kind_of(args: Mapping[str, Any]) -> str:
    kind = args.get("topology", "public")
    return kind if kind in TOPOLOGIES else "public"


def applicable_defaults(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """service_defaults without the settings of a service's own load balancer, for services that
    have none (they belong to the shared load balancer, or to nothing)."""
    if kind_of(own) == "public":
        return dict(defaults)
    return {k: val for k, val in defaults.items() if k not in OWN_LOAD_BALANCER_KEYS}


def _container_port(args: Mapping[str, Any]) -> int | None:
    for container in args.get("containers") or []:
        if isinstance(container, Mapping) and isinstance(container.get("port"), int):
            return int(container["port"])
    return None


def prepare(entries: list[tuple[str, str, dict[str, Any]]], load_balancer: object,
            defaults: Mapping[str, Any], environment: str
            ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], StackTopology]:
    """entries: (setting, name, merged args). Returns (args for the program, args to validate
    with placeholders for what the program supplies, the stack's topology)."""
    names = [name for _, name, _ in entries]
    kinds = {name: kind_of(args) for _, name, args in entries}
    settings = {name: setting for setting, name, _ in entries}
    program: dict[str, dict[str, Any]] = {}
    probes: dict[str, dict[str, Any]] = {}
    routes: list[Route] = []
    raw_routes: dict[str, Any] = {}
    callers: dict[str, list[str]] = {}
    references: dict[str, dict[tuple[int, str], str]] = {}
    for setting, name, args in entries:
        args = dict(args)
        if "routing" in args:
            if kinds[name] != "shared":
                raise ConfigError(f"{setting}.routing", args["routing"],
                                  f"service '{name}' is {kinds[name]}: routing applies to "
                                  "topology shared only")
            raw_routes[name] = args.pop("routing")
            routes.append(parse_route(name, raw_routes[name], f"{setting}.routing"))
        elif kinds[name] == "shared":
            raise ConfigError(f"{setting}.routing", None,
                              f"service '{name}' is on the shared load balancer: give it "
                              "routing {paths: [...]} and/or {hosts: [...]}")
        if "callers" in args and kinds[name] == "private":
            listed = args["callers"]
            if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
                raise ConfigError(f"{setting}.callers", listed, "a list of service names")
            for caller in listed:
                if caller not in names or caller == name:
                    raise ConfigError(f"{setting}.callers", caller,
                                      f"another service of this stack: "
                                      f"{', '.join(n for n in names if n != name)}")
            callers[name] = list(listed)
            args["callers"] = {c: _PLACEHOLDER_SG for c in listed}
        program[name] = args
    for setting, name, args in entries:
        containers = program[name].get("containers")
        if not isinstance(containers, list):
            continue
        resolved_containers = []
        for index, container in enumerate(containers):
            environment_values = container.get("environment") if isinstance(
                container, Mapping) else None
            if not isinstance(environment_values, Mapping):
                resolved_containers.append(container)
                continue
            resolved_env = {}
            for variable, value in environment_values.items():
                if isinstance(value, Mapping) and SERVICE_URL_KEY in value:
                    where = f"{setting}.containers[{index}].environment.{variable}"
                    if set(value) != {SERVICE_URL_KEY}:
                        raise ConfigError(where, sorted(value), f"'{SERVICE_URL_KEY}' stands alone")
                    target = value[SERVICE_URL_KEY]
                    if target not in names or target == name:
                        raise ConfigError(f"{where}.{SERVICE_URL_KEY}", target,
                                          "another service of this stack: "
                                          + ", ".join(n for n in names if n != name))
                    if kinds[target] == "worker":
                        raise ConfigError(f"{where}.{SERVICE_URL_KEY}", target,
                                          f"service '{target}' is a worker and has no address")
                    if kinds[target] == "private":
                        alias = program[target].get("service_connect_alias", target)
                        port = _container_port(program[target])
                        if name not in callers.get(target, []):
                            raise ConfigError(f"{where}.{SERVICE_URL_KEY}", target,
                                              f"service '{target}' is private and '{name}' is "
                                              f"not among its callers; add it to "
                                              f"{settings[target]}.callers")
                        resolved_env[variable] = service_connect_url(str(alias), port or 0)
                    else:
                        references.setdefault(name, {})[(index, variable)] = target
                        resolved_env[variable] = _PLACEHOLDER_URL
                else:
                    resolved_env[variable] = value
            resolved_containers.append({**container, "environment": resolved_env})
        program[name]["containers"] = resolved_containers

    balancer_args = None
    probe_balancer = None
    priorities: dict[str, int] = {}
    if routes:
        # Routes first, so an overlap names the services' own settings.
        priorities = allocate_priorities(routes)
        balancer_args = _load_balancer_args(load_balancer, defaults, environment)
        balancer_args["routes"] = raw_routes
        checked = parse_shared_load_balancer_args(
            {**balancer_args, "vpc_id": "vpc-validation-only", "public_subnet_ids": []},
            f"{NAMESPACE}:load_balancer")
        probe_balancer = ProbeBalancer({r.service: r for r in routes}, priorities,
                                       checked.test_listener_port)
    elif load_balancer is not None:
        raise ConfigError(f"{NAMESPACE}:load_balancer", "<set>",
                          "only used when a service has topology shared; remove it or route a "
                          "service on it")

    users = set(callers) | {c for listed in callers.values() for c in listed}
    for _, name, _ in entries:
        probe = {k: val for k, val in program[name].items()}
        if kinds[name] == "shared" and probe_balancer is not None:
            probe["load_balancer"] = probe_balancer
        if name in users:
            probe["service_connect_namespace"] = _PLACEHOLDER_NAMESPACE
        probes[name] = probe

    order = _creation_order(names, callers, references, settings)
    return program, probes, StackTopology(
        load_balancer=balancer_args, priorities=priorities, callers=callers,
        url_references=references, order=order, service_connect_users=frozenset(users))


def _load_balancer_args(raw: object, defaults: Mapping[str, Any],
                        environment: str) -> dict[str, Any]:
    setting = f"{NAMESPACE}:load_balancer"
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping of shared load balancer settings")
    v.reject_unknown_keys(dict(raw), LOAD_BALANCER_KEYS, setting)
    args = {k: defaults[k] for k in _INHERITED_BY_LOAD_BALANCER if k in defaults}
    args.update(raw)
    if environment == "prod":
        if not args.get("certificate_arn"):
            raise ConfigError(f"{setting}.certificate_arn", args.get("certificate_arn"),
                              "required in prod: an ACM certificate ARN for the HTTPS listener")
        args.setdefault("waf", {"enabled": True})
    return args


def _creation_order(names: list[str], callers: dict[str, list[str]],
                    references: dict[str, dict[tuple[int, str], str]],
                    settings: dict[str, str]) -> list[str]:
    """Callers before the private service that admits their groups; a referenced service before
    the one that receives its url. Config order otherwise; a cycle is refused."""
    before: dict[str, set[str]] = {name: set() for name in names}
    for private, listed in callers.items():
        before[private].update(listed)
    for service, refs in references.items():
        before[service].update(refs.values())
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            raise ConfigError(f"{settings[name]}", " -> ".join(cycle),
                              "services depend on each other in a cycle (callers and "
                              "service_url references); break it, e.g. make the called "
                              "service private so its address is static")
        state[name] = "visiting"
        for other in sorted(before[name], key=names.index):
            visit(other, path + [name])
        state[name] = "done"
        order.append(name)

    for name in names:
        visit(name, [])
    return order
