"""A platform team adopts the repository: it replaces the sample service with its own app on
another port, adds a second service and changes the sizes, in the stack files only, as the
README says. The tests of the shipped stacks must stay green, because they assert what holds for
any valid config; the sample's own assertions live in fixture configs.

This copies the repository (the files git tracks or would track, so uncommitted work is
included), makes those edits and commits them in a fresh git repository (test_no_churn reads
the history), and runs in the copy, with this environment, every test that reads the committed
stack files, directly or through the delivery or artifacts program; the others run frozen
fixture configs and cannot see the edit. The whole suite runs twice as long; the guard test
keeps the list complete instead."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT, SAMPLE

# The tests that read the committed stack files (directly, through conftest's `committed`
# fixture or built_from_source, or through the delivery and artifacts programs and
# shipyard_delivery, which read Pulumi.<stack>.yaml beside the program) or lint what a team
# adds. Every other test runs the frozen sample configs (conftest.SAMPLE) or no stack at all;
# test_the_subset_covers_every_test_that_reads_the_stacks keeps this list honest.
ADOPTION_SUBSET = [
    "tests/test_shipped_stacks.py",
    "tests/test_stack_config.py",
    "tests/test_delivery.py",
    "tests/test_delivery_repositories.py",
    "tests/test_delivery_artifacts.py",
    "tests/test_delivery_permissions.py",
    "tests/test_delivery_service_connect_dns.py",
    "tests/test_delivery_app_stacks.py",
    "tests/test_delivery_input.py",
    "tests/test_delivery_run.py",
    "tests/test_delivery_prefixes.py",
    "tests/test_dynamic_provider_calls.py",
    "tests/test_access_report.py",
    "tests/test_iam_seams.py",
    "tests/test_effective_permissions.py",
    "tests/test_role_ordering.py",
    "tests/test_iam_evaluator_agrees.py",
    "tests/test_workload_boundary.py",
    "tests/test_no_churn.py",
    "tests/test_day_two_drift_wiring.py",
    "tests/test_workflows.py",
    "tests/test_code_quality.py::test_ruff",
    # Every container of the adopted stacks starts as its image documents it (the FireLens
    # grant check needs the simulator's node_modules, which a fresh copy does not have).
    *(f"tests/test_examples_start.py::{test}" for test in (
        "test_every_container_runs_as_a_user_its_image_supports",
        "test_a_digest_of_one_platform_runs_on_that_platform",
        "test_the_declared_port_is_the_port_the_image_listens_on",
        "test_every_path_the_image_writes_is_a_volume_its_user_may_write",
        "test_every_log_destination_exists_in_the_same_stack",
        "test_the_sample_app_answers_on_every_port_the_stacks_give_it_and_writes_nothing")),
]
# How a test module reaches the root stack files: by path, through the stack config loader or
# conftest's helpers (or role_stacks, which runs them), through the delivery program
# (delivery_mocks.delivery_run), the artifacts program or the shipyard_delivery package
# (app_stacks reads the stack files beside the program), or by copying the repository (git
# ls-files).
READS_THE_STACKS = re.compile(
    r"PROJECT\s*/\s*f?[\"']Pulumi\.(?:\{|staging|prod)|load_stack_config\(\s*PROJECT"
    r"|\bcommitted_stack_config\b|\bbuilt_from_source\b|def test_\w+\([^)]*\bcommitted\b"
    r"|\bdelivery_run\b|\bdelivery_mocks\b|\bshipyard_delivery\b|\brole_stacks\b"
    r"|PROJECT\s*/\s*[\"'](?:artifacts|delivery)\b|\bls-files\b|cwd=PROJECT")
# Modules that run in the project directory but read no stack file.
READS_NO_STACK = {
    "tests/test_rules_table.py": "the policy pack's rules only",
    "tests/test_code_quality.py": "mypy checks the program's own files (pyproject [tool.mypy])",
    "tests/test_refused_by_the_component.py": "a program of its own; runs the shipyard command "
                                              "from the project directory",
}
# The merge workflow's path filter follows the stack files through `./dev delivery-files`.
WORKFLOW = ".github/workflows/main.yml"
# The team's own alias record per stack (a hosted zone of its own).
SHOP_ZONE = "Z0123456789SHOPZONE1"
SHOP_IMAGE_DIGEST = "sha256:" + "5e" * 32
CATALOG_IMAGE = f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/catalog@sha256:{'ca' * 32}"
SHOP_SERVER = textwrap.dedent('''\
    """The adopting team's own service."""
    import http.server
    import os


    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()


    http.server.ThreadingHTTPServer(("", int(os.environ["SHOP_PORT"])), Handler).serve_forever()
    ''')
SHOP_DOCKERFILE = textwrap.dedent(f'''\
    FROM python@{SHOP_IMAGE_DIGEST}
    WORKDIR /srv
    COPY main.py ./
    RUN mkdir -p /var/cache/shop && chown 20001:20001 /var/cache/shop
    USER 20001:20001
    VOLUME ["/var/cache/shop"]
    EXPOSE 9000
    CMD ["python", "main.py"]
    ''')


IMAGE_NEEDS = textwrap.indent(textwrap.dedent(f"""\
      shop:
        doc: shop/Dockerfile and shop/main.py (the port in SHOP_PORT; writes /var/cache/shop)
        listens: {{env: SHOP_PORT}}
        writes: [/var/cache/shop]
      {CATALOG_IMAGE}:
        doc: the catalog team's image (listens on 3000; /tmp is a VOLUME, mode 1777)
        listens: {{port: 3000}}
        writes: [/tmp]
        volumes: {{/tmp: any}}
    """), "  ")


def copy_repository(destination: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT, capture_output=True, check=True).stdout
    for relative in filter(None, listed.decode().split("\0")):
        source, target = PROJECT / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # the sample fixtures link to the project's Pulumi.yaml, policy/
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)
    return destination


def shop_service(environment: str) -> list[dict]:
    """The team's services: shop (from its own source, with a DNS name) and catalog (a prebuilt
    image) in both stacks, and search, tried in staging before it goes to prod."""
    prod = environment == "prod"
    search = [] if prod else [
        {"name": "search", "cpu": 256, "memory": 512, "health_check_path": "/health",
         "containers": [{"name": "search", "source": "shop", "port": 9000,
                         "user": "20001:20001", "scratch_paths": ["/var/cache/shop"],
                         "environment": {"SHOP_PORT": "9000"}}]}]
    return [
        {"name": "shop", "cpu": 1024 if prod else 512, "memory": 2048 if prod else 1024,
         "desired_count": 4 if prod else 1, "min_count": 4 if prod else 1,
         "max_count": 20 if prod else 3, "health_check_path": "/health",
         "dns": {"zone_id": SHOP_ZONE,
                 "name": "shop.example.com" if prod else "shop.staging.example.com"},
         "containers": [{
             "name": "shop", "source": "shop", "port": 9000, "user": "20001:20001",
             "scratch_paths": ["/var/cache/shop"],
             "environment": {"SHOP_PORT": "9000", "SHOP_MODE": "live"},
             "secrets": {"PAYMENT_KEY": {"config": "payment_key"}},
         }]},
        {"name": "catalog", "cpu": 256, "memory": 1024, "desired_count": 2, "min_count": 2,
         "max_count": 4, "health_check_path": "/status",
         "containers": [{"name": "catalog", "image": CATALOG_IMAGE, "port": 3000,
                         "scratch_paths": ["/tmp"]}]},
        *search,
    ]


def adopt(repository: Path) -> None:
    """The edits an adopting team makes, as docs/adoption.md says: its app, its services and
    sizes, its secret, in the stack files; then `./dev delivery-files` brings the merge
    workflow's path filter and the deployment contexts in step with them."""
    shop = repository / "shop"
    shop.mkdir()
    (shop / "main.py").write_text(SHOP_SERVER)
    (shop / "Dockerfile").write_text(SHOP_DOCKERFILE)
    for stack in ("staging", "prod"):
        path = repository / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        config = document["config"]
        config["shipyard:services"] = shop_service(stack)
        for key in [k for k in config if k == "shipyard:api_token"]:
            del config[key]
        config["shipyard:payment_key"] = {"secure": "v1:REPLACE-WITH-pulumi-config-set-secret"}
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    # What the team's images need to start, for tests/test_examples_start.py.
    with open(repository / "tests" / "image_needs.yaml", "a") as needs:
        needs.write(IMAGE_NEEDS)
    files = subprocess.run(
        [sys.executable, "-m", "shipyard_preview.cli", "delivery-files", "--project-dir",
         str(repository)], env=copy_environment(repository), capture_output=True, text=True,
        timeout=300)
    assert files.returncode == 0, files.stdout + files.stderr
    assert files.stdout.splitlines() == [f"wrote {WORKFLOW}", "wrote delivery/deployment-context.json"]


def copy_environment(repository: Path) -> dict[str, str]:
    """This environment, with the copy's own component package, preview tool and delivery
    package first (the environment installs this worktree's in editable mode)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment["PYTHONPATH"] = os.pathsep.join(
        str(repository / part) for part in ("components", ".", "delivery"))
    return environment


def commit(repository: Path) -> None:
    """The adopted copy as a repository of its own, everything committed."""
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "adopt"]):
        subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com",
                        "-c", "commit.gpgsign=false", *args], cwd=repository, check=True,
                       capture_output=True)


@pytest.fixture(scope="module")
def adopted(tmp_path_factory) -> Path:
    repository = copy_repository(tmp_path_factory.mktemp("adopted") / "shipyard")
    # The IAM simulator's installed packages, like the Python environment, are this worktree's.
    (repository / "iam-simulator" / "node_modules").symlink_to(
        PROJECT / "iam-simulator" / "node_modules")
    adopt(repository)
    commit(repository)
    return repository


def test_the_adopted_stacks_are_what_the_team_configured(adopted):
    for stack in ("staging", "prod"):
        services = yaml.safe_load((adopted / f"Pulumi.{stack}.yaml").read_text())[
            "config"]["shipyard:services"]
        assert [s["name"] for s in services] == (["shop", "catalog", "search"]
                                                 if stack == "staging" else ["shop", "catalog"])
        assert "web" not in json.dumps(services)
    paths = yaml.safe_load((adopted / WORKFLOW).read_text())[True]["push"]["paths"]
    assert "shop/**" in paths and "app/**" not in paths
    status = subprocess.run(["git", "status", "--porcelain"], cwd=adopted, check=True,
                            capture_output=True, text=True).stdout
    assert status == ""


def test_the_suite_stays_green_after_adoption(adopted):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", *ADOPTION_SUBSET],
        cwd=adopted, capture_output=True, text=True, env=copy_environment(adopted), timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


def test_the_subset_covers_every_test_that_reads_the_stacks():
    modules = {f"tests/{path.name}" for path in (PROJECT / "tests").glob("test_*.py")
               if READS_THE_STACKS.search(path.read_text())}
    subset = {entry.split("::")[0] for entry in ADOPTION_SUBSET}
    assert modules - subset - set(READS_NO_STACK) - {"tests/test_adoption.py"} == set()
    assert subset <= modules  # every entry still reads the stacks (or lints what a team adds)


def test_the_guard_sees_each_way_a_module_reaches_the_stacks():
    for line in ('from delivery_mocks import delivery_run',
                 'from shipyard_delivery.app_stacks import read_app_stack',
                 'ARTIFACTS = PROJECT / "artifacts"', 'DELIVERY = PROJECT / "delivery"',
                 'built = built_from_source("prod")', 'config = committed_stack_config(s)',
                 'load_stack_config(PROJECT, "prod")', '(PROJECT / "Pulumi.prod.yaml")',
                 'PROJECT / f"Pulumi.{stack}.yaml"', 'git ls-files', 'cwd=PROJECT',
                 'def test_x(committed):', 'from role_stacks import recording'):
        assert READS_THE_STACKS.search(line), line
    for line in ('load_stack_config(SAMPLE, "prod")', 'run_stack("staging")',
                 '(SAMPLE / "Pulumi.staging.yaml")'):
        assert not READS_THE_STACKS.search(line), line


@pytest.mark.parametrize("stack", ["staging", "prod", "fullstack"])
def test_the_sample_fixture_is_the_shipped_sample_while_it_ships(stack):
    """A change to the sample in the root stack file (before anyone adopts the repository) must
    reach the frozen copy the sample-specific tests run, or they test a stale stack."""
    root_file = PROJECT / f"Pulumi.{stack}.yaml"
    root = root_file.read_text() if root_file.is_file() else ""
    fixture = (SAMPLE / f"Pulumi.{stack}.yaml").read_text()
    shipped = fixture.split("\n", 3)[3].split("\n", 1)[0]  # the shipped file's first line
    if "source: app\n" in root and root.startswith(shipped):  # still what the repository ships
        assert fixture.split("\n", 3)[3] == root, (
            f"tests/fixtures/sample/Pulumi.{stack}.yaml differs from Pulumi.{stack}.yaml; copy "
            "the root file below the fixture's three header lines")
