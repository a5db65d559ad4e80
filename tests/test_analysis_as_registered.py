"""`shipyard preview` sends each resource to the pack while the program is still registering the
next ones (analyzer.AnalysisAsRegistered). It must judge exactly what `analyze` judges after the
run, in the same order, and fail the way `analyze` fails."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICY_DIR, PROJECT, stack_config
from shipyard.errors import ConfigError

from shipyard_preview.analyzer import AnalysisAsRegistered, PackProcess, analyze
from shipyard_preview.engine import run_program


@pytest.mark.parametrize("stack,preview_unknowns", [
    ("staging", False), ("prod", False), ("staging", True)])
def test_judges_what_analyze_judges_after_the_run(stack: str, preview_unknowns: bool) -> None:
    config = stack_config(stack)
    config = dataclasses.replace(config, policy_config={"all": "advisory"})
    with PackProcess(POLICY_DIR) as pack:
        analysis = AnalysisAsRegistered(pack, config, dry_run=preview_unknowns).start()
        recording = run_program(PROJECT, config, preview_unknowns=preview_unknowns,
                                on_register=analysis.submit)
        as_registered = analysis.finish(recording)
    after_the_run = analyze(recording, POLICY_DIR)
    assert as_registered == after_the_run
    assert as_registered.levels
    # The sample staging stack draws advisories (no WAF, no access logs); prod draws none.
    assert bool(as_registered.verdicts) == (stack == "staging")
    assert bool(as_registered.skipped) == preview_unknowns


def test_a_policy_config_the_pack_refuses_is_raised_by_finish() -> None:
    config = dataclasses.replace(stack_config("staging"),
                                 policy_config={"no-such-rule": "mandatory"})
    with PackProcess(POLICY_DIR) as pack:
        analysis = AnalysisAsRegistered(pack, config, dry_run=False).start()
        recording = run_program(PROJECT, config, on_register=analysis.submit)
        with pytest.raises(ConfigError, match="'no-such-rule' is not valid; not a policy"):
            analysis.finish(recording)


def test_a_failing_program_with_the_pack_running_exits_2(tmp_path: Path) -> None:
    """The thread sending to the pack ends with the program; nothing hangs."""
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n\npulumi.ComponentResource('x:y:Z', 'first')\n"
        "raise RuntimeError('no database')\n")
    result = subprocess.run([sys.executable, "-m", "shipyard_preview.cli", "preview", "dev",
                             "--project-dir", str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert (result.returncode, result.stderr) == (
        2, "error: the program failed (at __main__.py:4): RuntimeError: no database\n")
