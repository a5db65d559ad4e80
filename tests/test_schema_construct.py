"""What a TypeScript, Go or YAML program's arguments become in the provider: a ContainerService
constructed from inputs encoded as they reach the provider's Construct call, under the offline
mocks.

The inputs go through the provider server's own decoding (`ProviderServicer._construct_inputs`,
pulumi/provider/server.py) and the component provider's mapping from schema names to Python
names (`ComponentProvider.construct`, pulumi/provider/experimental/component.py); numbers
arrive as floats, as on the wire. A secret from another language arrives as an output value
(the signature `d0e6a833...`) because the provider's Configure answers acceptOutputs=True."""

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest
from conftest import PROJECT, inputs, one, stack_config
from pulumi.provider.server import ComponentInitError
from shipyard.errors import ConfigError

from shipyard_preview.engine import run_program

SIG = "4dabf18193072939515e22adb298388d"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
IMAGE = "public.ecr.aws/nginx/nginx@sha256:" + "ab" * 32
TD = "aws:ecs/taskDefinition:TaskDefinition"

# The program: decode the Construct inputs as the provider server does, then construct with
# the provider components/__main__.py serves.
CONSTRUCT_PROGRAM = textwrap.dedent('''
    import asyncio
    import json
    import runpy

    import pulumi
    from google.protobuf import json_format, struct_pb2
    from pulumi.provider.server import ProviderServicer

    host = runpy.run_path({host!r}, run_name="provider_host")
    provider = host["provider"]()
    wire = json_format.ParseDict(json.loads({inputs!r}), struct_pb2.Struct())
    decoded = asyncio.get_event_loop().run_until_complete(
        ProviderServicer._construct_inputs(wire, {{}}))
    result = provider.construct("api", {token!r}, decoded, pulumi.ResourceOptions())
    for key, value in result.state.items():
        pulumi.export(key, value)
''')


def secret_output(value: str) -> dict:
    return {SIG: OUTPUT_VALUE_SIG, "value": value, "secret": True}


def wire_inputs(**changes) -> dict:
    """ContainerService inputs in schema (camelCase) names, numbers as floats."""
    base = {
        "containers": [{
            "name": "api", "image": IMAGE, "port": 8080.0, "scratchPaths": ["/tmp"],
            "environment": {"LOG_LEVEL": "info"},
            "secrets": {"API_TOKEN": {"value": secret_output("s3cr3t-from-typescript")}},
        }],
        "vpcId": "vpc-0123456789abcdef0",
        "publicSubnetIds": ["subnet-0a0a0a0a", "subnet-0b0b0b0b"],
        "privateSubnetIds": ["subnet-1a1a1a1a", "subnet-1b1b1b1b"],
        "cpu": 512.0, "memory": 1024.0, "minCount": 1.0, "desiredCount": 1.0,
        "certificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/abc-123",
    }
    return {**base, **changes}


def construct(tmp_path: Path, wire: dict, token: str = "shipyard:index:ContainerService"):
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    (program / "Pulumi.yaml").write_text("name: consumer\nruntime: yaml\n")
    (program / "__main__.py").write_text(CONSTRUCT_PROGRAM.format(
        host=str(PROJECT / "components" / "__main__.py"), inputs=json.dumps(wire), token=token))
    config = dataclasses.replace(stack_config("staging"), project="consumer", config={},
                                 secret_keys=[])
    return run_program(program, config)


def test_a_service_from_another_language_is_built_with_the_same_settings(tmp_path):
    recording = construct(tmp_path, wire_inputs())
    component = next(r for r in recording.resources if r.type == "shipyard:index:ContainerService")
    assert component.name == "api"
    task = one(recording, TD)
    # Floats on the wire became the integers the validator requires.
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    (container,) = json.loads(task["containerDefinitions"])
    assert container["image"] == IMAGE
    assert [m["containerPort"] for m in container["portMappings"]] == [8080]
    assert container["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert [s["name"] for s in container["secrets"]] == ["API_TOKEN"]
    # The secret went to Secrets Manager, still marked secret, and nowhere else in plain text.
    assert one(recording, "aws:secretsmanager/secretVersion:SecretVersion")["secretString"] == \
        "[secret]"
    everything = json.dumps({t: inputs(recording, t) for t in {r.type for r in recording.resources}})
    assert "s3cr3t-from-typescript" not in everything
    # The component's outputs reach the caller under their schema names.
    assert set(recording.outputs) == {"url", "securityGroupId", "imageDigests",
                                      "repositoryUrls", "clusterArn", "clusterName",
                                      "serviceName", "rolloutBoundSeconds", "logGroupName",
                                      "taskDefinitionFamily", "taskDefinitionArn",
                                      "executionRoleArn", "taskRoleArn"}
    assert recording.outputs["rolloutBoundSeconds"] == 25
    assert recording.outputs["imageDigests"] == {"api": IMAGE}
    assert recording.outputs["url"].startswith("https://")


def test_a_plain_string_secret_from_another_language_is_refused(tmp_path):
    wire = wire_inputs()
    wire["containers"][0]["secrets"] = {"API_TOKEN": {"value": "typed-in-plain-text"}}
    with pytest.raises(ComponentInitError) as raised:
        construct(tmp_path, wire)
    error = raised.value
    # The provider reports a user error (ComponentInitError) carrying the component's own.
    assert isinstance(error.inner, ConfigError)
    assert str(error.inner) == (
        "containers[0].secrets.API_TOKEN.value: '<plain value hidden>' is not valid; a secret "
        "Output such as pulumi.Config().require_secret(key) (set it with `pulumi config set "
        "--secret`), never a plain string")
    assert "typed-in-plain-text" not in str(error)
    assert error.registered_before_failure == []  # type: ignore[attr-defined]


def test_a_missing_required_argument_is_named_in_schema_terms(tmp_path):
    wire = wire_inputs()
    del wire["vpcId"]
    with pytest.raises(Exception, match="Missing required input 'vpcId' on 'ContainerService'"):
        construct(tmp_path, wire)


def test_helpers_are_constructed_from_their_args(tmp_path):
    recording = construct(tmp_path, {"prefixes": ["api"], "expireAfterDays": 30.0,
                                     "protect": False, "region": "eu-west-1"},
                          token="shipyard:index:AccessLogBucket")
    lifecycle = one(recording, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle["rules"][0]["expiration"] == {"days": 30}
    assert set(recording.outputs) == {"bucketName"}
    recording = construct(tmp_path, {"containerInsights": "enabled"},
                          token="shipyard:index:FargateCluster")
    cluster = one(recording, "aws:ecs/cluster:Cluster")
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_a_fractional_number_for_an_integer_is_refused_not_truncated(tmp_path):
    with pytest.raises(ComponentInitError) as raised:
        construct(tmp_path, wire_inputs(desiredCount=1.5))
    assert str(raised.value.inner) == ("desired_count: 1.5 is not valid; an integer from 0 to "
                                       "1000")
