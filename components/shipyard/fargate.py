"""Fargate task sizes. AWS accepts only these cpu/memory pairs (values in CPU units and MiB);
anything else fails at RegisterTaskDefinition, long after `pulumi preview` said it was fine."""

from .errors import ConfigError


def _steps(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


# Source: AWS ECS developer guide, "Task CPU and memory" (Linux, platform version 1.4.0).
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}

CPU_ARCHITECTURES = ("X86_64", "ARM64")


def _describe(values: tuple[int, ...]) -> str:
    if len(values) <= 4:
        return ", ".join(str(v) for v in values)
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


def validate_task_size(cpu: int, memory: int, setting: str = "cpu/memory") -> None:
    """Reject a cpu/memory pair that Fargate would refuse, naming the allowed memory for the cpu."""
    # Type first: config may hold any YAML value, and an unhashable one must be refused too.
    if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu not in FARGATE_MEMORY_BY_CPU:
        allowed = ", ".join(str(c) for c in FARGATE_MEMORY_BY_CPU)
        raise ConfigError(f"{setting}.cpu", cpu, f"Fargate cpu must be one of {allowed}")
    allowed_memory = FARGATE_MEMORY_BY_CPU[cpu]
    if isinstance(memory, bool) or not isinstance(memory, int) or memory not in allowed_memory:
        raise ConfigError(
            f"{setting}.memory",
            memory,
            f"with cpu {cpu} Fargate memory must be {_describe(allowed_memory)} (MiB)",
        )


def validate_capacity(architecture: str, spot: bool, setting: str) -> None:
    """Both architectures run on FARGATE and FARGATE_SPOT: FARGATE_SPOT runs Linux ARM64 tasks
    on platform version 1.4.0 or later (ECS API reference, CapacityProviderStrategyItem; the
    text of botocore's ecs model, checked by a test), and services use platform LATEST."""
    del spot  # no combination is refused any more; kept for the callers' signature
    if architecture not in CPU_ARCHITECTURES:
        raise ConfigError(f"{setting}.architecture", architecture,
                          f"must be one of {', '.join(CPU_ARCHITECTURES)}")
