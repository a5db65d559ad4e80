"""How long one deployment of a service can take, worked out from its own settings, and the waits
that follow from it: the ECS service's create/update/delete timeouts and the rollout check's
poll deadline.

Why it exists: terraform-provider-aws waits 20 minutes by default for an ECS service to be
created, updated or deleted (internal/service/ecs/service.go, `Timeouts: Create, Update, Delete:
schema.DefaultTimeout(20 * time.Minute)`), and with `wait_for_steady_state` that wait covers the
whole deployment: for the ECS deployment controller it polls the service deployment until ECS
reports it SUCCESSFUL (waitServiceStable / statusServiceWaitForStable / findDeploymentStatus),
which for BLUE_GREEN, LINEAR and CANARY comes only once the bake time is over. A rollout longer
than the wait fails `pulumi up` while ECS carries on.

The worst case is a sum of phases, each a documented AWS behaviour or a named allowance:
- a task becomes ready: TASK_START_ALLOWANCE_SECONDS (image pull and start; AWS publishes no
  figure, so this is an allowance), the health check grace period, the container health check
  when one is declared (task_definition.py's interval x retries after its start period) and the
  target group's HEALTHY_THRESHOLD passing checks;
- provisioning: with the circuit breaker (ROLLING, BLUE_GREEN) ECS retries failing tasks until
  the failure threshold, 50 % of the desired count bounded to 3..200 (ECS API reference,
  ServiceDeploymentCircuitBreaker.threshold); all replacements start at once
  (deployment_maximum_percent 200, and blue/green scales the green revision to the full count),
  so the rounds are ceil(threshold / tasks). LINEAR and CANARY have no breaker: one round, and
  a task that never gets healthy keeps the deployment going until the wait gives up (`up`
  fails: closed);
- traffic: BLUE_GREEN the bake time; CANARY the canary bake, then the bake; LINEAR one step
  bake between steps (none after the step that reaches 100 %: botocore ecs model,
  LinearConfiguration.stepBakeTimeInMinutes), then the bake; plus SMOKE_TEST_ALLOWANCE_SECONDS
  when a smoke-test hook runs (a Lambda invocation's maximum duration);
- draining: the deregistration delay of the targets taken out of service.
ROLLOUT_MARGIN_SECONDS covers API latency and ECS's own scheduling; the result is rounded up to
whole minutes, the unit of the timeouts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from .errors import ConfigError
from .load_balancer import HEALTH_CHECK_INTERVAL_SECONDS, HEALTHY_THRESHOLD
from .task_definition import CONTAINER_HEALTH_CHECK
from .topology import CIRCUIT_BREAKER_STRATEGIES

if TYPE_CHECKING:  # spec.py checks the budget while it parses: no import cycle at run time
    from .spec import ServiceSpec

PROVIDER_DEFAULT_TIMEOUT_SECONDS = 20 * 60
"""terraform-provider-aws's default create/update/delete timeout for aws_ecs_service."""
TASK_START_ALLOWANCE_SECONDS = 300
ROLLOUT_MARGIN_SECONDS = 300
SMOKE_TEST_ALLOWANCE_SECONDS = 15 * 60
"""Lambda's maximum function timeout (Lambda developer guide, "Configure Lambda function
timeout"). A hook that keeps answering IN_PROGRESS is invoked again without an ECS-side bound."""
TASK_STOP_SECONDS = 30
"""ECS's default container stopTimeout (ECS API reference, ContainerDefinition.stopTimeout)."""
CIRCUIT_BREAKER_MIN_THRESHOLD, CIRCUIT_BREAKER_MAX_THRESHOLD = 3, 200
CIRCUIT_BREAKER_DESIRED_FRACTION = 0.5
MAX_CREDENTIAL_SECONDS = 43200
"""The longest an IAM role's credentials can last (botocore iam model,
CreateRoleRequest.MaxSessionDuration, max 43200; STS AssumeRole DurationSeconds the same): the
provider watches the whole rollout with one set of credentials, so a rollout longer than this
cannot be seen to its end by any `pulumi up`."""


@dataclass(frozen=True)
class RolloutBudget:
    """One deployment's worst case, phase by phase, in seconds."""

    strategy: str
    task_ready: int
    provisioning_rounds: int
    traffic: int
    draining: int

    @property
    def worst_case_seconds(self) -> int:
        return self.provisioning_rounds * self.task_ready + self.traffic + self.draining

    @property
    def wait_seconds(self) -> int:
        """What anything that waits for the rollout allows it: the worst case plus the margin,
        in whole minutes."""
        return _whole_minutes(self.worst_case_seconds + ROLLOUT_MARGIN_SECONDS)

    @property
    def delete_seconds(self) -> int:
        """Deleting the service drains it (desired count 0) and waits until it is INACTIVE
        (resourceServiceDelete, waitServiceInactive): never below the provider's default."""
        return max(PROVIDER_DEFAULT_TIMEOUT_SECONDS, _whole_minutes(
            self.draining + TASK_STOP_SECONDS + ROLLOUT_MARGIN_SECONDS))

    def custom_timeouts(self) -> pulumi.CustomTimeouts:
        return pulumi.CustomTimeouts(create=f"{self.wait_seconds // 60}m",
                                     update=f"{self.wait_seconds // 60}m",
                                     delete=f"{self.delete_seconds // 60}m")


def _whole_minutes(seconds: int) -> int:
    return math.ceil(seconds / 60) * 60


def circuit_breaker_rounds(tasks: int) -> int:
    """How many rounds of failing tasks the circuit breaker waits for before it trips."""
    threshold = min(CIRCUIT_BREAKER_MAX_THRESHOLD, max(
        CIRCUIT_BREAKER_MIN_THRESHOLD, math.ceil(CIRCUIT_BREAKER_DESIRED_FRACTION * tasks)))
    return math.ceil(threshold / max(tasks, 1))


def linear_steps(step_percent: float) -> int:
    """Traffic shifts in steps of step_percent until 100 % (the last step may be smaller)."""
    return math.ceil(round(100 / step_percent, 6))


def task_ready_seconds(spec: ServiceSpec) -> int:
    container_health = (CONTAINER_HEALTH_CHECK["startPeriod"]
                        + CONTAINER_HEALTH_CHECK["interval"] * CONTAINER_HEALTH_CHECK["retries"]
                        if any(c.health_check_command for c in spec.containers) else 0)
    target_health = (HEALTH_CHECK_INTERVAL_SECONDS * HEALTHY_THRESHOLD
                     if spec.topology.has_load_balancer else 0)
    return (TASK_START_ALLOWANCE_SECONDS + spec.health_check_grace_period_seconds
            + container_health + target_health)


def rollout_budget(spec: ServiceSpec) -> RolloutBudget:
    deployment = spec.topology.deployment
    strategy = deployment.strategy
    # The smallest count autoscaling can leave the service at gives the most breaker rounds.
    tasks = min(spec.desired_count, spec.min_count)
    rounds = circuit_breaker_rounds(tasks) if strategy in CIRCUIT_BREAKER_STRATEGIES else 1
    bake = deployment.bake_time_minutes * 60
    if strategy == "BLUE_GREEN":
        traffic = bake
    elif strategy == "CANARY":
        assert deployment.canary_bake_time_minutes is not None  # parse_deployment sets it
        traffic = deployment.canary_bake_time_minutes * 60 + bake
    elif strategy == "LINEAR":
        assert deployment.linear_step_percent is not None
        assert deployment.linear_step_bake_time_minutes is not None
        traffic = ((linear_steps(deployment.linear_step_percent) - 1)
                   * deployment.linear_step_bake_time_minutes * 60 + bake)
    else:
        traffic = 0
    if deployment.smoke_test_lambda_arn is not None:
        traffic += SMOKE_TEST_ALLOWANCE_SECONDS
    draining = spec.deregistration_delay_seconds if spec.topology.has_load_balancer else 0
    return RolloutBudget(strategy=strategy, task_ready=task_ready_seconds(spec),
                         provisioning_rounds=rounds, traffic=traffic, draining=draining)


def checked_rollout_budget(spec: ServiceSpec, setting: str) -> RolloutBudget:
    """The budget, or ConfigError when no `pulumi up` could watch the rollout to its end."""
    budget = rollout_budget(spec)
    if budget.wait_seconds > MAX_CREDENTIAL_SECONDS:
        deployment = spec.topology.deployment
        given = {key: getattr(deployment, key) for key in (
            "strategy", "bake_time_minutes", "canary_bake_time_minutes", "linear_step_percent",
            "linear_step_bake_time_minutes") if getattr(deployment, key) is not None}
        raise ConfigError(
            f"{setting}deployment", given,
            f"a rollout that can end within {MAX_CREDENTIAL_SECONDS // 3600} hours, the longest "
            "any AWS role's credentials last (the provider watches the whole rollout with one "
            f"set); this one can take {math.ceil(budget.worst_case_seconds / 60)} minutes: "
            "shorten the bake times or raise the step percent")
    return budget
