"""ECS Service Connect settings of a service: every service of a stack with a namespace is a
client (it can resolve the private services' aliases); a private service is also a server,
published under its alias on its container port.

Shapes: ECS API reference, ServiceConnectConfiguration / ServiceConnectService /
ServiceConnectClientAlias; pulumi-aws 7 ServiceServiceConnectConfiguration*Args."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

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
