"""The `shipyard preview` command end to end, as a user runs it: a separate process, its exit
code, its text and its JSON."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from conftest import PROJECT

from shipyard_preview.mocks import OfflineMocks  # noqa: F401  (the module the token below comes from)
from shipyard_preview.stack_config import SECRET_PLACEHOLDER_PREFIX

SCHEMA = json.loads((PROJECT / "shipyard_preview" / "plan.schema.json").read_text())
# Values that exist in the offline run and must never be printed: the secret config
# placeholder and the mock ECR password.
NEVER_PRINTED = (SECRET_PLACEHOLDER_PREFIX, "offline-ecr-token")


def shipyard(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shipyard_preview.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """Each stack previewed once as JSON (written with --out) and as text."""
    out = tmp_path_factory.mktemp("plans")
    result = {}
    for stack in ("staging", "prod"):
        path = out / f"{stack}.json"
        text = shipyard("preview", stack, "--out", str(path))
        result[stack] = (text, json.loads(path.read_text()))
    return result


@pytest.mark.parametrize("stack,count", [("staging", 53), ("prod", 84)])
def test_preview_of_each_stack(plans, stack, count):
    text, plan = plans[stack]
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"Offline preview of shipyard/{stack}: {count} resources")
    assert plan["resourceCount"] == count == len(plan["resources"])
    types = Counter(r["type"] for r in plan["resources"])
    for token in ("aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition",
                  "aws:lb/loadBalancer:LoadBalancer", "aws:ecr/repository:Repository",
                  "docker:index/image:Image", "aws:ec2/vpc:Vpc", "shipyard:index:ContainerService"):
        assert types[token] == 1, token
    assert types["aws:lb/listener:Listener"] == 2
    assert plan["policy"]["mandatoryViolations"] == 0


def test_text_view_groups_by_component_and_shows_iam(plans):
    text = plans["staging"][0].stdout
    component = text.index("\n+ shipyard:index:ContainerService  web\n")
    assert text.index("\n    + aws:ecr/repository:Repository  web-web-repo\n") > component
    digest = plans["staging"][1]["outputs"]["web_image_digests"]["web"]
    assert f"          container web:\n              image: {digest}\n              user: 10001:10001\n" \
        in text
    assert "      Allow ecr:GetAuthorizationToken\n          on *  <-- WILDCARD: every resource" in text
    assert "Rollout bound (health checks to healthy + draining)\n  web: 25 s" in text
    assert "[advisory] alb-waf (medium) on web-alb" in text
    assert "protocol: HTTPS" in text and "sslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06" in text


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_no_secret_is_printed(plans, stack):
    text, plan = plans[stack]
    for leaked in NEVER_PRINTED:
        assert leaked not in text.stdout + text.stderr
        assert leaked not in json.dumps(plan)
    version = next(r for r in plan["resources"]
                   if r["type"] == "aws:secretsmanager/secretVersion:SecretVersion")
    assert version["properties"]["secretString"] == "[secret]"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_json_matches_its_schema(plans, stack):
    jsonschema.validate(plans[stack][1], SCHEMA)


def test_json_flag_prints_the_same_document(plans):
    result = shipyard("preview", "staging", "--json", "--no-policy")
    assert result.returncode == 0
    plan = json.loads(result.stdout)
    jsonschema.validate(plan, SCHEMA)
    # Same resources, same order, same values: the plan is deterministic across runs.
    assert plan["resources"] == plans["staging"][1]["resources"]
    assert "policy" not in plan


def test_bad_config_exits_2_with_the_message(tmp_path):
    for name in ("Pulumi.yaml", "app", "policy", "__main__.py"):
        (tmp_path / name).symlink_to(PROJECT / name)
    stack = (PROJECT / "Pulumi.staging.yaml").read_text().replace("memory: 512", "memory: 4096")
    (tmp_path / "Pulumi.staging.yaml").write_text(stack)
    result = shipyard("--project-dir", str(tmp_path), "preview", "staging")
    assert result.returncode == 2
    assert result.stderr == ("error: shipyard:services[0].memory: 4096 is not valid; with cpu 256 "
                             "Fargate memory must be 512, 1024, 2048 (MiB)\n")
    assert result.stdout == ""


def test_unknown_stack_exits_2():
    result = shipyard("preview", "dev")
    assert (result.returncode, result.stderr) == (
        2, "error: stack: 'dev' is not valid; one of prod, staging\n")


def test_against_a_saved_plan_shows_the_change(plans, tmp_path):
    saved = plans["staging"][1]
    saved["resources"] = [r for r in saved["resources"] if r["name"] != "web-cpu"]
    for r in saved["resources"]:
        if r["type"] == "aws:ecs/service:Service":
            r["properties"]["desiredCount"] = 3
    (tmp_path / "saved.json").write_text(json.dumps(saved))
    result = shipyard("preview", "staging", "--no-policy", "--against", str(tmp_path / "saved.json"))
    assert result.returncode == 0
    assert "Against the saved plan: 1 to add, 1 to change, 0 to remove" in result.stdout
    assert "  + web-cpu" in result.stdout
    assert "  ~ web-service (aws:ecs/service:Service)\n      desiredCount: 3 => 1" in result.stdout


def test_preview_unknowns_lists_skipped_rules():
    result = shipyard("preview", "staging", "--preview-unknowns")
    assert result.returncode == 0
    assert "(unknowns as at a first preview)" in result.stdout
    assert "rule evaluations skipped (values unknown until deploy):" in result.stdout
    assert "      image-no-latest on web-task" in result.stdout
