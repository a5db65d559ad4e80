"""How a stack's services fit together, from stack config: which are routed on the shared load
balancer (and with which priorities), who calls which private service, which environment values
are another service's address, and the order the program must create services in. Validated
with the rest of the stack config, before anything is registered.

Config-only shapes, translated here into ContainerService arguments:
- `routing: {paths, hosts, priority?, load_balancer?}` on a `topology: shared` service -> the
  `routes` of the stack's public SharedLoadBalancer, or of its internal one with
  `load_balancer: internal`;
- `shipyard:internal_load_balancer.callers: [names]` -> the internal load balancer's
  `callers: {name: <that service's security group>}`;
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
# Keys of shipyard:internal_load_balancer, and those only an internet-facing one takes.
INTERNAL_LOAD_BALANCER_KEYS = frozenset({"callers", "certificate_arn", "deletion_protection",
                                         "dns"})
_PUBLIC_ONLY_KEYS = ("ingress_cidrs", "waf", "test_listener_port", "test_ingress_cidrs")
# Which of the stack's shared load balancers a `topology: shared` service is routed on.
PUBLIC, INTERNAL = "public", "internal"
BALANCERS = (PUBLIC, INTERNAL)
# Shared load balancer settings that fall back to shipyard:service_defaults. The internal one
# takes only deletion protection: the public certificate names a public host.
_INHERITED_BY_LOAD_BALANCER = ("certificate_arn", "ingress_cidrs", "deletion_protection")
_INHERITED_BY_INTERNAL = ("deletion_protection",)
_PLACEHOLDER_SG = "sg-00000000"
_PLACEHOLDER_NAMESPACE = "arn:aws:servicediscovery:eu-west-1:000000000000:namespace/ns-0000000000000000"
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
    internal_load_balancer: dict[str, Any] | None = None
    """SharedLoadBalancerArgs of the internal ALB without vpc, subnets, callers' groups and
    access logs; None: no internal ALB."""
    internal_callers: tuple[str, ...] = ()
    """Services whose groups may reach the internal load balancer (created before it)."""
    balancer_of: dict[str, str] = field(default_factory=dict)
    """Service of topology shared -> the load balancer it is routed on: public or internal."""


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
            defaults: Mapping[str, Any], environment: str, internal_load_balancer: object = None
            ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], StackTopology]:
    """entries: (setting, name, merged args). Returns (args for the program, args to validate
    with placeholders for what the program supplies, the stack's topology)."""
    names = [name for _, name, _ in entries]
    kinds = {name: kind_of(args) for _, name, args in entries}
    settings = {name: setting for setting, name, _ in entries}
    program: dict[str, dict[str, Any]] = {}
    probes: dict[str, dict[str, Any]] = {}
    routes: dict[str, list[Route]] = {PUBLIC: [], INTERNAL: []}
    raw_routes: dict[str, dict[str, Any]] = {PUBLIC: {}, INTERNAL: {}}
    balancer_of: dict[str, str] = {}
    callers: dict[str, list[str]] = {}
    references: dict[str, dict[tuple[int, str], str]] = {}
    for setting, name, args in entries:
        args = dict(args)
        if "routing" in args:
            if kinds[name] != "shared":
                raise ConfigError(f"{setting}.routing", args["routing"],
                                  f"service '{name}' is {kinds[name]}: routing applies to "
                                  "topology shared only")
            raw = args.pop("routing")
            balancer = PUBLIC
            if isinstance(raw, Mapping) and "load_balancer" in raw:
                raw = dict(raw)
                balancer = raw.pop("load_balancer")
                if balancer not in BALANCERS:
                    raise ConfigError(f"{setting}.routing.load_balancer", balancer,
                                      "public (shipyard:load_balancer, the default) or internal "
                                      "(shipyard:internal_load_balancer)")
            balancer_of[name] = balancer
            raw_routes[balancer][name] = raw
            routes[balancer].append(parse_route(name, raw, f"{setting}.routing"))
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
    internal_callers = _internal_callers(internal_load_balancer, names, balancer_of,
                                         bool(routes[INTERNAL]))
    internal_routes = {route.service: route for route in routes[INTERNAL]}
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
                    if balancer_of.get(target) == INTERNAL:
                        if name not in internal_callers:
                            raise ConfigError(f"{where}.{SERVICE_URL_KEY}", target,
                                              f"service '{target}' is on the internal load "
                                              f"balancer and '{name}' is not among its callers; "
                                              f"add it to {NAMESPACE}:internal_load_balancer"
                                              ".callers")
                        # A caller exists before the internal load balancer (it admits the
                        # caller's group), so the address must not wait for the balancer.
                        route = internal_routes[target]
                        url = route.static_url(https=bool(_mapping(internal_load_balancer).get(
                            "certificate_arn")))
                        if url is None:
                            raise ConfigError(f"{where}.{SERVICE_URL_KEY}", target,
                                              f"service '{target}' is on the internal load "
                                              "balancer without a literal host in its routing; "
                                              "give it hosts: [<name in your private zone>] so "
                                              "its address is known before the load balancer")
                        resolved_env[variable] = url
                    elif kinds[target] == "private":
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
    internal_args = None
    probe_balancers: dict[str, ProbeBalancer] = {}
    priorities: dict[str, int] = {}
    if routes[PUBLIC]:
        # Routes first, so an overlap names the services' own settings.
        public_priorities = allocate_priorities(routes[PUBLIC])
        priorities.update(public_priorities)
        balancer_args = _load_balancer_args(load_balancer, defaults, environment)
        balancer_args["routes"] = raw_routes[PUBLIC]
        checked = parse_shared_load_balancer_args(
            {**balancer_args, "vpc_id": "vpc-00000000000000000", "public_subnet_ids": []},
            f"{NAMESPACE}:load_balancer")
        probe_balancers[PUBLIC] = ProbeBalancer({r.service: r for r in routes[PUBLIC]},
                                                public_priorities, checked.test_listener_port)
    elif load_balancer is not None:
        raise ConfigError(f"{NAMESPACE}:load_balancer", load_balancer,
                          "only used when a service of topology shared is routed on it; remove "
                          "it or route a service on it")
    if routes[INTERNAL]:
        internal_priorities = allocate_priorities(routes[INTERNAL])
        priorities.update(internal_priorities)
        internal_args = _internal_load_balancer_args(internal_load_balancer, defaults,
                                                     environment)
        internal_args["routes"] = raw_routes[INTERNAL]
        parse_shared_load_balancer_args(
            {**internal_args, "internal": True, "vpc_id": "vpc-00000000000000000",
             "private_subnet_ids": [], "callers": {c: _PLACEHOLDER_SG for c in internal_callers}},
            f"{NAMESPACE}:internal_load_balancer")
        probe_balancers[INTERNAL] = ProbeBalancer({r.service: r for r in routes[INTERNAL]},
                                                  internal_priorities, None)

    users = set(callers) | {c for listed in callers.values() for c in listed}
    for _, name, _ in entries:
        probe = {k: val for k, val in program[name].items()}
        if name in balancer_of:
            probe["load_balancer"] = probe_balancers[balancer_of[name]]
        if name in users:
            probe["service_connect_namespace"] = _PLACEHOLDER_NAMESPACE
        probes[name] = probe

    # The internal load balancer is built once its callers exist (it admits their groups), and
    # before the services routed on it.
    waits_for_callers = {name: list(internal_callers) for name, balancer in balancer_of.items()
                         if balancer == INTERNAL}
    order = _creation_order(names, callers, references, settings, waits_for_callers)
    return program, probes, StackTopology(
        load_balancer=balancer_args, priorities=priorities, callers=callers,
        url_references=references, order=order, service_connect_users=frozenset(users),
        internal_load_balancer=internal_args, internal_callers=internal_callers,
        balancer_of=balancer_of)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _internal_callers(raw: object, names: list[str], balancer_of: Mapping[str, str],
                      routed: bool) -> tuple[str, ...]:
    """The services that may reach the internal load balancer, from
    shipyard:internal_load_balancer.callers."""
    setting = f"{NAMESPACE}:internal_load_balancer"
    if not routed:
        if raw is not None:
            raise ConfigError(setting, raw,
                              "only used when a service of topology shared has routing "
                              "{load_balancer: internal}; remove it or route a service on it")
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(setting, raw, "a mapping with callers: [service names] (who may reach "
                                        "the internal load balancer)")
    listed = raw.get("callers")
    if not isinstance(listed, list) or not listed \
            or not all(isinstance(c, str) for c in listed):
        raise ConfigError(f"{setting}.callers", listed,
                          "a non-empty list of service names: an internal load balancer admits "
                          "only its declared callers")
    for caller in listed:
        if caller not in names:
            raise ConfigError(f"{setting}.callers", caller,
                              f"a service of this stack: {', '.join(names)}")
        if balancer_of.get(caller) == INTERNAL:
            raise ConfigError(f"{setting}.callers", caller,
                              "a service not routed on the internal load balancer itself: its "
                              "group must exist before the load balancer that admits it")
    if len(set(listed)) != len(listed):
        raise ConfigError(f"{setting}.callers", listed, "each service at most once")
    return tuple(listed)


def _internal_load_balancer_args(raw: object, defaults: Mapping[str, Any],
                                 environment: str) -> dict[str, Any]:
    setting = f"{NAMESPACE}:internal_load_balancer"
    assert isinstance(raw, Mapping)  # checked by _internal_callers
    for key in _PUBLIC_ONLY_KEYS:
        if key in raw:
            raise ConfigError(f"{setting}.{key}", raw[key],
                              "not on an internal load balancer (it admits only its callers)")
    v.reject_unknown_keys(dict(raw), INTERNAL_LOAD_BALANCER_KEYS, setting)
    args = {k: defaults[k] for k in _INHERITED_BY_INTERNAL if k in defaults}
    args.update({k: val for k, val in raw.items() if k != "callers"})
    if environment == "prod" and not args.get("certificate_arn"):
        raise ConfigError(f"{setting}.certificate_arn", args.get("certificate_arn"),
                          "required in prod: an ACM certificate ARN for the internal HTTPS "
                          "listener (for a name in a private hosted zone)")
    return args


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
                    settings: dict[str, str],
                    waits_for: Mapping[str, list[str]] | None = None) -> list[str]:
    """Callers before the private service (or internal load balancer) that admits their groups;
    a referenced service before the one that receives its url. Config order otherwise; a cycle
    is refused."""
    before: dict[str, set[str]] = {name: set() for name in names}
    for private, listed in callers.items():
        before[private].update(listed)
    for service, listed in (waits_for or {}).items():
        before[service].update(listed)
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
