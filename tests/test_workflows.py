"""The GitHub Actions workflows pass actionlint and zizmor (offline), pin every action to a full
commit SHA with its version beside it, and grant each job only the permissions it uses."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT

WORKFLOWS = sorted((PROJECT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
USES = re.compile(r"uses:\s*(\S+)(.*)$")


def test_there_are_workflows():
    assert [w.name for w in WORKFLOWS] == ["pull-request.yml", "release.yml"]


def test_actionlint():
    result = subprocess.run([str(BIN / "actionlint"), *map(str, WORKFLOWS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline():
    result = subprocess.run([str(BIN / "zizmor"), "--offline", "--no-progress",
                             str(PROJECT / ".github" / "workflows")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(workflow):
    for line in workflow.read_text().splitlines():
        match = USES.search(line)
        if match:
            reference, rest = match.groups()
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", reference), line
            assert re.search(r"#\s*v\d+\.\d+\.\d+", rest), f"no version comment: {line}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_least_permissions(workflow):
    doc = yaml.safe_load(workflow.read_text())
    assert doc["permissions"] == {}, "top-level permissions must be empty"
    for name, job in doc["jobs"].items():
        granted = job.get("permissions", {})
        assert all(level in ("read", "write") for level in granted.values()), name
        writes = {k for k, v in granted.items() if v == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{name} writes {writes}"


def test_prod_is_promoted_only_from_a_release_behind_approval():
    release = yaml.safe_load((PROJECT / ".github/workflows/release.yml").read_text())
    assert list(release[True]) == ["release"]  # YAML reads the key `on` as True
    promote = release["jobs"]["promote-prod"]
    assert promote["environment"] == "production"
    assert promote["needs"] == "publish-policy-pack"
    assert "sourceContext" in promote["steps"][-1]["run"]
    pr = yaml.safe_load((PROJECT / ".github/workflows/pull-request.yml").read_text())
    assert list(pr[True]) == ["pull_request"]
    assert "deployment" not in (PROJECT / ".github/workflows/pull-request.yml").read_text()


def test_pr_preview_uses_the_pack_and_the_read_only_role():
    text = (PROJECT / ".github/workflows/pull-request.yml").read_text()
    assert "policyPacks: policy" in text
    assert "role-to-assume: ${{ vars.PREVIEW_ROLE_ARN }}" in text
    assert 'pulumi config env rm "shipyard/aws-${STACK}"' in text
