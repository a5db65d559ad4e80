"""Lint and type check as part of the suite (and so in the deployment's pre-run gate). Pulumi.yaml
declares no language-host type checker; see the tests at the end for why and what would be needed."""

import subprocess
import sys
from pathlib import Path

import pytest
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


# The Python language host's type check (pulumi/pulumi sdk/python/cmd/pulumi-language-python,
# PR #15725, venv exclusion in PR #19107): with `runtime.options.typechecker` set it runs, before
# every preview and update, `<venv python> -m <checker> [--exclude <venv>] <program directory>`
# and refuses to run the program when that fails; with toolchain uv the venv is the `.venv` beside
# the nearest uv.lock (PR #17609), which for delivery/ is the repository root's.
PROJECT_DIRS = [PROJECT, PROJECT / "delivery"]


def declared_typechecker(project_dir: Path) -> str | None:
    import yaml
    runtime = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["runtime"]
    options = runtime.get("options") or {} if isinstance(runtime, dict) else {}
    return options.get("typechecker")


def language_host_typecheck_command(project_dir: Path, checker: str) -> list[str]:
    venv = PROJECT / ".venv"
    command = [str(venv / "bin" / "python"), "-m", checker]
    if checker == "mypy":
        relative = str(venv).removeprefix(str(project_dir) + "/")
        command += ["--exclude", relative]
    return command + [str(project_dir)]


@pytest.mark.parametrize("project_dir", PROJECT_DIRS, ids=lambda p: p.name)
def test_declared_typechecker_passes_the_language_hosts_command(project_dir):
    checker = declared_typechecker(project_dir)
    if checker is None:
        return  # nothing runs before the program; mypy runs above with the project's config
    result = subprocess.run(language_host_typecheck_command(project_dir, checker),
                            cwd=project_dir, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("project_dir", PROJECT_DIRS, ids=lambda p: p.name)
def test_declared_typechecker_is_installed_where_the_cli_runs(project_dir):
    """The pull-request job runs the real `pulumi preview` after `uv sync --no-dev`; a checker
    that is only a dev dependency is missing there and the host stops (pulumi/pulumi#16539)."""
    import tomllib
    checker = declared_typechecker(project_dir)
    if checker is None:
        return
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    runtime = {d.split(">")[0].split("=")[0].split("[")[0].strip()
               for d in pyproject["project"]["dependencies"]}
    assert checker in runtime, f"{checker} must be a runtime dependency to run in `--no-dev`"


def test_why_no_typechecker_is_declared():
    """The evidence for leaving the option out: the host's exact command stops on this tree
    (root, policy/ and delivery/ each hold a `__main__.py`). When this starts passing, the option
    can come back together with mypy as a runtime dependency."""
    result = subprocess.run(language_host_typecheck_command(PROJECT, "mypy"), cwd=PROJECT,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert 'Duplicate module named "__main__"' in result.stdout
