"""The `shipyard` command ends its process without tearing the interpreter down
(cli.run, os._exit). Everything it prints or writes must still be there, and every way out
keeps its exit code."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLE


def shipyard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shipyard_preview.cli", *args], cwd=SAMPLE,
                          capture_output=True, text=True, timeout=180)


def test_help_and_usage_errors_keep_argparse_exit_codes() -> None:
    shown = shipyard("--help")
    assert shown.returncode == 0 and shown.stdout.startswith("usage: shipyard")
    missing = shipyard("preview")
    assert missing.returncode == 2
    assert "the following arguments are required: stack" in missing.stderr


def test_everything_printed_and_written_arrives(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = shipyard("preview", "staging", "--json", "--out", str(out))
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout) == json.loads(out.read_text())


def test_a_program_that_buffers_its_log_has_it_written(tmp_path: Path) -> None:
    """A MemoryHandler writes only when flushed or closed: at exit, by logging.shutdown."""
    (tmp_path / "Pulumi.yaml").write_text("name: logs\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "import logging\nimport logging.handlers\n\n"
        "target = logging.FileHandler('program.log')\n"
        "logging.getLogger().addHandler(logging.handlers.MemoryHandler(100, target=target))\n"
        "logging.getLogger().warning('ran')\n")
    result = shipyard("preview", "dev", "--project-dir", str(tmp_path), "--no-policy")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "program.log").read_text() == "ran\n"
