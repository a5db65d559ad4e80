"""Container definitions in the exact JSON shape of ECS RegisterTaskDefinition. Pure: given
resolved values it returns a list that tests check against botocore's ECS model."""

from dataclasses import dataclass

from .spec import ContainerSpec

LOG_STREAM_PREFIX = "ecs"


@dataclass(frozen=True)
class ResolvedContainer:
    spec: ContainerSpec
    image: str
    secret_value_froms: dict[str, str]
    """Environment variable name -> Secrets Manager valueFrom."""


def scratch_volume_name(container: str, path: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in path.strip("/")) or "root"
    return f"{container}-{cleaned}"[:255]


def volumes(containers: list[ContainerSpec]) -> list[dict]:
    return [{"name": scratch_volume_name(c.name, p)} for c in containers for p in c.scratch_paths]


def container_definitions(containers: list[ResolvedContainer], *, log_group: str,
                          region: str) -> list[dict]:
    definitions = []
    for resolved in containers:
        spec = resolved.spec
        definition: dict = {
            "name": spec.name,
            "image": resolved.image,
            "essential": spec.essential,
            "user": spec.user,
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"initProcessEnabled": True},
            "environment": [{"name": k, "value": val} for k, val in sorted(spec.environment.items())],
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
        if spec.command is not None:
            definition["command"] = list(spec.command)
        if spec.health_check_command is not None:
            definition["healthCheck"] = {"command": ["CMD", *spec.health_check_command],
                                         "interval": 10, "timeout": 5, "retries": 3,
                                         "startPeriod": 10}
        definitions.append(definition)
    return definitions
