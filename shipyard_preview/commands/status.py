"""`shipyard status <stack> [service]`: what runs, judged against what the stack deployed."""

import argparse
import json
import sys
from typing import Any

from ._day_two import (
    EXIT_NOT_OK,
    EXIT_OK,
    add_stack_arguments,
    aws_for,
    reports_aws_failures,
    stack_outputs,
    subparser,
)


@reports_aws_failures
def status(args: argparse.Namespace) -> int:
    from ..operations.status import render_status, stack_status

    document = stack_status(aws_for(args), stack_outputs(args), args.service)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_status(document))
    return EXIT_OK if document["steady"] and not document["drifted"] else EXIT_NOT_OK


def register(commands: Any) -> None:
    parser = subparser(
        commands, "status", "tasks, deployments, images, drift, targets and events of a stack",
        "Per service: desired/running/pending tasks, each deployment and its rollout state, the "
        "revision with each container's image and the running digests, its source-version, "
        "drift against what the stack last deployed, target health, the last events and the "
        "URL.")
    add_stack_arguments(parser, service="optional")
    parser.add_argument("--json", action="store_true",
                        help="print the document shipyard_preview/operations/status.schema.json "
                             "describes")
    parser.set_defaults(run=status)
