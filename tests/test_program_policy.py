"""The real pack, over the Analyzer protocol, against the whole program: both stacks pass, and
each deliberately broken variant is caught by the rule meant to catch it."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import POLICY_DIR, PROJECT, SAMPLE, run_stack

from shipyard_preview.analyzer import analyze
from shipyard_preview.engine import run_program
from shipyard_preview.stack_config import load_stack_config

# Every advisory verdict the committed stacks produce; each is explained in the README.
EXPECTED_ADVISORIES = {
    # staging keeps flow logs off (they cost about $20 a month); the rule, advisory there, says so
    "staging": {("alb-access-logs", "web-alb"), ("alb-waf", "web-alb"),
                ("vpc-flow-logs", "network-vpc")},
    "prod": set(),  # WAF is on by default in prod
}


def verdicts(run):
    return {(v.policy, v.urn.rsplit("::", 1)[-1], v.enforcement_level) for v in run.verdicts}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_committed_stacks_have_no_mandatory_violation(stack, staging, prod):
    run = analyze({"staging": staging, "prod": prod}[stack], POLICY_DIR)
    sys.path.insert(0, str(POLICY_DIR))
    from guardrails import ALL_POLICIES
    assert [p.name for p in run.policies] == [p.name for p in ALL_POLICIES]
    assert {v for v in verdicts(run) if v[2] == "mandatory"} == set()
    assert {(p, r) for p, r, level in verdicts(run) if level == "advisory"} == \
        EXPECTED_ADVISORIES[stack]
    assert run.skipped == []


def test_prod_levels_come_from_its_policy_config(prod):
    run = analyze(prod, POLICY_DIR)
    assert run.levels["alb-deletion-protection"] == "mandatory"
    assert run.levels["alb-waf"] == "advisory"
    staging_levels = analyze(run_stack("staging"), POLICY_DIR).levels
    assert staging_levels["alb-deletion-protection"] == "disabled"


def test_first_preview_unknowns_skip_rules_instead_of_failing_them():
    recording = run_program(PROJECT, load_stack_config(SAMPLE, "staging"),
                            preview_unknowns=True)
    run = analyze(recording, POLICY_DIR)
    assert {v for v in verdicts(run) if v[2] == "mandatory"} == set()
    skipped = {(s.policy, s.urn.rsplit("::", 1)[-1]) for s in run.skipped}
    # The task definition's containers embed the image digest: unknown until the push.
    assert ("image-no-latest", "web-task") in skipped
    assert ("iam-no-wildcard-ecr-resource", "web-execution") in skipped


def planted_project(tmp_path: Path, variant: str, **service_defaults) -> Path:
    for name in ("Pulumi.yaml", "app", "policy"):
        (tmp_path / name).symlink_to(PROJECT / name)
    (tmp_path / "program.py").symlink_to(PROJECT / "__main__.py")
    (tmp_path / "__main__.py").write_text(
        (PROJECT / "tests" / "fixtures" / "planted_main.py").read_text())
    stack = yaml.safe_load((SAMPLE / "Pulumi.staging.yaml").read_text())
    stack["config"]["planted:variant"] = variant
    defaults = stack["config"]["shipyard:service_defaults"]
    for key, value in service_defaults.items():
        if value is None:
            defaults.pop(key)
        else:
            defaults[key] = value
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


@pytest.mark.parametrize("variant,changes,rule,resource", [
    ("latest-image", {}, "image-no-latest", "planted-latest"),
    ("ecr-wildcard", {}, "iam-no-wildcard-ecr-resource", "planted-ecr"),
    ("ecr-wildcard", {}, "iam-no-service-wildcard-action", "planted-ecr"),
    ("open-sg", {}, "sg-public-ingress-80-443-only", "planted-ssh"),
    ("http-forward", {"certificate_arn": None}, "http-redirects-to-https", "web-http"),
])
def test_broken_variant_is_caught(tmp_path, variant, changes, rule, resource):
    project = planted_project(tmp_path, variant, **changes)
    recording = run_program(project, load_stack_config(project, "staging"))
    run = analyze(recording, project / "policy")
    assert (rule, resource, "mandatory") in verdicts(run)


def test_planted_violation_exits_1_and_names_the_resource(tmp_path):
    project = planted_project(tmp_path, "latest-image")
    result = subprocess.run([sys.executable, "-m", "shipyard_preview.cli", "--project-dir", str(project),
                             "preview", "staging"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "[mandatory] image-no-latest (critical) on planted-latest" in result.stdout
    assert "Container 'app' uses 'nginx:latest', the mutable 'latest' tag." in result.stdout
