"""GIVEN the one function that names ECR repositories WHEN a name is computed THEN it is what ECR
accepts (its own API model says what that is) and every repository the program creates carries
it, so the delivery IAM can name each one exactly; a name ECR would refuse stops the program
before anything is registered."""

import re

import botocore.session
import pytest
from conftest import inputs, run_stack, services_of
from shipyard.errors import ConfigError
from shipyard.repository_names import (
    ALLOWED,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    NAME_PATTERN,
    artifact_repository_name,
    repository_arn,
    repository_name,
)

REPOSITORY = "aws:ecr/repository:Repository"


def test_the_rules_are_ecrs_own():
    """The installed botocore model of ECR (CreateRepository's repositoryName shape)."""
    model = botocore.session.get_session().get_service_model("ecr")
    shape = model.operation_model("CreateRepository").input_shape.members["repositoryName"]
    assert shape.metadata == {"min": NAME_MIN_LENGTH, "max": NAME_MAX_LENGTH,
                              "pattern": NAME_PATTERN.pattern}


def test_names_are_deterministic_and_distinct_per_stack():
    assert repository_name("shipyard", "staging", "web", "web") == "shipyard/staging/web/web"
    assert repository_name("shipyard", "prod", "web", "web") == "shipyard/prod/web/web"
    assert artifact_repository_name("shipyard", "web", "web") == "shipyard/web/web"
    # A service named like a stack still cannot collide: the parts differ in number.
    assert artifact_repository_name("shipyard", "staging", "web") != \
        repository_name("shipyard", "staging", "web", "web")
    assert repository_arn(region="eu-west-1", account="111122223333",
                          name="shipyard/prod/web/web") == \
        "arn:aws:ecr:eu-west-1:111122223333:repository/shipyard/prod/web/web"


@pytest.mark.parametrize(("args", "setting", "value"), [
    (("shipyard", "Staging", "web", "web"), "the Pulumi stack name", "Staging"),
    (("Shipyard", "prod", "web", "web"), "the Pulumi project name", "Shipyard"),
    (("shipyard", "prod", "web-", "web"), "shipyard:services[0].name", "web-"),
    (("shipyard", "prod", "web", "App"), "shipyard:services[0].containers.App.name", "App"),
    (("shipyard", "prod", "web", "a/b"), "shipyard:services[0].containers.a/b.name", "a/b"),
    (("shipyard", "prod", "web", "x" * 250), "shipyard:services[0].containers." + "x" * 250,
     "shipyard/prod/web/" + "x" * 250),
])
def test_a_name_ecr_refuses_is_a_config_error_naming_the_setting(args, setting, value):
    with pytest.raises(ConfigError) as raised:
        repository_name(*args, setting="shipyard:services[0]")
    assert raised.value.setting == setting
    assert raised.value.value == value
    assert raised.value.allowed == ALLOWED


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_repository_the_stack_creates_is_named_by_the_function(stack):
    """For any config: one repository per container built from source, each named
    `<project>/<stack>/<service>/<container>`."""
    recording = run_stack(stack)
    expected = sorted(repository_name("shipyard", stack, s["name"], c["name"])
                      for s in services_of(stack) for c in s.get("containers") or []
                      if c.get("source") is not None)
    assert expected
    assert sorted(r["name"] for r in inputs(recording, REPOSITORY).values()) == expected


def test_a_container_name_ecr_refuses_stops_the_stack_before_any_resource():
    services = services_of("staging")
    built = next(c for c in services[0]["containers"] if c.get("source") is not None)
    built["name"] = "web_"  # the spec accepts it; ECR does not (a part ends in "_")
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", shipyard__services=services)
    assert raised.value.setting == "shipyard:services[0].containers.web_.name"
    assert re.search(r"lower-case letters and digits", str(raised.value))
    assert raised.value.registered_before_failure == []  # type: ignore[attr-defined]
