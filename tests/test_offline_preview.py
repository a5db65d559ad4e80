"""The `shipyard preview` command end to end, as a user runs it: a separate process, its exit
code, its text and its JSON."""

import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from conftest import PROJECT, SAMPLE

from shipyard_preview.mocks import OfflineMocks  # noqa: F401  (the module the token below comes from)
from shipyard_preview.stack_config import SECRET_PLACEHOLDER_PREFIX

SCHEMA = json.loads((PROJECT / "shipyard_preview" / "plan.schema.json").read_text())
# Values that exist in the offline run and must never be printed: the secret config
# placeholder and the mock ECR password.
NEVER_PRINTED = (SECRET_PLACEHOLDER_PREFIX, "offline-ecr-token")


def shipyard(*args: str, cwd: Path = SAMPLE) -> subprocess.CompletedProcess:
    """The command run in the sample project (the sample stacks, linked to the real program)."""
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


# Prod: blue/green (second target group, listener rules, test listener, infrastructure role,
# alarms on both groups), WAF with its request logs (key, group, delivery policy, logging) and a
# versioned log bucket; staging: rolling with two rollback alarms. Both: the ServiceImage
# component, the rollout check, the drift check and two change guards (the repository's
# identity, the load-balancer wiring).
@pytest.mark.parametrize("stack,count,listeners", [("staging", 60, 2), ("prod", 108, 3)])
def test_preview_of_each_stack(plans, stack, count, listeners):
    text, plan = plans[stack]
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"Offline preview of shipyard/{stack}: {count} resources")
    assert plan["resourceCount"] == count == len(plan["resources"])
    types = Counter(r["type"] for r in plan["resources"])
    for token in ("aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition",
                  "aws:lb/loadBalancer:LoadBalancer", "aws:ecr/repository:Repository",
                  "docker:index/image:Image", "aws:ec2/vpc:Vpc", "shipyard:index:ContainerService"):
        assert types[token] == 1, token
    assert types["aws:lb/listener:Listener"] == listeners
    assert plan["policy"]["mandatoryViolations"] == 0


def test_text_view_groups_by_component_and_shows_iam(plans):
    text = plans["staging"][0].stdout
    component = text.index("\n+ shipyard:index:ContainerService  web\n")
    image = text.index("\n    + shipyard:index:ServiceImage  web-web\n")
    assert text.index("\n        + aws:ecr/repository:Repository  web-web-repo\n") > image > component
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
    stack = (SAMPLE / "Pulumi.staging.yaml").read_text().replace("memory: 512", "memory: 4096")
    (tmp_path / "Pulumi.staging.yaml").write_text(stack)
    result = shipyard("--project-dir", str(tmp_path), "preview", "staging")
    assert result.returncode == 2
    assert result.stderr == ("error: shipyard:services[0].memory: 4096 is not valid; with cpu 256 "
                             "Fargate memory must be 512, 1024, 2048 (MiB)\n")
    assert result.stdout == ""


def test_unknown_stack_exits_2():
    result = shipyard("preview", "nosuch")
    assert (result.returncode, result.stderr) == (
        2, "error: stack: 'nosuch' is not valid; one of fullstack, prod, staging\n")


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
    prefix = "urn:pulumi:staging::shipyard::shipyard:index:ContainerService$"
    assert (f"  + aws:appautoscaling/policy:Policy  {prefix}aws:appautoscaling/policy:Policy::"
            "web-cpu\n") in result.stdout
    assert (f"  ~ aws:ecs/service:Service  {prefix}aws:ecs/service:Service::web-service\n"
            "      desiredCount: 3 => 1\n") in result.stdout
    assert "IAM changes: 0 grants added, 0 removed\n" in result.stdout


def test_preview_unknowns_lists_skipped_rules():
    result = shipyard("preview", "staging", "--preview-unknowns")
    assert result.returncode == 0
    assert "(unknowns as at a first preview)" in result.stdout
    assert "rule evaluations skipped (values unknown until deploy):" in result.stdout
    assert "      image-no-latest on web-task" in result.stdout


EXAMPLE = PROJECT / "examples" / "own-program"
EXAMPLE_POLICY = EXAMPLE / "policy-config.dev.json"


@pytest.fixture(scope="module")
def own_program(tmp_path_factory):
    """The README's worked example, previewed from outside the repository's project."""
    out = tmp_path_factory.mktemp("own") / "plan.json"
    result = shipyard("preview", "dev", "--project-dir", str(EXAMPLE), "--policy-config",
                      str(EXAMPLE_POLICY), "--out", str(out), cwd=EXAMPLE.parent)
    return result, json.loads(out.read_text()) if out.is_file() else None


def test_own_program_previews_with_the_bundled_pack(own_program):
    result, plan = own_program
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Offline preview of own-program/dev: ")
    jsonschema.validate(plan, SCHEMA)
    assert plan["policy"]["pack"] == "shipyard-guardrails"
    assert plan["policy"]["config"] == str(EXAMPLE_POLICY)
    assert plan["policy"]["levels"]["alb-deletion-protection"] == "disabled"
    assert f"  policy config: {EXAMPLE_POLICY}\n" in result.stdout
    types = Counter(r["type"] for r in plan["resources"])
    assert types["aws:ecs/service:Service"] == 1 and types["aws:ec2/subnet:Subnet"] == 4


def test_own_program_cost_is_the_hand_computed_figure(own_program):
    """eu-west-1, 2 on-demand X86_64 tasks of 0.25 vCPU / 0.5 GB, one ALB in 2 subnets, one NAT.
    14.78 + 3.24 Fargate, 18.40 + 5.84 + 7.30 ALB, 1.00 key, 2.85 + 0.07 logs (5 GB, 14 days)
    = 53.48; NAT 35.04 + 4.80 data + 3.65 address = 43.49."""
    result, plan = own_program
    assert plan["cost"]["perService"] == {"hello": 53.48, "stack (shared)": 43.49}
    assert plan["cost"]["monthlyTotal"] == 96.97
    assert ("      Fargate X86_64 vCPU, on demand: 2 tasks x 0.25 vCPU x 730 h x $0.04048 = "
            "$14.78\n") in result.stdout
    assert "  total: $96.97 per month\n" in result.stdout


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_stack_is_priced_line_by_line(plans, stack):
    """Holds for any valid config: every service has Fargate lines, lines add up to totals."""
    _, plan = plans[stack]
    cost = plan["cost"]
    services = {r["name"] for r in plan["resources"]
                if r["type"] == "shipyard:index:ContainerService"}
    assert set(cost["perService"]) == services | {"stack (shared)"}
    for service in services:
        items = [line["item"] for line in cost["lines"] if line["service"] == service]
        assert any(item.startswith("Fargate ") and "vCPU" in item for item in items)
        assert any(item.startswith("Application Load Balancer") for item in items)
    assert cost["monthlyTotal"] == round(sum(line["monthly"] for line in cost["lines"]), 2)
    nats = sum(r["type"] == "aws:ec2/natGateway:NatGateway" for r in plan["resources"])
    assert sum(line["item"].startswith("NAT gateway (") for line in cost["lines"]) == nats


def test_cost_delta_against_the_other_stack(plans, tmp_path):
    saved = tmp_path / "staging.json"
    saved.write_text(json.dumps(plans["staging"][1]))
    result = shipyard("preview", "prod", "--no-policy", "--against", str(saved))
    assert result.returncode == 0, result.stderr
    before, after = (plans[s][1]["cost"]["monthlyTotal"] for s in ("staging", "prod"))
    assert (f"Cost against the saved plan: ${before:.2f} => ${after:.2f} per month "
            f"({after - before:+.2f})\n") in result.stdout


def _example_copy(tmp_path, **config):
    for name in ("Pulumi.yaml", "__main__.py", "site"):
        (tmp_path / name).symlink_to(EXAMPLE / name)
    lines = ["config:", "  aws:region: eu-west-1"]
    lines += [f"  own-program:{k}: {v}" for k, v in config.items()]
    (tmp_path / "Pulumi.dev.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path


IMAGE = "public.ecr.aws/nginx/nginx@sha256:" + "4" * 64
CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000003"


@pytest.mark.parametrize("config,stderr", [
    ({"image": IMAGE},
     "error: Missing required configuration variable 'own-program:certificate_arn'\n"
     "\tplease set a value using the command `pulumi config set own-program:certificate_arn "
     "<value>`\n"),
    ({"image": IMAGE, "certificate_arn": CERT, "replicas": "two"},
     # the stack file is checked against the types its Pulumi.yaml declares, before the run
     "error: own-program:replicas: 'two' is not valid; an integer (declared type integer in "
     "Pulumi.yaml)\n"),
    ({"image": "nginx:latest", "certificate_arn": CERT},
     "error: containers[0].image: 'nginx:latest' is not valid; a prebuilt image must be pinned "
     "by digest, repo[:tag]@sha256:<64 hex> (a tag, even an explicit one, can be moved to "
     "another image; find the digest with `docker buildx imagetools inspect <repo>:<tag>` or "
     "`crane digest <repo>:<tag>`), or build it from a folder with `source`\n"),
])
def test_own_program_config_errors_exit_2_without_traceback(tmp_path, config, stderr):
    project = _example_copy(tmp_path, **config)
    result = shipyard("preview", "dev", "--project-dir", str(project), "--no-policy")
    assert (result.returncode, result.stderr, result.stdout) == (2, stderr, "")


def test_own_program_misspelt_key_exits_2(tmp_path):
    project = _example_copy(tmp_path, imgae=IMAGE, certificate_arn=CERT)
    result = shipyard("preview", "dev", "--project-dir", str(project), "--no-policy")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: Pulumi.dev.yaml: own-program:imgae")
    assert "Traceback" not in result.stderr


def test_diff_in_json_matches_the_schema(plans, tmp_path):
    saved = tmp_path / "prod.json"
    saved.write_text(json.dumps(plans["prod"][1]))
    result = shipyard("preview", "staging", "--no-policy", "--json", "--against", str(saved))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    jsonschema.validate(plan, SCHEMA)
    assert plan["diff"]["cost"]["delta"] == round(
        plan["cost"]["monthlyTotal"] - plans["prod"][1]["cost"]["monthlyTotal"], 2)
    removed_types = {item["type"] for item in plan["diff"]["removed"]}
    assert "aws:ec2/flowLog:FlowLog" in removed_types


def test_a_failing_program_is_exit_2_with_its_line(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text("import pulumi\n\nraise RuntimeError('no database')\n")
    result = shipyard("preview", "dev", "--project-dir", str(tmp_path), "--no-policy")
    assert (result.returncode, result.stderr) == (
        2, "error: the program failed (at __main__.py:3): RuntimeError: no database\n")


@pytest.mark.parametrize("content,reason", [
    (None, "an existing JSON file in the --policy-pack-config format "
           '({"<policy>": level | {...}})'),
    ("{", "valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
          "(char 1))"),
    ('{"no-such-rule": "mandatory"}', None),
])
def test_bad_policy_config_exits_2(tmp_path, content, reason):
    path = tmp_path / "levels.json"
    if content is not None:
        path.write_text(content)
    result = shipyard("preview", "staging", "--policy-config", str(path))
    assert result.returncode == 2 and result.stdout == ""
    expected = (f"error: --policy-config: '{path}' is not valid; {reason}\n" if reason else
                "error: policy config: 'no-such-rule' is not valid; not a policy of this pack\n")
    assert result.stderr == expected


@pytest.mark.parametrize("content", [None, "not json", '{"resources": 3}'])
def test_missing_or_malformed_saved_plan_exits_2(tmp_path, content):
    path = tmp_path / "saved.json"
    if content is not None:
        path.write_text(content)
    result = shipyard("preview", "staging", "--no-policy", "--against", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: --against: '{path}' is not valid; ")
    assert "Traceback" not in result.stderr


def test_built_wheel_carries_the_pack_and_the_price_table(tmp_path):
    import zipfile

    uv = PROJECT / ".tools" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("uv is installed by ./dev")
    build = subprocess.run([str(uv), "build", "--wheel", "--package", "shipyard-fargate-platform",
                            "--out-dir", str(tmp_path), str(PROJECT)], capture_output=True,
                           text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("shipyard_fargate_platform-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    # Plain pip resolves the component package beside it, not a same-named one on an index:
    # the requirement is a direct reference to this repository's components/.
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    assert f"Requires-Dist: shipyard-fargate @ {(PROJECT / 'components').as_uri()}" in requires
    component = tomllib.loads((PROJECT / "components" / "pyproject.toml").read_text())
    assert component["project"]["name"] == "shipyard-fargate"
    assert not any(" @ " in d for d in component["project"]["dependencies"]), \
        "the component package must stay publishable: no direct references"
    pack = {p.relative_to(PROJECT / "policy").as_posix()
            for p in (PROJECT / "policy").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert {f"shipyard_preview/policy/{p}" for p in pack} <= names
    assert {"shipyard_preview/prices.json", "shipyard_preview/plan.schema.json"} <= names
