"""Lint and type check as part of the suite. Pulumi.yaml declares mypy as the program's type
checker, so the real CLI refuses to deploy a program that fails it."""

import subprocess
import sys
from pathlib import Path

from conftest import PROJECT

BIN = Path(sys.executable).parent


def test_ruff():
    result = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=PROJECT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_mypy():
    result = subprocess.run([str(BIN / "mypy")], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_mypy_delivery_program():
    # A second program also named __main__: checked on its own, as its Pulumi.yaml would.
    result = subprocess.run([str(BIN / "mypy"), "__main__.py"], cwd=PROJECT / "delivery",
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
