"""GIVEN a bad value WHEN it is validated THEN the error names the setting, the value and what is
allowed. Pure functions: no program run."""

import ipaddress

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
    subnet_layout,
    validate_cidrs,
    validate_container_port,
    validate_health_check_path,
    validate_service_name,
    validate_subnet_layout,
)

PINNED = "repo/app:1.0@sha256:" + "0" * 64
VALID = {"containers": [{"name": "web", "image": PINNED, "port": 8080}],
         "vpc_id": "vpc-11111111", "public_subnet_ids": [], "private_subnet_ids": []}


def error(fn, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as raised:
        fn(*args, **kwargs)
    return str(raised.value)


def service(**changes) -> dict:
    return {**VALID, **changes}


def container(**changes) -> dict:
    return {"containers": [{"name": "web", "image": PINNED, "port": 8080, **changes}]}


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


@pytest.mark.parametrize("architecture", ["X86_64", "ARM64"])
@pytest.mark.parametrize("spot", [True, False])
def test_both_architectures_run_on_both_capacity_providers(architecture, spot):
    validate_capacity(architecture, spot, "web")


def test_fargate_spot_runs_arm64_according_to_the_ecs_model():
    """The fact the validator relies on, read from the ECS API reference text in botocore."""
    import botocore.session
    doc = botocore.session.get_session().get_service_model("ecs").shape_for(
        "CapacityProviderStrategyItem").documentation
    assert ("<code>FARGATE_SPOT</code> supports Linux tasks with the ARM64 architecture on "
            "platform version 1.4.0 or later.") in doc


def test_unknown_architecture_is_refused():
    assert error(validate_capacity, "arm64", False, "web") == (
        "web.architecture: 'arm64' is not valid; must be one of X86_64, ARM64")


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

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("reference", [
    "nginx", "nginx:latest", "registry:5000/team/app", "repo/app@sha256:abc",
    "repo/app:", " repo/app:1.0", "nginx:1.27", "public.ecr.aws/nginx/nginx:1.27",
    "registry:5000/team/app:1.2.3", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:src-abc",
    f"repo/app:-bad@{DIGEST}", f"repo/app@{DIGEST.upper()}", f"repo/app@sha512:{'a' * 128}"])
def test_unpinned_prebuilt_images_refused(reference):
    assert "is not valid" in error(validate_prebuilt_image, reference, "image")


@pytest.mark.parametrize("reference", [
    f"repo/app@{DIGEST}", f"registry:5000/team/app:1.2.3@{DIGEST}",
    f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:src-abc@{DIGEST}"])
def test_pinned_prebuilt_images_accepted(reference):
    assert validate_prebuilt_image(reference, "image") == reference


@pytest.mark.parametrize("reference", ["nginx:latest", "nginx:1.27", "public.ecr.aws/x/y:v1"])
def test_a_movable_tag_message_says_how_to_pin(reference):
    assert error(validate_prebuilt_image, reference, "containers[0].image") == (
        f"containers[0].image: {reference!r} is not valid; a prebuilt image must be pinned by "
        "digest, repo[:tag]@sha256:<64 hex> (a tag, even an explicit one, can be moved to "
        "another image; find the digest with `docker buildx imagetools inspect <repo>:<tag>` "
        "or `crane digest <repo>:<tag>`), or build it from a folder with `source`")


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
        "redeploy_token, requests_per_target, rollback_alarms, scaling_metric, "
        "scan_max_critical, scan_max_high, scan_timeout_seconds, service_connect_alias, "
        "service_connect_namespace, source_version, "
        "spot, tags, task_role_statements, topology, vpc_id, waf")


def test_scan_thresholds_validated():
    assert error(parse_service_args, "web", service(scan_max_critical=-1)) == (
        "scan_max_critical: -1 is not valid; an integer from 0 to 1000")
    assert error(parse_service_args, "web", service(scan_timeout_seconds=5)) == (
        "scan_timeout_seconds: 5 is not valid; an integer from 30 to 3600")


def test_permissions_boundary_must_be_a_policy_arn():
    assert error(parse_service_args, "web", service(permissions_boundary_arn="boundary")) == (
        "permissions_boundary_arn: 'boundary' is not valid; an IAM policy ARN such as "
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
        "containers[0].secrets.T.arn: 'arn:aws:s3:::bucket' is not valid; a Secrets Manager "
        "secret ARN such as arn:aws:secretsmanager:<region>:<account>:secret:<name>")


def test_variable_cannot_be_both_plain_and_secret():
    args = container(environment={"T": "x"},
                     secrets={"T": {"arn": "arn:aws:secretsmanager:eu-west-1:111122223333:"
                                           "secret:t-AbCdEf"}})
    assert error(parse_service_args, "web", service(**args)) == (
        "containers[0].environment.T: 'T' is not valid; a variable is either plain environment "
        "or a secret, not both")


@pytest.mark.parametrize("user", ["0:0", "root", "ROOT:staff", "00", "000:1000", " 0"])
def test_root_user_refused(user):
    assert error(parse_service_args, "web", service(**container(user=user))) == (
        f"containers[0].user: {user!r} is not valid; a non-root uid[:gid] such as 10001:10001")


def test_source_and_image_are_exclusive():
    assert error(parse_service_args, "web", service(**container(source="app"))) == (
        f"containers[0]: \"source='app', image='{PINNED}'\" is not valid; exactly one of "
        "'source' (a folder to build) or 'image' (prebuilt)")


def test_exactly_one_container_takes_traffic():
    two = {"containers": [{"name": "a", "image": PINNED, "port": 8080},
                          {"name": "b", "image": PINNED, "port": 9090}]}
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
    cluster = "arn:aws:ecs:eu-west-1:111122223333:cluster/main"
    assert error(parse_service_args, "web", service(cluster_arn=cluster)) == (
        f"cluster_arn: {cluster!r} is not valid; give cluster_arn and cluster_name "
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


# --- The new VPC's subnet layout (awsx: one /22 public and one /20 private subnet per AZ) ---

@pytest.mark.parametrize(("cidr", "azs", "largest"), [
    ("10.0.0.0/19", 2, 18), ("10.0.0.0/20", 2, 18), ("10.0.0.0/18", 3, 17),
    ("10.0.0.0/18", 4, 17), ("10.0.0.0/17", 5, 16),
])
def test_a_block_too_small_for_the_subnets_is_refused(cidr, azs, largest):
    assert error(validate_subnet_layout, cidr, azs, "shipyard:network.cidr_block") == (
        f"shipyard:network.cidr_block: {cidr!r} is not valid; too small for {azs} AZs of one "
        f"/22 public and one /20 private subnet each; use /{largest} or a larger block")


@pytest.mark.parametrize(("cidr", "azs"), [("10.0.0.0/16", 2), ("10.0.0.0/16", 3),
                                           ("10.0.0.0/18", 2), ("10.0.0.0/17", 3),
                                           ("10.0.0.0/16", 6), ("172.16.0.0/12", 6)])
def test_a_block_that_fits_is_accepted(cidr, azs):
    assert validate_subnet_layout(cidr, azs, "cidr_block") == cidr


def test_layout_matches_awsx_for_the_committed_stacks():
    """awsx's getSubnetSpecs for 10.0.0.0/16: AZ blocks of /17 (2 AZs) or /18 (3 AZs), the
    /22 at the block's base, the /20 at the next /20 boundary."""
    assert [[str(s) for s in az] for az in subnet_layout("10.0.0.0/16", 2)] == [
        ["10.0.0.0/22", "10.0.16.0/20"], ["10.0.128.0/22", "10.0.144.0/20"]]
    assert [[str(s) for s in az] for az in subnet_layout("10.0.0.0/16", 3)] == [
        ["10.0.0.0/22", "10.0.16.0/20"], ["10.0.64.0/22", "10.0.80.0/20"],
        ["10.0.128.0/22", "10.0.144.0/20"]]


@given(st.integers(min_value=8, max_value=28), st.integers(min_value=1, max_value=6))
def test_every_accepted_layout_stays_inside_the_vpc_without_overlap(prefix, azs):
    layout = subnet_layout(f"10.0.0.0/{prefix}", azs)
    if layout is None:
        with pytest.raises(ConfigError):
            validate_subnet_layout(f"10.0.0.0/{prefix}", azs, "cidr_block")
        return
    vpc = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
    subnets = [s for az in layout for s in az]
    assert len(subnets) == 2 * azs
    assert all(s.subnet_of(vpc) for s in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:])
    assert [s.prefixlen for s in subnets] == [22, 20] * azs


@pytest.mark.parametrize("cidr", ["10.0.0.5/16", "not a cidr", None, 16])
def test_odd_cidr_input_is_refused_not_raised(cidr):
    assert error(validate_subnet_layout, cidr, 2, "cidr_block").startswith(
        f"cidr_block: {cidr!r} is not valid; an IPv4 network address with no host bits set")


# --- Container names become port-mapping names (lowercase, 64) and ECR repository names ---

@pytest.mark.parametrize("name", ["Web", "webApp", "WEB", "1web", "-web", "web.app", ""])
def test_container_names_ecs_port_mappings_or_ecr_refuse_are_refused(name):
    assert error(parse_service_args, "svc", service(**container(name=name))) == (
        f"containers[0].name: {name!r} is not valid; lowercase letters, digits, '-' and '_', "
        "starting with a letter (at most 255): it also names the port mapping and the ECR "
        "repository, which allow no upper case")


def test_port_mapping_name_longer_than_64_is_refused():
    name = "a" * 59  # "<59 a>-8080" is 64 characters: allowed
    assert parse_service_args("svc", service(**container(name=name))).containers[0].name == name
    assert error(parse_service_args, "svc", service(**container(name=name + "b"))) == (
        f"containers[0].name: {name + 'b'!r} is not valid; at most 59 characters for the "
        "container with port 8080, because its port mapping "
        f"'{name}b-8080' may have at most 64")


def test_port_mapping_rule_is_the_ecs_models():
    import botocore.session
    doc = botocore.session.get_session().get_service_model("ecs").shape_for(
        "PortMapping").members["name"].documentation
    assert "up to 64 characters" in doc and "lowercase letters, numbers, underscores (_), and " \
        "hyphens (-)" in doc


def test_stack_refuses_a_vpc_block_too_small_before_registering_anything():
    from conftest import run_stack
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", shipyard__network={"az_count": 2, "nat_gateways": "single",
                                                "cidr_block": "10.0.0.0/19"})
    assert str(raised.value) == (
        "shipyard:network.cidr_block: '10.0.0.0/19' is not valid; too small for 2 AZs of one /22 "
        "public and one /20 private subnet each; use /18 or a larger block")
    assert raised.value.registered_before_failure == []


def test_ecs_exec_needs_the_agent_folders_in_every_container():
    two = {**VALID, "enable_execute_command": True, "containers": [
        {"name": "web", "image": PINNED, "port": 8080,
         "scratch_paths": ["/var/lib/amazon/ssm", "/var/log/amazon/ssm"]},
        {"name": "sidecar", "image": PINNED}]}
    assert error(parse_service_args, "svc", two) == (
        "enable_execute_command: True is not valid; ECS Exec's SSM agent writes inside the "
        "container and the root filesystem is read-only; add these to scratch_paths (sidecar: "
        "/var/lib/amazon/ssm, /var/log/amazon/ssm), or turn ECS Exec off")
    two["containers"][1]["scratch_paths"] = ["/var/lib/amazon", "/var/log/amazon/ssm"]
    assert parse_service_args("svc", two).enable_execute_command is True
    # a prefix that is not a parent folder does not count
    two["containers"][1]["scratch_paths"] = ["/var/lib/amaz", "/var/log/amazon/ssm"]
    with pytest.raises(ConfigError):
        parse_service_args("svc", two)
