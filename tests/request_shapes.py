"""What an AWS API request carries that IAM can condition on, read from botocore's service models
(the request shapes the SDKs, and the Go SDK pulumi-aws calls through, are generated from): the
seam tests build each request's condition context from this, not from the code they check.

- `aws:RequestTag/<key>` and `aws:TagKeys` exist only when the request carries tags: its input
  shape has a `Tags`/`tags`, `TagSpecifications` (EC2) or `Tagging` (S3) member, at the top or in
  a structure member (S3's `CreateBucketConfiguration.Tags`). A call whose request has no such
  member (`ec2:CreateRoute`, `ec2:AssociateRouteTable`, ...) never carries them, whatever the
  policy asks for. An untag call carries `aws:TagKeys` only (its `TagKeys` member).
- `aws:ResourceTag/<key>` is the tag of the resource a call acts on: absent while a call creates
  it (a create that carries the new resource's tags), and absent on S3 general purpose buckets,
  which evaluate it only once ABAC is enabled on the bucket (S3 User Guide, "Enabling ABAC in
  general purpose buckets"; the IAM simulator drops the key otherwise), which the program does
  not do.

An IAM action with no operation of that name in botocore (an IAM-only permission such as
`iam:PassRole`, or S3's renamed ones such as `s3:GetEncryptionConfiguration`) carries no tags."""

from functools import cache

import botocore.session
from botocore.model import OperationNotFoundError, Shape, StructureShape

# IAM service prefix -> botocore model where the names differ (Elastic Load Balancing v2 shares
# the `elasticloadbalancing` prefix with the Classic API; the program uses v2 only).
BOTOCORE_MODEL = {"elasticloadbalancing": "elbv2"}
TAG_MEMBERS = frozenset({"tags", "tagspecifications", "tagging"})
TAG_KEY_MEMBERS = frozenset({"tagkeys"})


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def input_shape(action: str) -> StructureShape | None:
    service, name = action.split(":", 1)
    model_name = BOTOCORE_MODEL.get(service.lower(), service.lower())
    if model_name not in _session().get_available_services():
        return None
    model = _session().get_service_model(model_name)
    try:
        shape = model.operation_model(name).input_shape
    except OperationNotFoundError:
        return None
    return shape if isinstance(shape, StructureShape) else None


def _members(shape: StructureShape) -> dict[str, Shape]:
    return {name.lower(): member for name, member in shape.members.items()}


def sends_tags(action: str) -> bool:
    """Whether the request of `action` can carry tags (so `aws:RequestTag` can be present)."""
    shape = input_shape(action)
    if shape is None:
        return False
    members = _members(shape)
    if TAG_MEMBERS & set(members):
        return True
    return any(TAG_MEMBERS & set(_members(member)) for member in members.values()
               if isinstance(member, StructureShape))


def sends_tag_keys(action: str) -> bool:
    """Whether the request names tag keys without values (an untag call: `aws:TagKeys`)."""
    shape = input_shape(action)
    return shape is not None and bool(TAG_KEY_MEMBERS & set(_members(shape)))


def creates_with_tags(action: str) -> bool:
    """A create whose request carries the new resource's tags: the resource does not exist yet,
    so it has no `aws:ResourceTag`."""
    return action.split(":", 1)[1].startswith(("Create", "Allocate")) and sends_tags(action) \
        and action != "ec2:CreateTags"


def has_resource_tags(action: str, resource: str) -> bool:
    """Whether IAM sees the resource's tags for this call on this ARN."""
    if resource.startswith("arn:aws:s3:::"):
        return False
    return not creates_with_tags(action)
