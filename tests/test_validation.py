"""GIVEN a bad value WHEN it is validated THEN the error names the setting, the value and what is
allowed. Pure functions: no program run."""

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shipyard.errors import ConfigError
from shipyard.fargate import FARGATE_MEMORY_BY_CPU, validate_capacity, validate_task_size
from shipyard.image import split_image_reference, validate_prebuilt_image
from shipyard.spec import parse_service_args
from shipyard.validation import (
    MAX_SERVICE_NAME_LENGTH,
    validate_cidrs,
    validate_container_port,
    validate_health_check_path,
    validate_service_name,
)

VALID = {"containers": [{"name": "web", "image": "repo/app:1.0", "port": 8080}],
         "vpc_id": "vpc-1", "public_subnet_ids": [], "private_subnet_ids": []}


def error(fn, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as raised:
        fn(*args, **kwargs)
    return str(raised.value)


def service(**changes) -> dict:
    return {**VALID, **changes}


def container(**changes) -> dict:
    return {"containers": [{"name": "web", "image": "repo/app:1.0", "port": 8080, **changes}]}


# --- Fargate sizes ------------------------------------------------------------------------

def test_fargate_rejects_memory_not_paired_with_cpu():
    assert error(validate_task_size, 256, 4096, "web") == (
        "web.memory: 4096 is not valid; with cpu 256 Fargate memory must be 512, 1024, 2048 (MiB)")


def test_fargate_rejects_unknown_cpu():
    assert error(validate_task_size, 300, 512, "web") == (
        "web.cpu: 300 is not valid; Fargate cpu must be one of 256, 512, 1024, 2048, 4096, "
        "8192, 16384")


def test_fargate_describes_ranges_as_steps():
    assert error(validate_task_size, 1024, 1024, "web") == (
        "web.memory: 1024 is not valid; with cpu 1024 Fargate memory must be 2048 to 8192 in "
        "steps of 1024 (MiB)")


@given(st.sampled_from(sorted(FARGATE_MEMORY_BY_CPU)), st.integers(min_value=0, max_value=200000))
def test_fargate_accepts_exactly_the_table(cpu, memory):
    if memory in FARGATE_MEMORY_BY_CPU[cpu]:
        validate_task_size(cpu, memory)
    else:
        with pytest.raises(ConfigError):
            validate_task_size(cpu, memory)


def test_spot_is_refused_for_arm64():
    assert error(validate_capacity, "ARM64", True, "web") == (
        "web.spot: True is not valid; Fargate Spot does not run ARM64 tasks; use X86_64 or "
        "spot: false")


# --- names, ports, paths, CIDRs -----------------------------------------------------------

def test_service_name_too_long_for_alb_name():
    name = "a" * (MAX_SERVICE_NAME_LENGTH + 1)
    assert error(validate_service_name, name) == (
        f"name: '{name}' is not valid; at most 20 characters, because the load balancer name "
        f"'{name}-alb' plus Pulumi's 8-character suffix must fit AWS's 32-character limit")


@given(st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True))
def test_accepted_service_names_always_fit_elb_limits(name):
    try:
        validate_service_name(name)
    except ConfigError:
        return
    # The longest ELB name this component derives, plus Pulumi's random suffix.
    assert len(f"{name}-alb") + 8 <= 32
    assert not name.endswith("-") and "--" not in name


def test_privileged_port_refused():
    assert error(validate_container_port, 80, "containers[0].port") == (
        "containers[0].port: 80 is not valid; an integer from 1024 to 65535 (the container runs "
        "as a non-root user, which cannot bind a privileged port)")


@given(st.integers())
def test_port_validator_matches_range(port):
    if 1024 <= port <= 65535:
        assert validate_container_port(port, "p") == port
    else:
        with pytest.raises(ConfigError):
            validate_container_port(port, "p")


@pytest.mark.parametrize("path", ["healthz", "/health check", "/x?y=1", ""])
def test_bad_health_check_paths(path):
    assert error(validate_health_check_path, path, "health_check_path").startswith(
        f"health_check_path: {path!r} is not valid; an absolute URL path such as /healthz")


def test_bad_cidr():
    assert error(validate_cidrs, ["10.0.0.0/33"], "ingress_cidrs") == (
        "ingress_cidrs: '10.0.0.0/33' is not valid; an IPv4 CIDR block such as 203.0.113.0/24")


# --- image references ---------------------------------------------------------------------

@pytest.mark.parametrize("reference", [
    "nginx", "nginx:latest", "registry:5000/team/app", "repo/app@sha256:abc",
    "repo/app:", " repo/app:1.0"])
def test_unpinned_prebuilt_images_refused(reference):
    assert "is not valid" in error(validate_prebuilt_image, reference, "image")


@pytest.mark.parametrize("reference", [
    "registry:5000/team/app:1.2.3", "repo/app@sha256:" + "a" * 64,
    "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:src-abc"])
def test_pinned_prebuilt_images_accepted(reference):
    assert validate_prebuilt_image(reference, "image") == reference


def test_latest_message_says_how_to_pin():
    assert error(validate_prebuilt_image, "nginx:latest", "containers[0].image") == (
        "containers[0].image: 'nginx:latest' is not valid; pin it by digest "
        "(repo@sha256:<64 hex>) or by an explicit immutable tag other than 'latest'")


@given(st.from_regex(r"[a-z0-9]+(:[0-9]{2,5})?(/[a-z0-9]+){1,3}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
def test_split_never_mistakes_a_registry_port_for_a_tag(repository, tag):
    assert split_image_reference(repository) == (repository, None, None)
    assert split_image_reference(f"{repository}:{tag}") == (repository, tag, None)


# --- the argument parser -----------------------------------------------------------------

def test_unknown_argument_named():
    assert error(parse_service_args, "web", service(cpus=256)) == (
        "web: 'cpus' is not valid; unknown key; allowed keys are access_logs_bucket, "
        "architecture, callers, certificate_arn, cluster_arn, cluster_name, containers, cpu, "
        "cpu_target_percent, deletion_protection, deployment, deregistration_delay_seconds, "
        "desired_count, dns, egress, enable_execute_command, extra_security_group_ids, "
        "health_check_grace_period_seconds, health_check_path, images_to_keep, ingress_cidrs, "
        "load_balancer, log_retention_days, max_count, memory, min_count, "
        "permissions_boundary_arn, private_subnet_ids, protect_stateful, public_subnet_ids, "
        "requests_per_target, rollback_alarms, scaling_metric, scan_max_critical, scan_max_high, "
        "scan_timeout_seconds, service_connect_alias, service_connect_namespace, source_version, "
        "spot, tags, task_role_statements, topology, vpc_id, waf")


def test_scan_thresholds_validated():
    assert error(parse_service_args, "web", service(scan_max_critical=-1)) == (
        "scan_max_critical: -1 is not valid; an integer from 0 to 1000")
    assert error(parse_service_args, "web", service(scan_timeout_seconds=5)) == (
        "scan_timeout_seconds: 5 is not valid; an integer from 30 to 3600")


def test_permissions_boundary_must_be_a_policy_arn():
    assert error(parse_service_args, "web", service(permissions_boundary_arn="boundary")) == (
        "permissions_boundary_arn: 'boundary' is not valid; an ARN of the form "
        "arn:aws:iam::<account>:policy/<name>")


def test_unknown_container_key_named():
    assert error(parse_service_args, "web", service(**container(readOnlyRootFilesystem=True))
                 ).startswith("containers[0]: 'readOnlyRootFilesystem' is not valid; unknown key;")


def test_plain_secret_value_refused_without_echoing_it():
    message = error(parse_service_args, "web",
                    service(**container(secrets={"API_TOKEN": {"value": "hunter2"}})))
    assert message == (
        "containers[0].secrets.API_TOKEN.value: '<plain value hidden>' is not valid; a secret "
        "Output such as pulumi.Config().require_secret(key) (set it with `pulumi config set "
        "--secret`), never a plain string")
    assert "hunter2" not in message


def test_secret_needs_exactly_one_source():
    assert error(parse_service_args, "web", service(**container(secrets={"T": {}}))) == (
        "containers[0].secrets.T: [] is not valid; exactly one of 'value' or 'arn'")


def test_secret_arn_shape():
    assert error(parse_service_args, "web",
                 service(**container(secrets={"T": {"arn": "arn:aws:s3:::bucket"}}))) == (
        "containers[0].secrets.T.arn: 'arn:aws:s3:::bucket' is not valid; an ARN of the form "
        "arn:aws:secretsmanager:<region>:<account>:secret:<name>")


def test_variable_cannot_be_both_plain_and_secret():
    args = container(environment={"T": "x"},
                     secrets={"T": {"arn": "arn:aws:secretsmanager:eu-west-1:111122223333:"
                                           "secret:t-AbCdEf"}})
    assert error(parse_service_args, "web", service(**args)) == (
        "containers[0].environment.T: 'T' is not valid; a variable is either plain environment "
        "or a secret, not both")


def test_root_user_refused():
    assert error(parse_service_args, "web", service(**container(user="0:0"))) == (
        "containers[0].user: '0:0' is not valid; a non-root uid[:gid] such as 10001:10001")


def test_source_and_image_are_exclusive():
    assert error(parse_service_args, "web", service(**container(source="app"))) == (
        "containers[0]: \"source='app', image='repo/app:1.0'\" is not valid; exactly one of "
        "'source' (a folder to build) or 'image' (prebuilt)")


def test_exactly_one_container_takes_traffic():
    two = {"containers": [{"name": "a", "image": "r/a:1", "port": 8080},
                          {"name": "b", "image": "r/b:1", "port": 9090}]}
    assert error(parse_service_args, "web", service(**two)) == (
        "containers: ['a', 'b'] is not valid; exactly one container has a 'port'; sidecars "
        "listen on none")


def test_desired_count_within_bounds():
    assert error(parse_service_args, "web", service(desired_count=9, max_count=4)) == (
        "desired_count: 9 is not valid; between min_count (2) and max_count (4)")


def test_log_retention_must_be_a_cloudwatch_value():
    assert error(parse_service_args, "web", service(log_retention_days=10)).startswith(
        "log_retention_days: 10 is not valid; one of 1, 3, 5, 7, 14, 30,")


def test_task_role_statement_without_scope_refused():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert error(parse_service_args, "web", service(task_role_statements=[statement])) == (
        "task_role_statements[0].Resource: '*' is not valid; scope the statement to resource ARNs")


def test_task_role_service_wildcard_refused():
    statement = {"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b/*"}
    assert error(parse_service_args, "web", service(task_role_statements=[statement])) == (
        "task_role_statements[0].Action: 's3:*' is not valid; name the actions the application "
        "needs; no service wildcard")


def test_cluster_arn_and_name_together():
    assert error(parse_service_args, "web", service(cluster_arn="arn:aws:ecs:x")) == (
        "cluster_arn: 'arn:aws:ecs:x' is not valid; give cluster_arn and cluster_name "
        "together, or neither")


@pytest.fixture
def event_loop_for_outputs():
    """Outputs need an event loop; each test gets its own (Pulumi's current guidance)."""
    import asyncio
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def test_secret_output_is_accepted(event_loop_for_outputs):
    spec = parse_service_args("web", service(**container(
        secrets={"T": {"value": pulumi.Output.secret("x")}})))
    assert spec.containers[0].secrets[0].env_name == "T"


def test_defaults_documented_in_typed_dict_match_spec():
    spec = parse_service_args("web", VALID)
    assert (spec.cpu, spec.memory, spec.architecture, spec.spot) == (256, 512, "X86_64", False)
    assert (spec.desired_count, spec.min_count, spec.max_count) == (2, 2, 4)
    assert (spec.health_check_path, spec.deregistration_delay_seconds) == ("/healthz", 15)
    assert spec.containers[0].user == "10001:10001"
