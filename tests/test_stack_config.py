"""GIVEN a stack file with a mistake WHEN the program loads it THEN it stops before registering
anything, with the setting, the value and what is allowed."""

import pytest
from conftest import PROJECT, run_stack, services_of
from shipyard.errors import ConfigError

from shipyard_preview.stack_config import SECRET_PLACEHOLDER_PREFIX, load_stack_config


def failure(stack: str = "staging", **overrides) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, **overrides)
    assert raised.value.registered_before_failure == []
    return raised.value


def with_service(stack: str = "staging", **changes) -> list:
    services = services_of(stack)
    services[0].update(changes)
    return services


def test_prod_without_certificate():
    services = with_service("prod")
    error = failure("prod", shipyard__service_defaults={"architecture": "ARM64"},
                    shipyard__services=services)
    assert str(error) == ("shipyard:services[0].certificate_arn: None is not valid; required in "
                          "prod: an ACM certificate ARN for the HTTPS listener")


def test_bad_fargate_pair_names_the_service():
    assert str(failure(shipyard__services=with_service(cpu=512, memory=512))) == (
        "shipyard:services[0].memory: 512 is not valid; with cpu 512 Fargate memory must be "
        "1024, 2048, 3072, 4096 (MiB)")


def test_arm64_on_spot():
    assert str(failure(shipyard__services=with_service(architecture="ARM64"))) == (
        "shipyard:services[0].spot: True is not valid; Fargate Spot does not run ARM64 tasks; "
        "use X86_64 or spot: false")


def test_long_service_name():
    name = "payments-reconciliation"
    assert str(failure(shipyard__services=with_service(name=name))) == (
        f"shipyard:services[0] name: '{name}' is not valid; at most 20 characters, because the "
        f"load balancer name '{name}-alb' plus Pulumi's 8-character suffix must fit AWS's "
        "32-character limit")


def test_latest_image():
    services = with_service()
    services[0]["containers"][0] = {"name": "web", "image": "nginx:latest", "port": 8080}
    assert str(failure(shipyard__services=services)) == (
        "shipyard:services[0].containers[0].image: 'nginx:latest' is not valid; pin it by "
        "digest (repo@sha256:<64 hex>) or by an explicit immutable tag other than 'latest'")


def test_secret_stored_in_plain_text_is_refused_without_echo():
    config = load_stack_config(PROJECT, "staging")
    import dataclasses

    from shipyard_preview.engine import run_program
    plain = dataclasses.replace(config, secret_keys=[],
                                config={**config.config, "shipyard:api_token": "hunter2"})
    with pytest.raises(ConfigError) as raised:
        run_program(PROJECT, plain)
    assert str(raised.value) == ("shipyard:api_token: '<plain value hidden>' is not valid; stored "
                                 "in plain text; set it with `pulumi config set --secret "
                                 "api_token <value>`")
    assert "hunter2" not in str(raised.value)


def test_secret_given_inline_as_a_plain_value():
    services = with_service()
    services[0]["containers"][0]["secrets"] = {"API_TOKEN": "hunter2"}
    error = failure(shipyard__services=services)
    assert str(error) == ("shipyard:services[0].containers[0].secrets.API_TOKEN: '<plain value "
                          "hidden>' is not valid; a secret source {config: <key>} or {arn: "
                          "<secret ARN>}, never a plain value")


def test_missing_config_secret():
    assert str(failure(shipyard__api_token=None)) == (
        "shipyard:services[0].containers[0].secrets.API_TOKEN.config: 'api_token' is not "
        "valid; the name of a config secret; set it with `pulumi config set --secret api_token "
        "<value>`")


def test_unknown_service_key():
    assert str(failure(shipyard__services=with_service(replicas=3))).startswith(
        "shipyard:services[0]: 'replicas' is not valid; unknown key; allowed keys are ")


def test_program_owned_key_in_config():
    assert str(failure(shipyard__services=with_service(vpc_id="vpc-1"))) == (
        "shipyard:services[0].vpc_id: 'vpc-1' is not valid; set by the program from the "
        "network and cluster; configure shipyard:network instead")


def test_unknown_network_key():
    assert str(failure(shipyard__network={"azs": 2})) == (
        "shipyard:network: 'azs' is not valid; unknown key; allowed keys are az_count, "
        "cidr_block, flow_log_retention_days, flow_logs, nat_gateways, permissions_boundary_arn, "
        "private_subnet_ids, protect, public_subnet_ids, vpc_endpoints, vpc_id")


def test_partial_existing_network():
    assert str(failure(shipyard__network={"vpc_id": "vpc-1"})) == (
        "shipyard:network.vpc_id: 'vpc-1' is not valid; an existing network needs vpc_id, "
        "public_subnet_ids and private_subnet_ids together")


def test_wrong_environment():
    assert str(failure(shipyard__environment="Prod!")) == (
        "shipyard:environment: 'Prod!' is not valid; an environment name such as dev, qa, "
        "staging or prod (lowercase letters, digits and '-', at most 32)")


def test_duplicate_service_names():
    services = services_of("staging") * 2
    assert str(failure(shipyard__services=services)) == (
        "shipyard:services[1].name: 'web' is not valid; service names must be unique in a stack")


def test_bad_port_and_path():
    services = with_service(health_check_path="healthz")
    assert str(failure(shipyard__services=services)).startswith(
        "shipyard:services[0].health_check_path: 'healthz' is not valid; an absolute URL path")
    services = with_service()
    services[0]["containers"][0]["port"] = 70000
    assert str(failure(shipyard__services=services)).startswith(
        "shipyard:services[0].containers[0].port: 70000 is not valid; an integer from 1024 to "
        "65535")


def test_undeclared_plain_key_in_stack_file(tmp_path):
    import shutil
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT / name, tmp_path / name)
    with open(tmp_path / "Pulumi.staging.yaml", "a") as stack_file:
        stack_file.write("  shipyard:servises: []\n")
    with pytest.raises(ConfigError) as raised:
        load_stack_config(tmp_path, "staging")
    assert str(raised.value).startswith(
        "Pulumi.staging.yaml: shipyard:servises: '<value>' is not valid; not declared in "
        "Pulumi.yaml; known keys are access_log_expiry_days, access_logs, environment,")


def test_unknown_stack():
    with pytest.raises(ConfigError) as raised:
        load_stack_config(PROJECT, "nosuch")
    assert str(raised.value) == "stack: 'nosuch' is not valid; one of fullstack, prod, staging"


def test_secrets_become_marked_placeholders():
    config = load_stack_config(PROJECT, "staging")
    assert config.secret_keys == ["shipyard:api_token"]
    assert config.config["shipyard:api_token"] == SECRET_PLACEHOLDER_PREFIX + "api_token"


def test_project_defaults_apply():
    config = load_stack_config(PROJECT, "staging")
    assert config.config["shipyard:access_logs"] == "false"
    assert config.config["shipyard:access_log_expiry_days"] == "90"
    assert load_stack_config(PROJECT, "prod").config["shipyard:access_logs"] == "true"
