"""`pulumi destroy` with Service Connect: ECS removes a private service's Cloud Map service on its
own time, and the namespace cannot be deleted while it lists one. The cleanup resource sits
between the ECS service and the namespace and waits, bounded, on delete. Cloud Map's answers are
checked against botocore's servicediscovery model (Stubber)."""

import boto3
import pytest
from botocore.stub import Stubber
from conftest import resource, run_stack
from shipyard.service_connect import (
    CloudMapServiceRemains,
    _ServiceConnectCleanupProvider,
    namespace_id,
    wait_until_released,
)

NAMESPACE_ARN = "arn:aws:servicediscovery:eu-west-1:111122223333:namespace/ns-abcdefgh12345678"
NAMESPACE = "ns-abcdefgh12345678"
FILTER = {"Filters": [{"Name": "NAMESPACE_ID", "Values": [NAMESPACE], "Condition": "EQ"}]}
CLEANUP = "pulumi-python:dynamic:Resource"


def summary(name, service_id, instances=0):
    return {"Id": service_id, "Name": name, "Type": "HTTP", "InstanceCount": instances,
            "Arn": f"arn:aws:servicediscovery:eu-west-1:111122223333:service/{service_id}"}


def stubbed(*pages):
    """A servicediscovery client answering ListServices with these pages, in order."""
    client = boto3.client("servicediscovery", region_name="eu-west-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stubber = Stubber(client)
    for page in pages:
        services, token, expected = page
        answer = {"Services": services, **({"NextToken": token} if token else {})}
        stubber.add_response("list_services", answer, expected)
    stubber.activate()
    return client, stubber


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def wait(client, timeout=60):
    clock = Clock()
    wait_until_released(client, namespace=NAMESPACE, name="backend", timeout_seconds=timeout,
                        poll_seconds=10, sleep=clock.sleep, clock=clock)
    return clock.sleeps


def test_the_namespace_id_is_the_arns_last_part():
    assert namespace_id(NAMESPACE_ARN) == NAMESPACE


def test_nothing_left_returns_at_once_and_other_services_do_not_count():
    client, stubber = stubbed(([summary("api", "srv-api")], None, FILTER))
    assert wait(client) == []
    stubber.assert_no_pending_responses()


def test_it_waits_until_ecs_removed_the_alias_reading_every_page():
    client, stubber = stubbed(
        ([summary("api", "srv-api")], "page2", FILTER),
        ([summary("backend", "srv-backend", 2)], None, {**FILTER, "NextToken": "page2"}),
        ([summary("backend", "srv-backend")], None, FILTER),
        ([], None, FILTER))
    assert wait(client) == [10, 10]
    stubber.assert_no_pending_responses()


def test_a_service_ecs_never_removes_fails_the_destroy_with_what_to_do():
    client, _ = stubbed(*[([summary("backend", "srv-backend", 1)], None, FILTER)] * 8)
    with pytest.raises(CloudMapServiceRemains) as raised:
        wait(client, timeout=60)
    assert str(raised.value) == (
        f"Cloud Map still lists service 'backend' in namespace {NAMESPACE} 60 s after its ECS "
        "service was deleted: srv-backend (1 instances). ECS normally removes it by itself; the "
        "namespace cannot be deleted while it is there. Deregister its instances and delete it "
        "(aws servicediscovery list-instances / deregister-instance / delete-service --id <id>), "
        "then run `pulumi destroy` again.")


def test_only_a_new_namespace_replaces_the_cleanup():
    olds = {"namespace": NAMESPACE_ARN, "discovery_name": "backend", "region": "eu-west-1",
            "account_id": "111122223333", "principal": "arn:aws:iam::111122223333:role/deploy"}
    provider = _ServiceConnectCleanupProvider()
    assert provider.diff("x", olds, dict(olds)).changes is False
    renamed = provider.diff("x", olds, {**olds, "discovery_name": "db"})
    assert (renamed.changes, renamed.replaces) == (True, [])
    moved = provider.diff("x", olds, {**olds, "namespace": NAMESPACE_ARN + "0"})
    assert (moved.changes, moved.replaces) == (True, ["namespace"])


def test_destroy_order_service_then_cleanup_then_namespace():
    """The engine deletes dependents first: the ECS service depends on the cleanup, the cleanup
    on the namespace (its ARN is an input)."""
    fullstack = run_stack("fullstack")
    namespace = resource(fullstack, "aws:servicediscovery/httpNamespace:HttpNamespace",
                         "services")
    cleanup = resource(fullstack, CLEANUP, "backend-service-connect-cleanup")
    service = resource(fullstack, "aws:ecs/service:Service", "backend-service")
    assert cleanup.urn in service.dependencies
    assert cleanup.property_dependencies["namespace"] == [namespace.urn]
    props = {k: v for k, v in cleanup.properties.items() if k != "__provider"}
    assert (props["namespace"], props["discovery_name"]) == (
        f"arn:aws:servicediscovery:eu-west-1:111122223333:namespace/{namespace.id}", "backend")
    # Clients publish nothing in Cloud Map: no cleanup for them.
    assert [r.name for r in fullstack.resources if r.name.endswith("-service-connect-cleanup")] \
        == ["backend-service-connect-cleanup"]
