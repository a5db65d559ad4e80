"""Routing of several services behind one load balancer: validation of each service's host and
path conditions, refusal of overlaps between services, and deterministic listener-rule
priorities. Pure functions: they run before anything is registered and are tested directly.

ALB rule conditions (Elastic Load Balancing user guide, "Listener rules for your Application Load
Balancer", condition types): host-header and path-pattern values are at most 128 characters,
may use `*` (any run of characters) and `?` (one character); path matching is case-sensitive,
host matching is not; one rule carries at most 5 condition values in total."""

from dataclasses import dataclass
from functools import lru_cache

from .errors import ConfigError

MAX_CONDITION_VALUES = 5
MAX_PATTERN_LENGTH = 128
# Priorities the component allocates: from 100 in steps of 10, so a user may pin a rule of their
# own in between (1-99 and the gaps) without renumbering ours. AWS allows 1-50000.
FIRST_PRIORITY = 100
PRIORITY_STEP = 10
MAX_PRIORITY = 50000
_PATH_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        "_-.$/~\"'@:+&*?")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.*?")


@dataclass(frozen=True)
class Route:
    service: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    priority: int | None = None
    """Pinned by the user; None: allocated."""
    setting: str = "routing"
    """Where the route was declared, for error messages."""

    @property
    def literal_host(self) -> str | None:
        """The first host without wildcards: the name callers use."""
        return next((h for h in self.hosts if "*" not in h and "?" not in h), None)

    @property
    def path_prefix(self) -> str:
        """The literal start of the first path, without a trailing slash ("" for "/*")."""
        path = self.paths[0].split("*")[0].split("?")[0] if self.paths else ""
        return path.rstrip("/") if path != "/" else ""

    def static_url(self, https: bool) -> str | None:
        """The address on its load balancer when it does not depend on the load balancer's
        own DNS name, i.e. when the route has a literal host."""
        host = self.literal_host
        return None if host is None else f"{'https' if https else 'http'}://{host}{self.path_prefix}"


def _patterns(raw: object, setting: str, chars: frozenset[str], example: str,
              lower: bool, allowed: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise ConfigError(setting, raw, f"a non-empty list of patterns such as {example}")
    result = []
    for value in raw:
        if not isinstance(value, str) or not value or len(value) > MAX_PATTERN_LENGTH \
                or not set(value.lower() if lower else value) <= chars:
            raise ConfigError(setting, value,
                              f"a pattern of at most {MAX_PATTERN_LENGTH} characters such as "
                              f"{example}, using only {allowed}")
        result.append(value.lower() if lower else value)
    if len(set(result)) != len(result):
        raise ConfigError(setting, raw, "each pattern at most once")
    return tuple(result)


def parse_route(service: str, raw: object, setting: str) -> Route:
    """One service's `routing` setting: `paths` and/or `hosts`, optional `priority`."""
    if not isinstance(raw, dict):
        raise ConfigError(setting, raw, "a mapping with 'paths' and/or 'hosts' (and optionally "
                                        "'priority')")
    unknown = sorted(set(raw) - {"paths", "hosts", "priority"})
    if unknown:
        raise ConfigError(f"{setting}.{unknown[0]}", raw[unknown[0]],
                          "unknown key; allowed keys are hosts, paths, priority")
    paths = _patterns(raw.get("paths"), f"{setting}.paths", _PATH_CHARS, "/api/*", lower=False,
                      allowed="letters, digits and _-.$/~\"'@:+&*?")
    for path in paths:
        if not path.startswith(("/", "*")):
            raise ConfigError(f"{setting}.paths", path, "a path pattern starting with '/'")
    hosts = _patterns(raw.get("hosts"), f"{setting}.hosts", _HOST_CHARS, "api.example.com",
                      lower=True, allowed="letters, digits and -.*?")
    if not paths and not hosts:
        raise ConfigError(setting, raw, "at least one of 'paths' or 'hosts'")
    if len(paths) + len(hosts) > MAX_CONDITION_VALUES:
        raise ConfigError(setting, {"hosts": list(hosts), "paths": list(paths)},
                          f"at most {MAX_CONDITION_VALUES} host and path values in total (the "
                          "ALB limit per listener rule)")
    priority = raw.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)
                                 or not 1 <= priority < FIRST_PRIORITY):
        raise ConfigError(f"{setting}.priority", priority,
                          f"an integer from 1 to {FIRST_PRIORITY - 1} (from {FIRST_PRIORITY} "
                          "priorities are allocated by the component)")
    return Route(service, hosts, paths, priority, setting)


@lru_cache(maxsize=4096)
def patterns_intersect(first: str, second: str) -> bool:
    """Whether some string matches both ALB wildcard patterns (`*` any run, `?` one character)."""
    return _walk(first, second, 0, 0)


@lru_cache(maxsize=65536)
def _walk(p: str, q: str, i: int, j: int) -> bool:
    if i == len(p) and j == len(q):
        return True
    # A star matches nothing, or absorbs whatever the other pattern produces next.
    if i < len(p) and p[i] == "*" and (
            _walk(p, q, i + 1, j) or (j < len(q) and _walk(p, q, i, j + 1))):
        return True
    if j < len(q) and q[j] == "*" and (
            _walk(p, q, i, j + 1) or (i < len(p) and _walk(p, q, i + 1, j))):
        return True
    if i < len(p) and j < len(q) and p[i] != "*" and q[j] != "*" and (
            p[i] == q[j] or "?" in (p[i], q[j])):
        return _walk(p, q, i + 1, j + 1)
    return False


def _dimension_overlaps(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, str] | None:
    """A pair of patterns that can match the same value; an absent condition matches anything."""
    if not first or not second:
        return (first[0] if first else "(any)", second[0] if second else "(any)")
    for a in first:
        for b in second:
            if patterns_intersect(a, b):
                return a, b
    return None


def check_overlaps(routes: list[Route]) -> None:
    """Refuse two services whose rules can match the same request: which one would serve it would
    depend on rule priorities, not on what the user wrote."""
    for index, first in enumerate(routes):
        for second in routes[index + 1:]:
            hosts = _dimension_overlaps(first.hosts, second.hosts)
            paths = _dimension_overlaps(first.paths, second.paths)
            if hosts is None or paths is None:
                continue
            if first.hosts and second.hosts and not first.paths and not second.paths:
                setting, shown = "hosts", f"host {hosts[1]!r} overlaps {hosts[0]!r}"
            else:
                setting = "paths" if (first.paths or second.paths) else "hosts"
                shown = (f"host {hosts[1]!r} and path {paths[1]!r} overlap host {hosts[0]!r} and "
                         f"path {paths[0]!r}")
            raise ConfigError(f"{second.setting}.{setting}",
                              list(second.paths if setting == "paths" else second.hosts),
                              f"service '{second.service}': {shown} of service "
                              f"'{first.service}' ({first.setting}); two "
                              "services may not claim the same host and path: make the "
                              "patterns disjoint (e.g. /api/* and /web/*) or add distinct hosts")


def _specificity(route: Route) -> tuple:
    """More specific rules first: host-and-path before host-only before path-only; then longer
    literal prefixes; then the service name, so the order never depends on config order."""
    kind = 0 if route.hosts and route.paths else (1 if route.hosts else 2)
    literal = max((len(p.split("*")[0].split("?")[0]) for p in route.paths), default=0)
    return (kind, -literal, route.service)


def allocate_priorities(routes: list[Route]) -> dict[str, int]:
    """Service -> listener-rule priority. Pinned priorities are kept; the rest are numbered from
    FIRST_PRIORITY in steps of PRIORITY_STEP in order of specificity. The same set of routes
    always gives the same numbers, whatever order the services were declared in."""
    check_overlaps(routes)
    pinned: dict[int, str] = {}
    for route in routes:
        if route.priority is not None:
            if route.priority in pinned:
                raise ConfigError(f"{route.setting}.priority", route.priority,
                                  f"already used by service '{pinned[route.priority]}'; "
                                  "priorities are unique per listener")
            pinned[route.priority] = route.service
    result = {service: priority for priority, service in pinned.items()}
    allocated = sorted((r for r in routes if r.priority is None), key=_specificity)
    for position, route in enumerate(allocated):
        priority = FIRST_PRIORITY + position * PRIORITY_STEP
        if priority > MAX_PRIORITY:
            raise ConfigError(f"{route.setting}", route.service,
                              f"more than {(MAX_PRIORITY - FIRST_PRIORITY) // PRIORITY_STEP} "
                              "routed services on one load balancer")
        result[route.service] = priority
    return result
