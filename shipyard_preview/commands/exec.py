"""`shipyard exec <stack> <service> -- <command>`: ECS Exec into a running task."""

import argparse
import signal
import subprocess
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


@reports_aws_failures
def exec_command(args: argparse.Namespace) -> int:
    from shipyard.errors import ConfigError

    from ..operations.exec_session import (
        choose_target,
        exec_disabled,
        plugin_arguments,
        session_manager_plugin,
        start_session,
    )

    args, command = split_command(args)
    service = stack_outputs(args).service(args.service)
    if not service.execute_command:
        raise exec_disabled(service)
    plugin = session_manager_plugin()
    if not command:
        raise ConfigError("command", None, "a command after `--`, e.g. "
                          "`shipyard exec staging web -- /bin/sh`")
    aws = aws_for(args)(service)
    target = choose_target(aws, service, task=args.task, container=args.container)
    session, parameters = start_session(aws, service, target, command)
    # Ctrl-C and friends belong to the remote shell: the plugin forwards them (as the AWS CLI
    # does, ignoring them here while it runs).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(plugin_arguments(plugin, aws, session, parameters, args.profile))
    finally:
        signal.signal(signal.SIGINT, previous)


def register(commands: Any) -> None:
    parser = subparser(
        commands, "exec", "ECS Exec into a running task of the service",
        "Opens an ECS Exec session (it needs enable_execute_command on the service and the "
        "AWS Session Manager plugin, session-manager-plugin, on PATH) and runs the command "
        "given after `--` in the container; the exit code is the plugin's.")
    add_stack_arguments(parser, service="required")
    parser.add_argument("--task", help="the task id, or a unique start of it (default: the "
                                       "first running task)")
    parser.add_argument("--container", help="default: the only one, or the load-balanced one")
    add_command_argument(parser)
    parser.set_defaults(run=exec_command)
