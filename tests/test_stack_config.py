"""GIVEN a stack file with a mistake WHEN the program loads it THEN it stops before registering
anything, with the setting, the value and what is allowed."""

import pytest
from conftest import PROJECT, SAMPLE, one, run_stack, services_of
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


def test_arm64_on_spot_is_accepted():
    # FARGATE_SPOT runs ARM64 on platform 1.4.0+ (ECS API reference); see test_validation.
    recording = run_stack("staging", shipyard__services=with_service(architecture="ARM64"))
    task = one(recording, "aws:ecs/taskDefinition:TaskDefinition")
    assert task["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert one(recording, "aws:ecs/service:Service")["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}]


def test_long_service_name():
    name = "payments-reconciliation"
    assert str(failure(shipyard__services=with_service(name=name))) == (
        f"shipyard:services[0].name: '{name}' is not valid; at most 20 characters, because the "
        f"load balancer name '{name}-alb' plus Pulumi's 8-character suffix must fit AWS's "
        "32-character limit")


def test_latest_image():
    services = with_service()
    services[0]["containers"][0] = {"name": "web", "image": "nginx:latest", "port": 8080}
    assert str(failure(shipyard__services=services)) == (
        "shipyard:services[0].containers[0].image: 'nginx:latest' is not valid; a prebuilt "
        "image must be pinned by digest, repo[:tag]@sha256:<64 hex> (a tag, even an explicit "
        "one, can be moved to another image; find the digest with `docker buildx imagetools "
        "inspect <repo>:<tag>` or `crane digest <repo>:<tag>`), or build it from a folder with "
        "`source`")


@pytest.mark.parametrize("image", ["nginx:1.27", "public.ecr.aws/nginx/nginx:1.27",
                                   "public.ecr.aws/aws-observability/aws-for-fluent-bit:v1"])
def test_a_movable_tag_is_refused_naming_the_container_setting(image):
    services = with_service()
    services[0]["containers"].append({"name": "proxy", "image": image})
    error = failure(shipyard__services=services)
    assert (error.setting, error.value) == ("shipyard:services[0].containers[1].image", image)
    assert "must be pinned by digest" in str(error)


def test_secret_stored_in_plain_text_is_refused_without_echo():
    config = load_stack_config(SAMPLE, "staging")
    import dataclasses

    from shipyard_preview.engine import run_program
    plain = dataclasses.replace(config, secret_keys=[],
                                config={**config.config, "shipyard:api_token": "hunter2"})
    with pytest.raises(ConfigError) as raised:
        run_program(PROJECT, plain)
    assert str(raised.value) == ("shipyard:api_token: '<plain value hidden>' is not valid; stored "
                                 "in plain text; store it with `pulumi config set --secret "
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
    assert str(failure(shipyard__services=with_service(vpc_id="vpc-11111111"))) == (
        "shipyard:services[0].vpc_id: 'vpc-11111111' is not valid; set by the program from the "
        "network and cluster; configure shipyard:network instead")


def test_unknown_network_key():
    assert str(failure(shipyard__network={"azs": 2})) == (
        "shipyard:network: 'azs' is not valid; unknown key; allowed keys are az_count, "
        "cidr_block, flow_log_retention_days, flow_logs, nat_gateways, permissions_boundary_arn, "
        "private_subnet_ids, protect, public_subnet_ids, vpc_endpoints, vpc_id")


def test_partial_existing_network():
    assert str(failure(shipyard__network={"vpc_id": "vpc-11111111"})) == (
        "shipyard:network.vpc_id: 'vpc-11111111' is not valid; an existing network needs vpc_id, "
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
        shutil.copy(SAMPLE / name, tmp_path / name)
    with open(tmp_path / "Pulumi.staging.yaml", "a") as stack_file:
        stack_file.write("  shipyard:servises: []\n")
    with pytest.raises(ConfigError) as raised:
        load_stack_config(tmp_path, "staging")
    assert str(raised.value).startswith(
        "Pulumi.staging.yaml: shipyard:servises: '<value>' is not valid; not declared in "
        "Pulumi.yaml; known keys are access_log_expiry_days, access_logs, artifacts_registry, "
        "environment,")


def test_unknown_stack():
    with pytest.raises(ConfigError) as raised:
        load_stack_config(PROJECT, "nosuch")
    assert str(raised.value) == "stack: 'nosuch' is not valid; one of fullstack, prod, staging"


def test_secrets_become_marked_placeholders():
    config = load_stack_config(SAMPLE, "staging")
    assert config.secret_keys == ["shipyard:api_token"]
    assert config.config["shipyard:api_token"] == SECRET_PLACEHOLDER_PREFIX + "api_token"


def test_project_defaults_apply():
    config = load_stack_config(SAMPLE, "staging")
    assert config.config["shipyard:access_logs"] == "false"
    assert config.config["shipyard:access_log_expiry_days"] == "90"
    assert load_stack_config(SAMPLE, "prod").config["shipyard:access_logs"] == "true"


# ---------------------------------------------------------------------------------------------
# As the CLI would see them: `shipyard preview` on a project whose stack file has a mistake
# exits 2 with one line on stderr, never a traceback.

def project_copy(tmp_path, stack_text: str | None = None, stack: str = "staging"):
    import shutil
    for name in ("Pulumi.yaml", f"Pulumi.{stack}.yaml", "__main__.py", "stack_settings.py",
                 "stack_topology.py"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    # The project declares policy_config, so each stack's policy levels must be there.
    (tmp_path / "policy").mkdir()
    shutil.copy(PROJECT / "policy" / f"config.{stack}.json", tmp_path / "policy")
    shutil.copytree(PROJECT / "app", tmp_path / "app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if stack_text is not None:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(stack_text)
    return tmp_path


def stack_text(stack: str = "staging", **replace: str) -> str:
    """The sample stack file with whole lines replaced: {'old line': 'new line'}."""
    text = (SAMPLE / f"Pulumi.{stack}.yaml").read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def preview_exit(project, capsys, stack: str = "staging") -> tuple[int, str]:
    from shipyard_preview.cli import main
    code = main(["--project-dir", str(project), "preview", stack, "--no-policy"])
    return code, capsys.readouterr().err


def refused(tmp_path, capsys, text: str, stack: str = "staging") -> str:
    code, err = preview_exit(project_copy(tmp_path, text, stack), capsys, stack)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err.removeprefix("error: ").rstrip("\n")


def test_boolean_written_as_maybe(tmp_path, capsys):
    text = stack_text(**{"config:\n": "config:\n  shipyard:access_logs: maybe\n"})
    assert refused(tmp_path, capsys, text) == (
        "shipyard:access_logs: 'maybe' is not valid; true or false (declared type boolean in "
        "Pulumi.yaml)")


def test_integer_written_as_text(tmp_path, capsys):
    text = stack_text(**{"config:\n": "config:\n  shipyard:access_log_expiry_days: a year\n"})
    assert refused(tmp_path, capsys, text) == (
        "shipyard:access_log_expiry_days: 'a year' is not valid; an integer (declared type "
        "integer in Pulumi.yaml)")


def test_yaml_syntax_error_is_one_line_with_its_line_number(tmp_path, capsys):
    text = stack_text(**{"      max_count: 2\n": "      max_count: [2\n"})
    line = text.splitlines().index("      max_count: [2") + 1
    # PyYAML notices the missing `]` at the next key and names where the list began.
    assert refused(tmp_path, capsys, text) == (
        f"Pulumi.staging.yaml: 'line {line + 1}' is not valid; YAML syntax error: expected ',' "
        f"or ']', but got ':' (while parsing a flow sequence that starts on line {line})")


@pytest.mark.parametrize("days", ["0", "-5"])
def test_expiry_must_be_positive(tmp_path, capsys, days):
    text = stack_text(**{"config:\n": f"config:\n  shipyard:access_log_expiry_days: {days}\n"})
    assert refused(tmp_path, capsys, text) == (
        f"shipyard:access_log_expiry_days: '{days}' is not valid; a whole number of days from 1 "
        "to 36500")


def test_plain_value_where_a_secret_is_expected(tmp_path, capsys):
    text = stack_text(**{"  shipyard:api_token:\n    secure: v1:REPLACE-WITH-pulumi-config-set-"
                         "secret-api_token\n": "  shipyard:api_token: hunter2\n"})
    message = refused(tmp_path, capsys, text)
    assert message == ("shipyard:api_token: '<plain value hidden>' is not valid; stored in plain "
                       "text; store it with `pulumi config set --secret api_token <value>`")
    assert "hunter2" not in message


@pytest.mark.parametrize("region", ["eu-west-9", "europe-west1", "EU-WEST-1"])
def test_region_unknown_to_botocore(tmp_path, capsys, region):
    text = stack_text(**{"  aws:region: eu-west-1\n": f"  aws:region: {region}\n"})
    assert refused(tmp_path, capsys, text) == (
        f"aws:region: '{region}' is not valid; a region AWS publishes (botocore's partitions "
        "data), e.g. eu-west-1")


def test_certificate_from_another_region(tmp_path, capsys):
    other = "arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000001"
    text = stack_text(**{
        "    certificate_arn: arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-"
        "0000-000000000001\n": f"    certificate_arn: {other}\n"})
    assert refused(tmp_path, capsys, text) == (
        f"shipyard:service_defaults.certificate_arn: '{other}' is not valid; a certificate in the "
        "stack's region eu-west-1; a load balancer uses only ACM certificates of its own region")


@pytest.mark.parametrize(("text", "message"), [
    ("- just\n- a list\n", "Pulumi.staging.yaml: '<document>' is not valid; a mapping with a "
                           "config: section"),
    ("config: [1, 2]\n", "Pulumi.staging.yaml: config: '<section>' is not valid; a mapping of "
                         "<namespace>:<key> to values"),
    ("config:\n  access_logs: true\n", "Pulumi.staging.yaml: access_logs: '<value>' is not "
                                       "valid; a key of the form <namespace>:<name>, e.g. "
                                       "shipyard:environment"),
    ("config:\n  aws:region: eu-west-1\n  shipyard:environment: staging\n"
     "  shipyard:services: just text\n",
     "shipyard:services: 'just text' is not valid; a YAML mapping or list (see Pulumi.yaml)"),
    ("config:\n  aws:region: eu-west-1\n  shipyard:environment: [staging]\n",
     "shipyard:environment: ['staging'] is not valid; a string (declared type string in "
     "Pulumi.yaml)"),
])
def test_malformed_documents(tmp_path, capsys, text, message):
    assert refused(tmp_path, capsys, text) == message


def test_committed_stacks_still_preview(tmp_path, capsys):
    code, err = preview_exit(project_copy(tmp_path), capsys)
    assert (code, err) == (0, "")
