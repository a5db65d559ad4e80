"""GIVEN a program of one's own that builds ContainerService and Network directly WHEN an
argument carries a value AWS would refuse THEN the component raises ConfigError naming the
argument and the value before anything is registered, and `shipyard preview` of that program
exits 2 with that one line. The same classes as test_refused_before_aws.py, without the stack
config loader in between."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT
from shipyard.errors import ConfigError

from shipyard_preview.engine import run_program
from shipyard_preview.stack_config import load_stack_config

PIN = "public.ecr.aws/nginx/nginx-unprivileged@sha256:" + "c" * 64
PROGRAM = '''
import json
import pulumi
import pulumi_aws as aws
from shipyard import ContainerService, Network

config = pulumi.Config()
provider = aws.Provider("aws", region="eu-west-1")
network = Network("net", json.loads(config.get("network") or "{}"),
                  opts=pulumi.ResourceOptions(providers=[provider]))
args = {"vpc_id": network.vpc_id, "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids,
        "containers": [{"name": "web", "image": "PINNED_IMAGE", "port": 8080}],
        **json.loads(config.get("service") or "{}")}
ContainerService(config.get("name") or "web", args,
                 opts=pulumi.ResourceOptions(providers=[provider]))
'''.replace("PINNED_IMAGE", PIN)
OTHER_ACCOUNT_SECRET = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:db-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("own")
    (root / "Pulumi.yaml").write_text(
        "name: own\nruntime: python\nconfig:\n"
        "  network: {type: string, default: ''}\n  service: {type: string, default: ''}\n"
        "  name: {type: string, default: ''}\n")
    (root / "__main__.py").write_text(PROGRAM)
    return root


def stack(project: Path, **config: object) -> None:
    lines = ["config:", "  aws:region: eu-west-1"]
    lines += [f"  own:{key}: '{json.dumps(value) if not isinstance(value, str) else value}'"
              for key, value in config.items()]
    (project / "Pulumi.dev.yaml").write_text("\n".join(lines) + "\n")


def refused(project: Path, **config: object) -> ConfigError:
    """The refusal, after checking that the refusing component registered nothing."""
    stack(project, **config)
    with pytest.raises(ConfigError) as raised:
        run_program(project, load_stack_config(project, "dev"))
    # Nothing of the refusing component; what the program made before it may be registered
    # (the provider an account check asks through, the network before the service).
    assert not [r.urn for r in raised.value.registered_before_failure
                if "shipyard:index:ContainerService" in r.urn
                or ("network" in config and r.type != "pulumi:providers:aws")]
    return raised.value


def secrets(source: dict) -> dict:
    return {"containers": [{"name": "web", "image": PIN, "port": 8080,
                            "secrets": {"DB": source}}]}


@pytest.mark.parametrize(("config", "setting", "value"), [
    ({"name": "internal"}, "name", "internal"),
    ({"name": "internal-api"}, "name", "internal-api"),
    ({"service": {"vpc_id": "vpc-12345"}}, "vpc_id", "vpc-12345"),
    ({"service": {"public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0a1a1a1a"]}},
     "public_subnet_ids", "subnet-0a1a1a1a"),
    ({"service": {"private_subnet_ids": ["subnet-zz"]}}, "private_subnet_ids[0]", "subnet-zz"),
    ({"service": {"extra_security_group_ids": ["sg-1"]}}, "extra_security_group_ids[0]", "sg-1"),
    ({"service": {"certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/x"}},
     "certificate_arn", "arn:aws:acm:eu-west-1:1:certificate/x"),
    ({"service": secrets({"arn": OTHER_ACCOUNT_SECRET})}, "containers[0].secrets.DB.arn",
     OTHER_ACCOUNT_SECRET),
    ({"service": secrets({"arn": OTHER_ACCOUNT_SECRET,
                          "kms_key_arn": KEY.replace("eu-west-1", "us-east-1")})},
     "containers[0].secrets.DB.kms_key_arn", KEY.replace("eu-west-1", "us-east-1")),
    ({"service": {"containers": [{"name": "web", "image": "nginx:1.27", "port": 8080}]}},
     "containers[0].image", "nginx:1.27"),
    ({"network": {"az_count": 4}}, "net.args.az_count", 4),
    ({"network": {"vpc_id": "vpc-0123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
                  "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}},
     "net.args.vpc_id", "vpc-0123"),
    ({"network": {"vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a"] * 2,
                  "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}},
     "net.args.public_subnet_ids", "subnet-0a1a1a1a"),
], ids=lambda item: str(item)[:40] if not isinstance(item, dict) else None)
def test_the_component_refuses_before_registering_anything(project, config, setting, value):
    error = refused(project, **config)
    assert (error.setting, error.value) == (setting, value)


def test_a_secret_of_another_account_with_its_key_is_accepted(project):
    stack(project, service=secrets({"arn": OTHER_ACCOUNT_SECRET, "kms_key_arn": KEY}))
    recording = run_program(project, load_stack_config(project, "dev"))
    definitions = json.loads(next(
        r for r in recording.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"
    ).properties["containerDefinitions"])
    assert definitions[0]["secrets"] == [{"name": "DB", "valueFrom": OTHER_ACCOUNT_SECRET}]


def test_shipyard_preview_of_the_program_exits_2_with_one_line(project):
    stack(project, name="internal")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "shipyard"), "preview", "dev", "--project-dir",
         str(project), "--no-policy"], capture_output=True, text=True, cwd=PROJECT, timeout=300)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: name: 'internal' is not valid; its load balancer "
                                    "would be named like 'internal-alb-xxxxxxx' begins with "
                                    "'internal-'")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
