"""`shipyard delivery-files`: rewrite the committed files that follow the stack files (the merge
workflow's path filter and architecture matrix, delivery/deployment-context.json) after a stack
file changes; `--check` only says what differs and exits 1 (shipyard_delivery.derived_files)."""

import argparse


def run(args: argparse.Namespace) -> int:
    from shipyard_delivery import derived_files

    from ..cli import _project_dir

    project_dir = _project_dir(args.project_dir)
    if args.check:
        problems = derived_files.differences(project_dir)
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    for path in derived_files.write(project_dir):
        print(f"wrote {path}")
    return 0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "delivery-files", help="rewrite the workflow path filter and deployment contexts that "
                               "follow the stack files")
    parser.add_argument("--check", action="store_true",
                        help="only list what differs (exit 1 if anything does)")
    parser.add_argument("--project-dir", default=None,
                        help="the application project (default: the nearest Pulumi.yaml up)")
    parser.set_defaults(run=run)
