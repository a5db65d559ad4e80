"""`shipyard rollback <stack> <service> [--to <revision|digest>]`: the normal path (redeploy
the release through delivery) by default, `--emergency` to point the service at it now."""

import argparse
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from ._day_two import (
    EXIT_OK,
    add_stack_arguments,
    aws_for,
    project_dir,
    reports_aws_failures,
    stack_outputs,
    subparser,
)


@reports_aws_failures
def rollback(args: argparse.Namespace) -> int:
    from shipyard.errors import ConfigError

    from ..operations import rollback as operations
    from ..operations.ecs_reads import describe_service
    from ..operations.stack_outputs import load_history

    if args.emergency and args.clear_emergency:
        raise ConfigError("--clear-emergency", True, "used without --emergency (one clears the "
                          "marker the other sets)")
    if args.submit and (args.emergency or args.clear_emergency):
        raise ConfigError("--submit", True, "used with the normal path only")
    service = stack_outputs(args).service(args.service)
    aws = aws_for(args)(service)
    now = datetime.now(UTC)
    if args.clear_emergency:
        marker = operations.clear_emergency(aws, service)
        if marker is None:
            print(f"{service.name}: no emergency rollback marker on the service; nothing to "
                  "clear")
        else:
            print(f"{service.name}: cleared the emergency rollback to revision "
                  f"{marker.revision} (by {marker.by} at {marker.at}); the next `pulumi up` of "
                  f"{args.stack} deploys what the stack says")
        return EXIT_OK
    live = describe_service(aws, service)
    running = operations.running_revision(live)
    revision = operations.target_revision(aws, service, args.to, running)
    if args.emergency:
        marker = operations.emergency(aws, service, live, revision, now)
        sys.stdout.write(operations.render_emergency(marker, stack=args.stack, service=service,
                                                     revision=revision))
        return EXIT_OK
    history = load_history(args.stack, history_file=args.history,
                           project_dir=project_dir(args))
    plan = operations.plan_normal(stack=args.stack, service=service, revision=revision,
                                  history=history,
                                  delivery=operations.delivery_of(project_dir(args), args.stack),
                                  now=now)
    sys.stdout.write(operations.render_normal(plan, service=service,
                                              running=running))
    if not args.submit:
        return EXIT_OK
    if plan.release_command is None:
        raise ConfigError("--submit", True, f"used for a stack released through GitHub "
                          f"releases; for {args.stack} run the steps above")
    gh = shutil.which("gh")
    if gh is None:
        raise ConfigError("--submit", True, "used where the GitHub CLI (gh) is on PATH, signed "
                          "in (`gh auth login`); or run the command above yourself")
    return subprocess.call([gh, *plan.release_command[1:]])


def register(commands: Any) -> None:
    parser = subparser(
        commands, "rollback", "back to a previous release: through delivery, or now "
                              "(--emergency)",
        "The normal path finds the commit whose `pulumi up` registered the revision "
        "(pulumi stack history) and says exactly how delivery redeploys it: the same digest, "
        "the same gates, recorded in Pulumi's history. --emergency points the ECS service at "
        "the revision at once and marks it, so the next `pulumi up` stops and says so.")
    add_stack_arguments(parser, service="required")
    parser.add_argument("--to", help="a revision (6, <family>:6, its ARN) or an image digest "
                                     "(default: the last successful deployment before the "
                                     "running one)")
    parser.add_argument("--emergency", action="store_true",
                        help="point the service at the revision now (UpdateService) and mark "
                             "the stack as drifted")
    parser.add_argument("--clear-emergency", action="store_true",
                        help="remove the emergency marker: the next `pulumi up` rolls forward")
    parser.add_argument("--history", metavar="FILE",
                        help="the stack's history from `pulumi stack history --json "
                             "--show-secrets=false` (default: run that command)")
    parser.add_argument("--submit", action="store_true",
                        help="for a stack released through GitHub releases: create the release "
                             "with gh")
    parser.set_defaults(run=rollback)
