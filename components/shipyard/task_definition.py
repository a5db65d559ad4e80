"""Container definitions in the exact JSON shape of ECS RegisterTaskDefinition. Pure: given
resolved values it returns a list that tests check against botocore's ECS model."""

from dataclasses import dataclass

from .spec import FIRELENS_CLOUDWATCH_OUTPUT, ContainerSpec

LOG_STREAM_PREFIX = "ecs"
# The container health check's timing (ECS API reference, HealthCheck); rollout_budget.py counts
# it in the time a task takes to become healthy.
CONTAINER_HEALTH_CHECK = {"interval": 10, "timeout": 5, "retries": 3, "startPeriod": 10}


@dataclass(frozen=True)
class ResolvedContainer:
    spec: ContainerSpec
    image: str
    secret_value_froms: dict[str, str]
    """Environment variable name -> Secrets Manager valueFrom."""
    environment: dict[str, str] | None = None
    """The plain environment with Output values resolved; None: the spec's as written."""


def scratch_volume_name(container: str, path: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in path.strip("/")) or "root"
    return f"{container}-{cleaned}"[:255]


def volumes(containers: list[ContainerSpec]) -> list[dict]:
    return [{"name": scratch_volume_name(c.name, p)} for c in containers for p in c.scratch_paths]


def _start_order(spec: ContainerSpec, router: str | None) -> list[dict]:
    """dependsOn as declared; a container that logs through FireLens also waits for the router
    to start (ECS developer guide, "Using FireLens": the router must start first)."""
    order = list(spec.depends_on)
    if spec.log_router_options is not None and router is not None \
            and router not in [other for other, _ in order]:
        order.append((router, "START"))
    return [{"containerName": other, "condition": condition} for other, condition in order]


def container_definitions(containers: list[ResolvedContainer], *, log_group: str,
                          region: str) -> list[dict]:
    definitions = []
    router = next((c.spec.name for c in containers if c.spec.firelens is not None), None)
    for resolved in containers:
        spec = resolved.spec
        environment = (resolved.environment if resolved.environment is not None
                       else spec.environment)
        definition: dict = {
            "name": spec.name,
            "image": resolved.image,
            "essential": spec.essential,
            "user": spec.user,
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"initProcessEnabled": True},
            "environment": [{"name": k, "value": val} for k, val in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": val}
                        for k, val in sorted(resolved.secret_value_froms.items())],
            "mountPoints": [{"sourceVolume": scratch_volume_name(spec.name, p),
                             "containerPath": p, "readOnly": False} for p in spec.scratch_paths],
            "portMappings": ([{"containerPort": spec.port, "protocol": "tcp",
                               "name": f"{spec.name}-{spec.port}"}]
                             if spec.port is not None else []),
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": log_group, "awslogs-region": region,
                            "awslogs-stream-prefix": LOG_STREAM_PREFIX},
            },
        }
        if spec.log_router_options is not None:
            options = dict(spec.log_router_options)
            if options["Name"] == FIRELENS_CLOUDWATCH_OUTPUT:
                # The service's own log group (spec: the parser leaves these to us).
                options.update(region=region, log_group_name=log_group,
                               auto_create_group="false")
            definition["logConfiguration"] = {"logDriver": "awsfirelens", "options": options}
        if spec.firelens is not None:
            definition["firelensConfiguration"] = dict(spec.firelens)
        start_order = _start_order(spec, router)
        if start_order:
            definition["dependsOn"] = start_order
        if spec.command is not None:
            definition["command"] = list(spec.command)
        if spec.health_check_command is not None:
            definition["healthCheck"] = {"command": ["CMD", *spec.health_check_command],
                                         **CONTAINER_HEALTH_CHECK}
        definitions.append(definition)
    return definitions
