"""`shipyard access <stack>`: who can change a delivered stack or read its secrets, evaluated
offline over what the delivery project (`delivery/`, stack `org`) registers. Exit 0 when only
the approved release path can, 1 when another identity can, 2 on bad input."""

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from shipyard_delivery.app_stacks import read_app_stack

    from ..access_report import build_report, render
    from ..cli import _project_dir
    from ..delivery_program import run_delivery

    project_dir = _project_dir(args.project_dir)
    delivery_dir = Path(args.delivery_dir) if args.delivery_dir else project_dir / "delivery"
    recording = run_delivery(delivery_dir)
    app = read_app_stack(args.stack, project_dir)
    report = build_report(recording, app, project_dir)
    print(render(report), end="")
    return 0 if report.holds else 1


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "access", help="who can change a delivered stack or read its secrets (offline)")
    parser.add_argument("stack", help="a stack of delivery/Pulumi.org.yaml, e.g. prod")
    parser.add_argument("--project-dir", default=None,
                        help="the application project (default: the nearest Pulumi.yaml up)")
    parser.add_argument("--delivery-dir", default=None,
                        help="the delivery project (default: <project>/delivery)")
    parser.set_defaults(run=run)
