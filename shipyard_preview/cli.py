"""`shipyard`: the offline preview (plan, cost and policy verdicts for a stack of any Pulumi
Python program that uses the component; no cloud, no CLI) and the rule table of the bundled
policy pack.

Exit codes: 0 no mandatory violation, 1 mandatory violation, 2 bad input (unknown stack,
invalid or missing config, a program that fails, an unreadable plan or policy config; the
message is printed, no traceback)."""

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import yaml
from shipyard.errors import ConfigError

from .stack_config import StackConfig, _policy_file

EXIT_CLEAN, EXIT_MANDATORY, EXIT_BAD_INPUT = 0, 1, 2
_PACK_MANIFEST = "PulumiPolicy.yaml"


class ProgramFailed(Exception):
    """The user's program raised: shown as the CLI shows it, one message, exit 2."""


def _project_dir(value: str | None) -> Path:
    if value:
        path = Path(value).resolve()
        if not (path / "Pulumi.yaml").is_file():
            raise ConfigError("--project-dir", value, "a folder containing Pulumi.yaml")
        return path
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise ConfigError("--project-dir", str(here), "a folder containing Pulumi.yaml")


def bundled_pack_dir() -> Path:
    """The pack shipped inside this package (a wheel force-includes policy/ here); in an
    editable install, the repository's policy/ beside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "policy", here.parent / "policy"):
        if (candidate / _PACK_MANIFEST).is_file():
            return candidate
    raise ConfigError("policy pack", str(here / "policy"),
                      "the pack bundled with shipyard; reinstall, or pass --policy-pack DIR")


def _pack_dir(value: str | None, project_dir: Path) -> Path:
    if value is None:
        return bundled_pack_dir()
    path = Path(value)
    path = path if path.is_absolute() else (project_dir / path)
    if not (path / _PACK_MANIFEST).is_file():
        raise ConfigError("--policy-pack", value, f"a policy pack folder (with {_PACK_MANIFEST})")
    return path.resolve()


def _read_policy_config(path: Path, shown: str) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError("--policy-config", shown, "an existing JSON file in the "
                          "--policy-pack-config format ({\"<policy>\": level | {...}})")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError("--policy-config", shown, f"valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ConfigError("--policy-config", shown,
                          "a JSON object of policy names to levels or settings")
    return config


def policy_config(explicit: str | None, project_dir: Path, pack_dir: Path, stack: StackConfig,
                  ) -> tuple[dict[str, Any], str]:
    """The policy config and where it came from: --policy-config, else the stack's own choice
    (`<project>:policy_config` or the project's policy/config.<stack>.json, as
    stack_config resolves it), else the pack's config.<stack>.json, else the pack defaults."""
    if explicit is not None:
        path = Path(explicit).resolve()
        return _read_policy_config(path, explicit), str(path)
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    chosen = _policy_file(project_dir, stack.project, stack.stack, stack.config,
                          project.get("config") or {})
    for candidate in (chosen, pack_dir / f"config.{stack.stack}.json"):
        if candidate is not None and candidate.is_file():
            return _read_policy_config(candidate, str(candidate)), str(candidate)
    return {}, ""


def _program_failure(error: BaseException, project_dir: Path) -> ProgramFailed:
    import pulumi

    if isinstance(error, (pulumi.ConfigMissingError, pulumi.ConfigTypeError)):
        return ProgramFailed(str(error))
    # Point at the program's own line, as a user would look for it.
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith(str(project_dir)):
            where = f" (at {Path(frame.filename).relative_to(project_dir)}:{frame.lineno})"
            break
    return ProgramFailed(f"the program failed{where}: {type(error).__name__}: {error}")


def preview(args: argparse.Namespace) -> int:
    # Imported here so `shipyard --help` stays fast.
    from .analyzer import AnalysisAsRegistered, PackProcess
    from .diff import diff_plans, load_saved_plan, render_diff
    from .engine import run_program
    from .plan import build_plan
    from .render import render_text
    from .stack_config import load_stack_config

    project_dir = _project_dir(args.project_dir)
    stack = load_stack_config(project_dir, args.stack)
    pack_dir = _pack_dir(args.policy_pack, project_dir)
    levels, source = policy_config(args.policy_config, project_dir, pack_dir, stack)
    stack = dataclasses.replace(stack, policy_config=levels)
    saved = load_saved_plan(args.against) if args.against else None
    # The pack starts first, as its own process, boots while the program runs and judges each
    # resource as it is registered.
    with contextlib.nullcontext() if args.no_policy else PackProcess(pack_dir) as pack:
        analysis = (None if pack is None else
                    AnalysisAsRegistered(pack, stack, dry_run=args.preview_unknowns).start())
        try:
            recording = run_program(project_dir, stack, preview_unknowns=args.preview_unknowns,
                                    on_register=None if analysis is None else analysis.submit)
        except ConfigError:
            raise
        except Exception as error:  # noqa: BLE001  (any failure of the user's program: exit 2)
            raise _program_failure(error, project_dir) from None
        finally:
            if analysis is not None:
                analysis.stop()
        policy_run = None if analysis is None else analysis.finish(recording)
    plan = build_plan(recording, policy_run, source)
    if saved is not None:
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

    pack_dir = (bundled_pack_dir() if args.policy_pack is None
                else _pack_dir(args.policy_pack, _project_dir(args.project_dir)))
    sys.stdout.write(render_rules_table(pack_dir))
    return EXIT_CLEAN


def _common(parser: argparse.ArgumentParser, default: Any) -> None:
    # Accepted before or after the command; after it, a value overrides the one before.
    parser.add_argument("--project-dir", default=default,
                        help="folder with Pulumi.yaml (default: the nearest one up from here)")
    parser.add_argument("--policy-pack", default=default,
                        help="policy pack folder (default: the pack bundled with shipyard)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser, None)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("preview", help="plan, cost and policy verdicts for a stack, offline")
    _common(p, argparse.SUPPRESS)
    p.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--policy-config",
                   help="policy config JSON (--policy-pack-config format); default: "
                        "policy/config.<stack>.json of the project, else of the pack, else "
                        "the pack's defaults")
    p.add_argument("--json", action="store_true", help="print the plan document as JSON")
    p.add_argument("--out", help="also write the JSON plan to this file")
    p.add_argument("--against", help="a saved JSON plan: show what changes, field by field")
    p.add_argument("--preview-unknowns", action="store_true",
                   help="mark values a first real preview cannot know as unknown")
    p.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    p.set_defaults(run=preview)
    r = commands.add_parser("rules", help="print the policy pack's rule table (RULES.md)")
    _common(r, argparse.SUPPRESS)
    r.set_defaults(run=rules)
    from .commands import register_all

    register_all(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ConfigError, ProgramFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def run() -> NoReturn:
    """The `shipyard` command: `main`, then end the process without tearing the interpreter
    down. Freeing the SDK's ~800 modules and the program's objects one by one takes about a
    second at exit (0.8 s for one service, 1.4 s for prod, measured on the benchmark machine)
    and serves nothing here: by now the pack process is stopped, --out is written and closed,
    and what is left to flush is flushed first."""
    try:
        code = main()
    except SystemExit as exit_:  # argparse's --help and usage errors: as Python would end
        code = 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 1
        if not isinstance(exit_.code, (int, type(None))):
            print(exit_.code, file=sys.stderr)
    if "logging" in sys.modules:  # a program's own log handlers (files) are flushed and closed
        sys.modules["logging"].shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
