"""ECS Service Connect settings of a service: every service of a stack with a namespace is a
client (it can resolve the private services' aliases); a private service is also a server,
published under its alias on its container port.

Shapes: ECS API reference, ServiceConnectConfiguration / ServiceConnectService /
ServiceConnectClientAlias; pulumi-aws 7 ServiceServiceConnectConfiguration*Args.

A server's Cloud Map service is ECS's: ECS creates it in the namespace under the alias and
removes it after the ECS service is gone, on its own time. The namespace cannot be deleted
while it lists a service ("ResourceInUse: Namespace has associated services", anomalyco/sst
#5780 and #5931), and the provider's namespace delete does not wait or retry
(terraform-provider-aws internal/service/servicediscovery/http_namespace.go,
resourceHTTPNamespaceDelete), so `pulumi destroy` fails if it comes first. ServiceConnectCleanup
sits between the two: the ECS service depends on it and it depends on the namespace, so on
destroy it is deleted after the ECS service and before the namespace, and its delete waits,
bounded, until Cloud Map no longer lists the alias there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi.dynamic
import pulumi_aws as aws

from .aws_session import provider_session

# The Service Connect proxy's own log stream prefix in the service's log group.
PROXY_LOG_PREFIX = "service-connect"


def port_mapping_name(container: str, port: int) -> str:
    """The portMappings[].name the task definition gives the web container; Service Connect
    refers to the port by this name."""
    return f"{container}-{port}"


def service_connect_configuration(
        *, namespace: pulumi.Input[str], log_group: pulumi.Input[str], region: pulumi.Input[str],
        server: tuple[str, str, int] | None) -> aws.ecs.ServiceServiceConnectConfigurationArgs:
    """`server`: (alias, container, port) for a private service; None for a client only."""
    services = None
    if server is not None:
        alias, container, port = server
        services = [aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
            port_name=port_mapping_name(container, port), discovery_name=alias,
            client_alias=[aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(
                port=port, dns_name=alias)])]
    return aws.ecs.ServiceServiceConnectConfigurationArgs(
        enabled=True, namespace=namespace, services=services,
        log_configuration=aws.ecs.ServiceServiceConnectConfigurationLogConfigurationArgs(
            log_driver="awslogs", options={
                "awslogs-group": log_group, "awslogs-region": region,
                "awslogs-stream-prefix": PROXY_LOG_PREFIX}))


def service_connect_url(alias: str, port: int) -> str:
    """What a caller puts in its environment to reach a private service."""
    return f"http://{alias}:{port}"


CLEANUP_TIMEOUT_SECONDS = 900
CLEANUP_POLL_SECONDS = 10.0


class CloudMapServiceRemains(Exception):
    """ECS did not remove the service's Cloud Map service from the namespace in time."""


def namespace_id(namespace_arn: str) -> str:
    """`ns-...` from arn:<partition>:servicediscovery:<region>:<account>:namespace/ns-..."""
    return namespace_arn.rsplit("/", 1)[-1]


def services_named(client: Any, *, namespace: str, name: str) -> list[dict]:
    """The namespace's Cloud Map services called `name` (ListServices, every page)."""
    found = []
    for page in client.get_paginator("list_services").paginate(Filters=[
            {"Name": "NAMESPACE_ID", "Values": [namespace], "Condition": "EQ"}]):
        found += [service for service in page.get("Services", [])
                  if service.get("Name") == name]
    return found


def wait_until_released(client: Any, *, namespace: str, name: str,
                        timeout_seconds: float = CLEANUP_TIMEOUT_SECONDS,
                        poll_seconds: float = CLEANUP_POLL_SECONDS,
                        sleep: Callable[[float], None] = time.sleep,
                        clock: Callable[[], float] = time.monotonic) -> None:
    deadline = clock() + timeout_seconds
    while True:
        remaining = services_named(client, namespace=namespace, name=name)
        if not remaining:
            return
        if clock() >= deadline:
            listed = ", ".join(f"{s.get('Id')} ({s.get('InstanceCount', 0)} instances)"
                               for s in remaining)
            raise CloudMapServiceRemains(
                f"Cloud Map still lists service {name!r} in namespace {namespace} "
                f"{timeout_seconds:g} s after its ECS service was deleted: {listed}. ECS "
                "normally removes it by itself; the namespace cannot be deleted while it is "
                "there. Deregister its instances and delete it (aws servicediscovery "
                "list-instances / deregister-instance / delete-service --id <id>), then run "
                "`pulumi destroy` again.")
        sleep(poll_seconds)


class _ServiceConnectCleanupProvider(pulumi.dynamic.ResourceProvider):
    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(
            id_=f"{props['namespace']}/{props['discovery_name']}", outs=props)

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        # Only a destroy does anything: a new alias or identity is recorded in place.
        keys = ("namespace", "discovery_name", "region", "account_id", "principal")
        return pulumi.dynamic.DiffResult(
            changes=any(olds.get(k) != news.get(k) for k in keys),
            replaces=["namespace"] if olds.get("namespace") != news.get("namespace") else [])

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=news)

    def delete(self, _id: str, props: dict) -> None:
        client = provider_session(props).client("servicediscovery")
        wait_until_released(client, namespace=namespace_id(props["namespace"]),
                            name=props["discovery_name"])


class ServiceConnectCleanup(pulumi.dynamic.Resource):
    def __init__(self, name: str, *, namespace: pulumi.Input[str], discovery_name: str,
                 identity: dict[str, pulumi.Output[str]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`namespace`: the Cloud Map namespace ARN; `discovery_name`: the alias the service is
        published under; `identity`: the stack provider's (aws_session.provider_identity)."""
        super().__init__(_ServiceConnectCleanupProvider(), name, {
            "namespace": namespace, "discovery_name": discovery_name, **identity}, opts)
