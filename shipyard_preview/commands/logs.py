"""`shipyard logs <stack> <service>`: the service's log streams, merged, task and container on
each line."""

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ._day_two import (
    EXIT_OK,
    add_stack_arguments,
    aws_for,
    reports_aws_failures,
    stack_outputs,
    subparser,
)

EXIT_INTERRUPTED = 130  # as a shell reports a process ended by Ctrl-C (128 + SIGINT)


@reports_aws_failures
def logs(args: argparse.Namespace) -> int:
    from ..operations.logs import log_source, parse_since, print_logs

    service = stack_outputs(args).service(args.service)
    since = parse_since(args.since, now=datetime.now(UTC))
    aws = aws_for(args)(service)
    source = log_source(aws, service, args.container)
    try:
        print_logs(aws, source, since=since, pattern=args.filter, follow=args.follow,
                   out=sys.stdout)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_OK


def register(commands: Any) -> None:
    parser = subparser(
        commands, "logs", "the service's logs, merged in time order, task and container named",
        "Reads the service's CloudWatch log group (FilterLogEvents, every page), all "
        "containers or one, and prints `<time> <container>/<task> <message>`.")
    add_stack_arguments(parser, service="required")
    parser.add_argument("--container", help="only this container's streams")
    parser.add_argument("--since", default="1h",
                        help="from how long ago (30s, 15m, 1h, 2d) or an ISO time (default: 1h)")
    parser.add_argument("--follow", "-f", action="store_true",
                        help="keep printing new events until Ctrl-C")
    parser.add_argument("--filter", help="a CloudWatch Logs filter pattern, e.g. ERROR or "
                                         "'{ $.level = \"error\" }'")
    parser.set_defaults(run=logs)
