"""GIVEN a stack file WHEN the delivery code scopes its deploy role THEN the names it manages come
from the stack file (its services' names and the program's own top-level names), cover every name
the program gives what it creates, in every topology, and follow a service present in one stack
only; and however many services a stack has, the deploy role's split managed policies each stay
within IAM's 6,144 characters and the role within IAM's managed-policies-per-role quota, or the
stack is refused saying what a real organization must do.

The committed stack files are checked whatever they declare; the many-services cases and the
full-stack topology run on frozen fixtures (tests/fixtures/sample)."""

import dataclasses
import json

import pytest
import yaml
from conftest import PROJECT, SAMPLE, committed_stack_config
from delivery_mocks import ORG_FILE, delivery_run
from shipyard.errors import ConfigError
from shipyard_delivery import deploy_policies as policies
from shipyard_delivery.app_stacks import PROGRAM_NAMES, read_app_stack
from shipyard_delivery.settings import parse_delivery_settings

MANAGED_POLICY_LIMIT = 6144  # IAM User Guide, "IAM and AWS STS quotas" (whitespace excluded)
DEFAULT_POLICIES_PER_ROLE = 10  # the same page: managed policies per role, adjustable to 20
ORG = yaml.safe_load(ORG_FILE.read_text())["config"]


def organization(**changes) -> object:
    """The frozen example organization (tests/fixtures/delivery), with some settings changed."""
    raw = {key.split(":", 1)[1]: value for key, value in ORG.items()
           if key.startswith("shipyard-delivery:")}
    return parse_delivery_settings({**raw, **changes})


def top_level_names(recording) -> set[str]:
    """The logical names the program gives its own top-level resources, less those whose
    physical name is given explicitly (not derived from the logical name)."""
    return {r.name for r in recording.resources
            if r.parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]
            and not r.type.startswith("pulumi:providers:")
            and not (r.custom and "name" in r.properties)}


# The program runs other tests share (conftest's session fixtures, the seam test's full-stack
# run): one run per stack file and process.
def test_every_name_the_program_derives_is_a_prefix_of_the_committed_stacks(committed):
    stack = committed.stack.stack
    prefixes = read_app_stack(stack).resource_prefixes
    assert top_level_names(committed) - set(prefixes) == set(), (
        f"Pulumi.{stack}.yaml: the program names resources after these, which the deploy role "
        "does not manage: add the program's new top-level names to "
        "shipyard_delivery.app_stacks.PROGRAM_NAMES")


@pytest.mark.parametrize("stack", ["staging", "prod", "fullstack"])
def test_every_name_the_program_derives_is_a_prefix_in_every_topology(stack, request):
    """The frozen fixtures: the sample's stacks and the full-stack example's topologies."""
    from test_delivery_permissions import recording

    run = recording("fullstack") if stack == "fullstack" else request.getfixturevalue(stack)
    prefixes = read_app_stack(stack, SAMPLE).resource_prefixes
    assert top_level_names(run) - set(prefixes) == set(), (
        f"tests/fixtures/sample/Pulumi.{stack}.yaml: the program names resources after these, "
        "which the deploy role does not manage: add the program's new top-level names to "
        "shipyard_delivery.app_stacks.PROGRAM_NAMES")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_committed_stacks_prefixes_are_their_services_and_the_programs(stack):
    services = json.loads(committed_stack_config(stack).config["shipyard:services"])
    assert read_app_stack(stack).resource_prefixes == tuple(dict.fromkeys(
        [*(s["name"] for s in services), *PROGRAM_NAMES]))


def sample_with_services(count: int):
    """The frozen sample prod stack with `count` services (the sample's web and more)."""
    app = read_app_stack("prod", SAMPLE)
    names = tuple(f"service{n:02d}" for n in range(1, count))
    return dataclasses.replace(app, resource_prefixes=("web", *names, *PROGRAM_NAMES))


def deploy_documents(count: int, **organization_changes) -> dict[str, dict]:
    settings = organization(**organization_changes)
    staging = read_app_stack("staging", SAMPLE)
    return policies.deploy_policies(
        settings, account="444455556666", environment="prod", protected_role_arns=[],
        stack="prod", app_stacks={"staging": staging, "prod": sample_with_services(count)})


def size(document: dict) -> int:
    return len("".join(json.dumps(document).split()))


@pytest.mark.parametrize("prefixes", [6, 12, 30])
def test_many_prefixes_fit_iams_quotas(prefixes):
    documents = deploy_documents(prefixes - len(PROGRAM_NAMES))
    assert {name: size(d) for name, d in documents.items() if size(d) > MANAGED_POLICY_LIMIT} \
        == {}
    assert len(documents) <= DEFAULT_POLICIES_PER_ROLE
    # Nothing granted is lost in the split: every prefix's role may still be passed.
    passed = {r for d in documents.values() for s in d["Statement"]
              if s["Action"] == "iam:PassRole" for r in s["Resource"]}
    assert {f"arn:aws:iam::444455556666:role/{p}-*" for p in
            sample_with_services(prefixes - len(PROGRAM_NAMES)).resource_prefixes} == passed


# The only grants that name the stack's resources one name at a time, each for a reason IAM
# gives; every other grant names any resource of its kind and is confined by the tags.
GROW_WITH_THE_NAMES = {
    "OwnAccessLogBuckets": "S3 sees a bucket's tags only with bucket ABAC",
    "OwnAccessLogBucketsTags": "the same buckets' tag calls",
    "OwnAccessLogBucketsTaggedOnCreate": "the same buckets, created with the tags",
    "PassOwnRolesToTheirServicesOnly": "IAM: a ResourceTag condition on PassRole is unreliable",
    "ListenersOnOwnLoadBalancersTaggedOnCreate": "authorized on the parent load balancer, which "
                                                 "the request's tags do not confine",
    "RulesOnOwnListenersTaggedOnCreate": "authorized on the parent listener, likewise",
    "WebAclAssociations": "wafv2:DisassociateWebACL names the load balancer, whose wafv2 "
                          "resource type has no tag condition key",
}


def test_only_the_grants_iam_cannot_confine_by_tag_grow_with_the_services():
    def resources(documents: dict[str, dict]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for document in documents.values():
            for statement in document["Statement"]:
                found.setdefault(statement["Sid"], []).append(json.dumps(statement["Resource"]))
        return found

    few, many = resources(deploy_documents(1)), resources(deploy_documents(25))
    assert {sid for sid in set(few) | set(many) if few.get(sid) != many.get(sid)} == set(
        GROW_WITH_THE_NAMES)


def test_a_role_that_would_pass_iams_quota_is_refused_saying_what_to_do():
    # The org that raised its quota gets the role; one that did not is told what to do.
    needed = len(deploy_documents(60, managed_policies_per_role=20))
    assert DEFAULT_POLICIES_PER_ROLE < needed <= 20
    with pytest.raises(ConfigError) as raised:
        deploy_documents(60)
    assert str(raised.value) == (
        "Pulumi.prod.yaml: shipyard:services: '60 services' is not valid; services whose deploy "
        f"role fits in 10 managed policies (it needs {needed}, each within IAM's 6144 "
        "characters): raise 'Managed policies per role' to 20 in Service Quotas (IAM) for the "
        "stack's account and set shipyard-delivery:managed_policies_per_role: 20, or split the "
        "services over more stacks")


@pytest.mark.parametrize("value", [9, 21, "ten", True])
def test_the_quota_setting_is_refused_outside_what_iam_allows(value):
    with pytest.raises(ConfigError) as raised:
        organization(managed_policies_per_role=value)
    assert str(raised.value) == (
        f"shipyard-delivery:managed_policies_per_role: {value!r} is not valid; IAM's managed "
        "policies per role quota of the stacks' accounts: 10 (the default), or up to 20 once "
        "raised in Service Quotas")


def test_the_retired_prefix_setting_is_refused_saying_what_replaced_it():
    with pytest.raises(ConfigError) as raised:
        organization(resource_prefixes=["web"])
    assert str(raised.value) == (
        "shipyard-delivery:resource_prefixes: ['web'] is not valid; no such setting any more: "
        "remove it; each deploy role's name prefixes are its stack's service names and the "
        "program's own, read from Pulumi.<stack>.yaml")


def test_a_service_in_staging_only_is_managed_by_staging_alone(tmp_path):
    for stack in ("staging", "prod"):
        document = yaml.safe_load((SAMPLE / f"Pulumi.{stack}.yaml").read_text())
        if stack == "staging":
            document["config"]["shipyard:services"].append({
                "name": "search", "containers": [{"name": "search", "source": "app",
                                                  "port": 8080}]})
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    (tmp_path / "policy").symlink_to(PROJECT / "policy")
    recording = delivery_run(app_dir=str(tmp_path))
    passed = {}
    for resource in recording.resources:
        if resource.type == "aws:iam/policy:Policy" and resource.name.startswith("deploy-"):
            stack = resource.name.split("-")[1]
            for statement in json.loads(resource.properties["policy"])["Statement"]:
                if statement["Action"] == "iam:PassRole":
                    passed.setdefault(stack, set()).update(statement["Resource"])
    assert "arn:aws:iam::111122223333:role/search-*" in passed["staging"]
    assert not any("search" in arn for arn in passed["prod"])
