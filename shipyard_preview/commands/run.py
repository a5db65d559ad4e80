"""`shipyard run <stack> <service> -- <command...>`: the service's current task definition,
once, with another command; its logs as it runs; the container's exit code as ours."""

import argparse
import sys
import time
from typing import Any

from ._day_two import (
    add_command_argument,
    add_stack_arguments,
    aws_for,
    reports_aws_failures,
    split_command,
    stack_outputs,
    subparser,
)

EXIT_DID_NOT_RUN = 125  # as `docker run` reports a container it could not run
EXIT_INTERRUPTED = 130
LATE_LOG_DRAINS = 3  # CloudWatch shows a task's last lines a few seconds after it stopped


def pick_container(args_container: str | None, definition: dict, service: dict) -> str:
    from shipyard.errors import ConfigError

    names = [c["name"] for c in definition.get("containerDefinitions") or []]
    if args_container is not None:
        if args_container not in names:
            raise ConfigError("--container", args_container,
                              "one of the task definition's containers: " + ", ".join(names))
        return args_container
    if len(names) == 1:
        return names[0]
    balanced = [b.get("containerName") for b in service.get("loadBalancers") or []]
    if balanced and balanced[0] in names:
        return str(balanced[0])
    raise ConfigError("--container", None, "one of " + ", ".join(names) +
                      " (the task has several and no load-balanced one)")


@reports_aws_failures
def run(args: argparse.Namespace, *, sleep: Any = time.sleep) -> int:
    from shipyard.errors import ConfigError
    from shipyard.one_off_task import OneOffTask, TaskDidNotRun, start, wait

    from ..operations.ecs_reads import describe_service, describe_task_definition, task_id
    from ..operations.logs import TaskLogs

    args, command = split_command(args)
    if not command:
        raise ConfigError("command", None, "a command after `--`, e.g. "
                          "`shipyard run staging web -- python manage.py migrate`")
    outputs = stack_outputs(args).service(args.service)
    aws = aws_for(args)(outputs)
    service = describe_service(aws, outputs)
    primary = next((d for d in service.get("deployments") or []
                    if d.get("status") == "PRIMARY"), service)
    definition_arn = str(primary.get("taskDefinition") or service["taskDefinition"])
    definition, _ = describe_task_definition(aws, definition_arn)
    container = pick_container(args.container, definition, service)
    network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if not network.get("subnets"):
        raise ConfigError("service", outputs.service_name, "a service with awsvpc subnets to run "
                          "the task in")
    task = OneOffTask(cluster=outputs.cluster_arn, task_definition=definition_arn,
                      container=container, command=command, subnets=network["subnets"],
                      security_groups=network.get("securityGroups") or [],
                      capacity_provider_strategy=service.get("capacityProviderStrategy") or [],
                      platform_version=service.get("platformVersion"))
    resource = f"task definition {definition_arn.rsplit('/', 1)[-1]}"
    try:
        with aws.explaining("ecs", "RunTask", resource):
            arn = start(aws.client("ecs"), task)
        print(f"started task {task_id(arn)} of {definition_arn.rsplit('/', 1)[-1]} "
              f"(container {container}); waiting for it to stop", file=sys.stderr)
        logs = TaskLogs.of_task(aws, definition, arn, [container], sys.stdout)
        with aws.explaining("ecs", "DescribeTasks", f"task {task_id(arn)}"):
            result = wait(aws.client("ecs"), cluster=outputs.cluster_arn, task_arn=arn,
                          container=container, timeout_seconds=args.timeout,
                          on_poll=lambda _task: None if logs is None else logs.print_new(),
                          sleep=sleep)
        for _ in range(LATE_LOG_DRAINS if logs else 0):
            sleep(2.0)
            if logs is not None and not logs.drain():
                break
    except TaskDidNotRun as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DID_NOT_RUN
    except TimeoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DID_NOT_RUN
    except KeyboardInterrupt:
        print("interrupted: the task keeps running; stop it with `aws ecs stop-task --cluster "
              f"{outputs.cluster_name} --task <id>`", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"task {task_id(result.task_arn)} stopped: {result.stopped_reason}; container "
          f"{container} exited {result.exit_code}", file=sys.stderr)
    return result.exit_code


def register(commands: Any) -> None:
    parser = subparser(
        commands, "run", "run the service's task definition once with another command",
        "Runs the task definition the live service runs, in its subnets and security groups "
        "without a public IP, with the command given after `--`; streams the container's logs "
        "and exits with its exit code (125 when the task could not run: the message says why).")
    add_stack_arguments(parser, service="required")
    parser.add_argument("--container", help="the container whose command is replaced "
                                            "(default: the only one, or the load-balanced one)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds to wait for the task to stop (default: 3600)")
    add_command_argument(parser)
    parser.set_defaults(run=run)
