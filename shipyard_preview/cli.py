"""`shipyard`: the offline preview (plan + policy verdicts for a stack, no cloud, no CLI) and the
generated rule table of the policy pack.

Exit codes: 0 no mandatory violation, 1 mandatory violation, 2 bad input (unknown stack,
invalid config; the validator's message is printed, no traceback)."""

import argparse
import contextlib
import json
import sys
from pathlib import Path

from shipyard.errors import ConfigError

EXIT_CLEAN, EXIT_MANDATORY, EXIT_BAD_INPUT = 0, 1, 2


def _project_dir(value: str | None) -> Path:
    if value:
        return Path(value).resolve()
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise ConfigError("--project-dir", str(here), "a folder containing Pulumi.yaml")


def preview(args: argparse.Namespace) -> int:
    # Imported here so `shipyard --help` stays fast.
    from .analyzer import PackProcess, analyze
    from .diff import diff_plans, render_diff
    from .engine import run_program
    from .plan import build_plan
    from .render import render_text
    from .stack_config import load_stack_config

    project_dir = _project_dir(args.project_dir)
    stack = load_stack_config(project_dir, args.stack)
    policy_dir = project_dir / args.policy_pack
    # The pack starts first, as its own process, and boots while the program runs.
    with contextlib.nullcontext() if args.no_policy else PackProcess(policy_dir) as pack:
        recording = run_program(project_dir, stack, preview_unknowns=args.preview_unknowns)
        policy_run = None if pack is None else analyze(recording, policy_dir, pack.connect())
    plan = build_plan(recording, policy_run)
    if args.against:
        saved = json.loads(Path(args.against).read_text())
        plan["diff"] = diff_plans(saved, plan)
    if args.out:
        Path(args.out).write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(plan))
        if "diff" in plan:
            sys.stdout.write("\n" + render_diff(plan["diff"]))
    mandatory = plan.get("policy", {}).get("mandatoryViolations", 0)
    return EXIT_MANDATORY if mandatory else EXIT_CLEAN


def rules(args: argparse.Namespace) -> int:
    from .rules_table import render_rules_table

    project_dir = _project_dir(args.project_dir)
    sys.stdout.write(render_rules_table(project_dir / args.policy_pack))
    return EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project-dir", help="folder with Pulumi.yaml (default: nearest)")
    parser.add_argument("--policy-pack", default="policy", help="pack folder (default: policy)")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("preview", help="plan and policy verdicts for a stack, offline")
    p.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--json", action="store_true", help="print the plan document as JSON")
    p.add_argument("--out", help="also write the JSON plan to this file")
    p.add_argument("--against", help="a saved JSON plan: show what changes")
    p.add_argument("--preview-unknowns", action="store_true",
                   help="mark values a first real preview cannot know as unknown")
    p.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    p.set_defaults(run=preview)
    r = commands.add_parser("rules", help="print the policy pack's rule table (RULES.md)")
    r.set_defaults(run=rules)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
