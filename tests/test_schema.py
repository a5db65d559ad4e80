"""The schema other languages get: start the component provider as the engine does (run
components/__main__.py, read its port from the first line of stdout, speak the ResourceProvider
gRPC protocol), call GetSchema, and check every argument's type, requiredness, description and
default against the one place they are written (the args TypedDicts' docstrings) and against
what the parser really applies.

The engine launches a provider plugin with the engine's address as its one argument and reads
`<port>\\n` from its stdout (pulumi/provider/server.py `main`); `pulumi package add` then calls
GetSchema(version=0) to generate the SDK (pkg/cmd/pulumi/packages)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import NotRequired, TypedDict

import grpc
import pytest
import yaml
from conftest import PROJECT
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from shipyard import argument_docs, readme
from shipyard.access_logs import AccessLogBucketArgs
from shipyard.cluster import FargateClusterArgs
from shipyard.container_service import ContainerService
from shipyard.network import NetworkArgs, parse_network_args
from shipyard.spec import ContainerArgs, ContainerServiceArgs, SecretArgs, parse_service_args

COMPONENTS_DIR = PROJECT / "components"
TOKEN = "shipyard:index:{}"

# The public contract, pinned: a change here is a change every SDK user sees. Schema type per
# argument: a JSON type, `ref:<Type>`, `array<...>`, `map<...>`; `input` marks a pulumi.Input
# (it may be an Output of another resource); every other argument is a plain value, because the
# component validates it before registering anything.
CONTAINER_SERVICE_INPUTS = {
    "containers": "array<ref:ContainerArgs>",
    "cpu": "integer",
    "memory": "integer",
    "architecture": "string",
    "spot": "boolean",
    "desiredCount": "integer",
    "minCount": "integer",
    "maxCount": "integer",
    "cpuTargetPercent": "integer",
    "requestsPerTarget": "integer",
    "healthCheckPath": "string",
    "healthCheckGracePeriodSeconds": "integer",
    "deregistrationDelaySeconds": "integer",
    "vpcId": "input string",
    "publicSubnetIds": "input array<string>",
    "privateSubnetIds": "input array<string>",
    "certificateArn": "string",
    "ingressCidrs": "array<string>",
    "deletionProtection": "boolean",
    "accessLogsBucket": "input string",
    "logRetentionDays": "integer",
    "imagesToKeep": "integer",
    "protectStateful": "boolean",
    "enableExecuteCommand": "boolean",
    "taskRoleStatements": "array<map<any>>",
    "clusterArn": "input string",
    "clusterName": "input string",
    "sourceVersion": "string",
    "scanMaxCritical": "integer",
    "scanMaxHigh": "integer",
    "scanTimeoutSeconds": "integer",
    "permissionsBoundaryArn": "string",
    "tags": "map<string>",
    "redeployToken": "string",
    "topology": "string",
    "loadBalancer": "any",
    "serviceConnectNamespace": "input string",
    "serviceConnectAlias": "string",
    "callers": "map<string>",
    "egress": "array<map<any>>",
    "extraSecurityGroupIds": "array<string>",
    "scalingMetric": "map<any>",
    "deployment": "map<any>",
    "rollbackAlarms": "boolean",
    "waf": "map<any>",
    "dns": "map<string>",
}
CONTAINER_SERVICE_REQUIRED = ["containers", "privateSubnetIds", "publicSubnetIds", "vpcId"]
CONTAINER_ARGS = {
    "name": "string", "source": "string", "dockerfile": "string", "buildArgs": "map<string>",
    "image": "input string", "port": "integer", "command": "array<string>",
    "environment": "map<string>", "secrets": "map<ref:SecretArgs>",
    "scratchPaths": "array<string>", "user": "string", "essential": "boolean",
    "healthCheckCommand": "array<string>", "dependsOn": "array<map<string>>",
    "firelens": "map<any>", "logRouterOptions": "map<string>",
}
SECRET_ARGS = {"value": "input string", "arn": "string", "jsonKey": "string",
               "kmsKeyArn": "string"}
CONTAINER_SERVICE_OUTPUTS = {
    "url": "string", "securityGroupId": "string", "imageDigests": "map<string>",
    "repositoryUrls": "map<string>",
    "clusterArn": "string", "clusterName": "string", "serviceName": "string",
    "rolloutBoundSeconds": "integer", "logGroupName": "string",
    "taskDefinitionFamily": "string", "taskDefinitionArn": "string",
    "executionRoleArn": "string", "taskRoleArn": "string",
}
FARGATE_CLUSTER_INPUTS = {"containerInsights": "string"}
NETWORK_INPUTS = {
    "azCount": "integer", "natGateways": "string", "cidrBlock": "string",
    "vpcEndpoints": "boolean", "flowLogs": "boolean", "flowLogRetentionDays": "integer",
    "protect": "boolean", "permissionsBoundaryArn": "string", "vpcId": "input string",
    "publicSubnetIds": "input array<string>", "privateSubnetIds": "input array<string>",
}
ACCESS_LOG_BUCKET_INPUTS = {"prefixes": "array<string>", "expireAfterDays": "integer",
                            "protect": "boolean", "region": "string"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def words(text: str) -> str:
    return " ".join(text.split())


def describe(prop: dict, *, top: bool = True) -> str:
    """A schema property as `[input ]<type>`; nested element types are always plain here."""
    prefix = "input " if top and not prop.get("plain") else ""
    if "$ref" in prop:
        ref = prop["$ref"]
        kind = "any" if ref == "pulumi.json#/Any" else "ref:" + ref.rsplit(":", 1)[-1]
    elif prop["type"] == "array":
        kind = f"array<{describe(prop['items'], top=False)}>"
    elif prop["type"] == "object" and "additionalProperties" in prop:
        kind = f"map<{describe(prop['additionalProperties'], top=False)}>"
    else:
        kind = prop["type"]
    return prefix + kind


def uv() -> str:
    # ./dev installs the pinned uv in .tools/ beside the environment running these tests.
    tools = os.pathsep.join(str(root / ".tools" / "bin")
                            for root in (PROJECT, Path(sys.prefix).parent))
    found = shutil.which("uv", path=tools) or shutil.which("uv")
    assert found, "uv is needed to install the plugin's environment; run ./dev test once"
    return found


def plugin_environment() -> Path:
    """The environment the CLI gives the plugin: PulumiPlugin.yaml says toolchain uv with
    virtualenv .venv, so the language host runs `uv sync` in components/ into components/.venv
    (pulumi/pulumi sdk/python/toolchain/uv.go) - the component package's own dependencies from
    uv.lock, without the policy SDK, the preview tool or the Pulumi Cloud provider."""
    venv = COMPONENTS_DIR / ".venv"
    subprocess.run([uv(), "sync", "--locked", "--no-dev", "--no-compile-bytecode", "--quiet"],
                   cwd=COMPONENTS_DIR, check=True,
                   env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)})
    return venv


class ProviderProcess:
    """The provider plugin as the engine runs it: `python <plugin dir> <engine address>`, with
    the plugin's own environment."""

    def __init__(self, python: Path) -> None:
        # Bytecode is written on the first run so later runs start faster.
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        # No engine is listening there; GetSchema and GetPluginInfo do not call back.
        self.process = subprocess.Popen(
            [str(python), str(COMPONENTS_DIR), "127.0.0.1:1"], cwd=COMPONENTS_DIR,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            _, stderr = self.process.communicate(timeout=10)
            raise AssertionError(f"provider did not print its port: {line!r}\n{stderr}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def plugin_venv() -> Path:
    return plugin_environment()


@pytest.fixture(scope="module")
def provider(plugin_venv: Path) -> Iterator[ProviderProcess]:
    running = ProviderProcess(plugin_venv / "bin" / "python")
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def schema(provider: ProviderProcess) -> dict:
    response = provider.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
    return json.loads(response.schema)


def resource(schema: dict, component: str) -> dict:
    return schema["resources"][TOKEN.format(component)]


def test_plugin_info_reports_the_package_version(provider):
    info = provider.stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    pyproject = tomllib.loads((COMPONENTS_DIR / "pyproject.toml").read_text())
    assert info.version == pyproject["project"]["version"]


def test_schema_names_the_package_and_serves_every_component(schema):
    assert schema["name"] == "shipyard"
    assert sorted(schema["resources"]) == sorted(TOKEN.format(c) for c in (
        "ContainerService", "Network", "FargateCluster", "AccessLogBucket"))
    assert all(r["isComponent"] for r in schema["resources"].values())
    assert sorted(schema["types"]) == [TOKEN.format("ContainerArgs"), TOKEN.format("SecretArgs")]


def test_container_service_arguments_required_and_optional(schema):
    service = resource(schema, "ContainerService")
    inputs = service["inputProperties"]
    assert service["requiredInputs"] == CONTAINER_SERVICE_REQUIRED
    optional = sorted(set(inputs) - set(CONTAINER_SERVICE_REQUIRED))
    # The counts the closing note reports.
    assert (len(service["requiredInputs"]), len(optional)) == (4, 42)


@pytest.mark.parametrize(("schema_type", "args_type", "expected"), [
    ("ContainerService", ContainerServiceArgs, CONTAINER_SERVICE_INPUTS),
    ("ContainerArgs", ContainerArgs, CONTAINER_ARGS),
    ("SecretArgs", SecretArgs, SECRET_ARGS),
    ("FargateCluster", FargateClusterArgs, FARGATE_CLUSTER_INPUTS),
    ("Network", NetworkArgs, NETWORK_INPUTS),
    ("AccessLogBucket", AccessLogBucketArgs, ACCESS_LOG_BUCKET_INPUTS),
])
def test_every_argument_type_requiredness_description_and_default(schema, schema_type, args_type,
                                                                   expected):
    if schema_type in ("ContainerArgs", "SecretArgs"):
        declared = schema["types"][TOKEN.format(schema_type)]
        properties, required = declared["properties"], declared.get("required") or []
    else:
        declared = resource(schema, schema_type)
        properties, required = declared["inputProperties"], declared["requiredInputs"]
    documented = argument_docs.arguments(args_type)
    assert list(properties) == list(expected), (
        f"{schema_type}: arguments differ from the pinned contract; a new argument needs its "
        "row here (and its docstring with a default)")
    assert {camel(n) for n in documented} == set(properties)
    for name, arg in documented.items():
        prop = properties[camel(name)]
        where = f"{schema_type}.{camel(name)}"
        assert describe(prop) == expected[camel(name)], where
        assert (camel(name) in required) == arg.required, where
        assert words(prop["description"]) == words(arg.description), where
        if arg.required:
            assert prop["description"].endswith("Required."), where
        else:
            assert re.search(r"Default: \S", prop["description"]), where


def test_container_service_defaults_are_what_the_parser_applies():
    """The default a TypeScript user reads in the schema is the value a service gets."""
    minimal = {"containers": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27@sha256:" + "1" * 64,
                               "port": 8080}],
               "vpc_id": "vpc-11111111", "public_subnet_ids": ["subnet-aaaaaaaa"],
               "private_subnet_ids": ["subnet-bbbbbbbb"]}
    spec = parse_service_args("web", minimal)
    documented = argument_docs.arguments(ContainerServiceArgs)
    with_value = {n: a.default for n, a in documented.items()
                  if a.default is not argument_docs.NO_VALUE}
    absent = sorted(n for n, a in documented.items()
                    if not a.required and a.default is argument_docs.NO_VALUE)
    assert with_value == {
        "cpu": 256, "memory": 512, "architecture": "X86_64", "spot": False,
        "desired_count": 2, "min_count": 2, "max_count": 4, "cpu_target_percent": 60,
        "requests_per_target": 500, "health_check_path": "/healthz",
        "health_check_grace_period_seconds": 30, "deregistration_delay_seconds": 15,
        "ingress_cidrs": ["0.0.0.0/0"], "deletion_protection": False, "log_retention_days": 30,
        "images_to_keep": 20, "protect_stateful": False, "enable_execute_command": False,
        "task_role_statements": [], "source_version": "unversioned", "scan_max_critical": 0,
        "scan_max_high": 5, "scan_timeout_seconds": 900, "tags": {},
        "topology": "public", "rollback_alarms": True}
    applied_by_topology = {"topology": spec.topology.kind,
                           "rollback_alarms": spec.topology.rollback_alarms}
    for name, value in with_value.items():
        applied = applied_by_topology[name] if name in applied_by_topology else getattr(spec, name)
        assert (list(applied) if isinstance(applied, tuple) else applied) == value, name
    assert absent == ["access_logs_bucket", "callers", "certificate_arn", "cluster_arn",
                      "cluster_name", "deployment", "dns", "egress", "extra_security_group_ids",
                      "load_balancer", "permissions_boundary_arn", "redeploy_token",
                      "scaling_metric",
                      "service_connect_alias", "service_connect_namespace", "waf"]
    for name in absent:
        if name not in applied_by_topology and hasattr(spec, name):
            assert getattr(spec, name) is None, name

    container = spec.containers[0]
    for name, value in argument_docs.defaults(ContainerArgs).items():
        applied = getattr(container, name)
        if name == "secrets":
            assert applied == (), name
        else:
            assert (list(applied) if isinstance(applied, tuple) else applied) == value, name


def test_container_service_outputs_are_typed_and_described(schema):
    service = resource(schema, "ContainerService")
    outputs = service["properties"]
    assert {name: describe(prop, top=False) for name, prop in outputs.items()} == \
        CONTAINER_SERVICE_OUTPUTS
    assert service["required"] == sorted(CONTAINER_SERVICE_OUTPUTS)
    documented = argument_docs.outputs(ContainerService)
    for name, (_, doc) in documented.items():
        assert words(outputs[camel(name)]["description"]) == words(doc), name
        assert doc, f"output {name} has no description"


@pytest.mark.parametrize("component", ["ContainerService", "Network", "FargateCluster",
                                       "AccessLogBucket"])
def test_every_component_argument_and_output_is_described(schema, component):
    declared = resource(schema, component)
    assert declared.get("description"), component
    for kind in ("inputProperties", "properties"):
        for name, prop in declared[kind].items():
            assert prop.get("description"), f"{component}.{name} ({kind}) has no description"
            if kind == "inputProperties" and name not in declared["requiredInputs"]:
                assert "Default: " in prop["description"], f"{component}.{name}: no default"


def test_the_plugin_environment_holds_only_the_component_packages_dependencies(plugin_venv):
    probe = ("import importlib.util as u; print(' '.join(m for m in ('pulumi_policy', "
             "'shipyard_preview', 'pulumi_pulumiservice', 'pytest') if u.find_spec(m)))")
    result = subprocess.run([str(plugin_venv / "bin" / "python"), "-c", probe],
                            cwd=COMPONENTS_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_plugin_is_a_python_component_package():
    manifest = yaml.safe_load((COMPONENTS_DIR / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert (COMPONENTS_DIR / "__main__.py").is_file()
    # The package stands on its own: no policy SDK, no Pulumi Cloud provider, no preview tool.
    pyproject = tomllib.loads((COMPONENTS_DIR / "pyproject.toml").read_text())
    names = {re.split(r"[<>=\[ ]", d, maxsplit=1)[0] for d in pyproject["project"]["dependencies"]}
    # No awsx: the network is built from pulumi-aws resources (docs/component.md, "Network").
    assert names == {"pulumi", "pulumi-aws", "pulumi-docker", "boto3"}
    assert (COMPONENTS_DIR / "shipyard" / "py.typed").is_file()


def test_the_provider_entry_point_type_checks():
    # components/__main__.py is a second module named __main__: checked on its own.
    result = subprocess.run([str(Path(sys.executable).parent / "mypy"), "__main__.py"],
                            cwd=COMPONENTS_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


class Undocumented(TypedDict):
    size: NotRequired[int]


class WithoutDefault(TypedDict):
    size: NotRequired[int]
    """How big."""


class Documented(TypedDict):
    name: str
    """What it is called. Required."""
    size: NotRequired[int]
    """How big. Default: 3 (small)."""
    label: NotRequired[str]
    """Shown to people. Default: none (the name)."""


def test_network_defaults_are_what_the_parser_applies():
    """The parser writes its defaults as literals (no docstring parsing at program start, which
    costs ~17 ms); this holds them to the documented ones."""
    spec = parse_network_args({}, "network")
    documented = {n: a.default for n, a in argument_docs.arguments(NetworkArgs).items()
                  if a.default is not argument_docs.NO_VALUE}
    assert documented == {"az_count": 2, "nat_gateways": "single", "cidr_block": "10.0.0.0/16",
                          "vpc_endpoints": False, "flow_logs": False,
                          "flow_log_retention_days": 365, "protect": False}
    assert {name: getattr(spec, name) for name in documented} == documented


def test_an_argument_without_a_docstring_or_a_default_is_refused():
    with pytest.raises(ValueError, match=r"argument Undocumented.size has no docstring"):
        argument_docs.arguments(Undocumented)
    with pytest.raises(ValueError, match=r"'WithoutDefault.size' does not state its default"):
        argument_docs.arguments(WithoutDefault)


def test_a_default_is_a_json_literal_or_prose_for_absent():
    documented = argument_docs.arguments(Documented)
    assert [(a.name, a.required, a.default, a.default_text) for a in documented.values()] == [
        ("name", True, argument_docs.NO_VALUE, "required"),
        ("size", False, 3, "3 (small)"),
        ("label", False, argument_docs.NO_VALUE, "none (the name)")]
    assert argument_docs.defaults(Documented) == {"size": 3}
    assert argument_docs.markdown_table(Documented).splitlines()[2:] == [
        "| `name` | `str` | **required** | What it is called. |",
        "| `size` | `int` | `3` (small) | How big. |",
        "| `label` | `str` | none (the name) | Shown to people. |"]


def test_reference_argument_tables_are_generated_from_the_docstrings():
    text = (PROJECT / "docs" / "component.md").read_text()
    assert "<!-- arguments: ContainerServiceArgs -->" in text
    assert readme.render_readme(text) == text, (
        "docs/component.md argument tables drifted from the TypedDict docstrings; run "
        "`.venv/bin/python -m shipyard.readme docs/component.md`")


def test_readme_generation_replaces_only_the_marked_tables():
    text = ("intro\n<!-- arguments: FargateClusterArgs -->\nstale\n<!-- /arguments -->\noutro\n")
    rendered = readme.render_readme(text)
    assert rendered.startswith("intro\n<!-- arguments: FargateClusterArgs -->\n| argument |")
    assert rendered.endswith("<!-- /arguments -->\noutro\n")
    assert "`container_insights` | `str` | `\"enhanced\"` |" in rendered

