"""Every type token and property the rules read exists in the provider SDKs this project pins
(pulumi-aws 7.51, pulumi-docker, pulumi-docker-build): a misspelt token or property would make a
rule silently judge nothing. The properties are the ones the rules were seen to read while
judging the mutation corpus (test_policy_never_crash.properties_read)."""

import re
from functools import cache
from pathlib import Path

import pulumi_aws
import pulumi_docker
import pulumi_docker_build
import pytest
from test_policy_never_crash import properties_read

SDKS = {"aws": pulumi_aws, "docker": pulumi_docker, "docker-build": pulumi_docker_build}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cache
def sdk_sources(package: str) -> dict[str, str]:
    """type token -> source of the module declaring that resource."""
    root = Path(SDKS[package].__file__).parent
    found: dict[str, str] = {}
    for path in root.rglob("*.py"):
        text = path.read_text()
        for token in re.findall(r"super\([^)]*\)\.__init__\(\s*'([^']+)'", text):
            found[token] = text
    return found


@pytest.mark.parametrize("type_token", sorted(properties_read()))
def test_tokens_and_properties_exist_in_the_sdk(type_token):
    source = sdk_sources(type_token.split(":", 1)[0]).get(type_token)
    assert source is not None, f"{type_token} is not a resource of the pinned SDK"
    for prop in properties_read()[type_token]:
        assert f'__props__.__dict__["{snake(prop)}"]' in source, f"{type_token}.{prop}"
