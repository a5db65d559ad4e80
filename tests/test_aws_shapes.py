"""GIVEN every argument that carries a name, id or ARN WHEN it is malformed THEN the parser that
owns it refuses it, naming the setting and the value; and the shapes are AWS's own (botocore's
models, the EC2 id rule, the ELB name rules). A new argument whose name says it carries one
(`*_arn`, `*_id(s)`, `*_name`, `name`, `image`, ...) fails here until it has a shape."""

import re
from typing import Any

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shipyard import validation as v
from shipyard.errors import ConfigError
from shipyard.network import NetworkArgs, parse_network_args
from shipyard.regions import known_regions, usable_zone_count
from shipyard.service_image import ServiceImageArgs
from shipyard.shared_load_balancer import SharedLoadBalancerArgs, parse_shared_load_balancer_args
from shipyard.spec import ContainerArgs, ContainerServiceArgs, SecretArgs, parse_service_args
from shipyard.topology import _DEPLOYMENT_KEYS, DNS_KEYS, EGRESS_KEYS, SCALING_METRIC_KEYS

# Settings whose shape is checked by a validator of its own rather than a SHAPES entry.
SPECIAL = {"service_name": "validation.validate_service_name",
           "container_name": "spec._parse_container (CONTAINER_NAME_RE, port-mapping name)",
           "image_reference": "image.validate_prebuilt_image",
           "dns_label": "topology.ALIAS_RE", "dns_name": "topology.DNS_NAME_RE",
           "ecr_repository_name": "repository_names.checked_repository_name"}
ARGUMENTS: dict[str, Any] = {
    "ContainerServiceArgs": ContainerServiceArgs, "ContainerArgs": ContainerArgs,
    "SecretArgs": SecretArgs, "NetworkArgs": NetworkArgs,
    "SharedLoadBalancerArgs": SharedLoadBalancerArgs, "ServiceImageArgs": ServiceImageArgs,
    "DeploymentArgs": _DEPLOYMENT_KEYS, "EgressArgs": EGRESS_KEYS, "DnsArgs": DNS_KEYS,
    "ScalingMetricArgs": SCALING_METRIC_KEYS}
# What a key that carries a name, id or ARN looks like.
NAMED = re.compile(r"^(name|image|callers|arn|namespace)$|_(arn|id|ids|name|alias|bucket|namespace)$")
# The component's own `name` argument is the service name (ContainerService(name, args)).
IMPLICIT = {("ContainerServiceArgs", "name")}


def keys_of(arguments: Any) -> list[str]:
    return sorted(getattr(arguments, "__annotations__", arguments))


def test_every_argument_that_carries_a_name_id_or_arn_has_a_shape():
    carrying = {(group, key) for group, arguments in ARGUMENTS.items()
                for key in keys_of(arguments) if NAMED.search(key)} | IMPLICIT
    assert sorted(carrying - set(v.NAMED_SETTINGS)) == []
    assert sorted(set(v.NAMED_SETTINGS) - carrying) == []
    for setting, shape in v.NAMED_SETTINGS.items():
        assert shape in v.SHAPES or shape in SPECIAL, (setting, shape)


# --- each registered setting, malformed, through the parser that owns it ---------------------

PIN = "repo/app@sha256:" + "0" * 64
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"
NAMESPACE = "arn:aws:servicediscovery:eu-west-1:111122223333:namespace/ns-0123456789abcdef"
VALID = {"containers": [{"name": "web", "image": PIN, "port": 8080}],
         "vpc_id": "vpc-0123456789abcdef0", "public_subnet_ids": ["subnet-0a1a1a1a"],
         "private_subnet_ids": ["subnet-0b1b1b1b"]}
PRIVATE = {"topology": "private", "callers": {"api": "sg-0123abcd"},
           "service_connect_namespace": NAMESPACE}
BLUE_GREEN = {"strategy": "BLUE_GREEN", "test_listener_port": 8443,
              "test_ingress_cidrs": ["203.0.113.0/24"]}
EXISTING = {"vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
            "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}
BALANCER = {"vpc_id": "vpc-01230123", "public_subnet_ids": ["subnet-0a1a1a1a"],
            "routes": {"web": {"paths": ["/*"]}}}
BAD = "not-a-real-one"


def service(**changes: Any) -> dict:
    return {**VALID, **changes}


def container(**changes: Any) -> dict:
    return service(containers=[{"name": "web", "image": PIN, "port": 8080, **changes}])


def refusal(fn, *args) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        fn(*args)
    return raised.value


def service_error(args: dict, name: str = "web") -> ConfigError:
    return refusal(parse_service_args, name, args)


# (group, key) -> (how to make the parser see a malformed value, the setting it must name)
PROBES = {
    ("ContainerServiceArgs", "name"): (lambda: service_error(VALID, "internal"), "name"),
    ("ContainerServiceArgs", "certificate_arn"):
        (lambda: service_error(service(certificate_arn=BAD)), "certificate_arn"),
    ("ContainerServiceArgs", "permissions_boundary_arn"):
        (lambda: service_error(service(permissions_boundary_arn=BAD)), "permissions_boundary_arn"),
    ("ContainerServiceArgs", "vpc_id"): (lambda: service_error(service(vpc_id=BAD)), "vpc_id"),
    ("ContainerServiceArgs", "public_subnet_ids"):
        (lambda: service_error(service(public_subnet_ids=[BAD])), "public_subnet_ids[0]"),
    ("ContainerServiceArgs", "private_subnet_ids"):
        (lambda: service_error(service(private_subnet_ids=[BAD])), "private_subnet_ids[0]"),
    ("ContainerServiceArgs", "extra_security_group_ids"):
        (lambda: service_error(service(extra_security_group_ids=[BAD])),
         "extra_security_group_ids[0]"),
    ("ContainerServiceArgs", "callers"):
        (lambda: service_error(service(**{**PRIVATE, "callers": {"api": BAD}})), "callers.api"),
    ("ContainerServiceArgs", "cluster_arn"):
        (lambda: service_error(service(cluster_arn=BAD, cluster_name="main")), "cluster_arn"),
    ("ContainerServiceArgs", "cluster_name"):
        (lambda: service_error(service(cluster_arn="arn:aws:ecs:eu-west-1:111122223333:cluster/m",
                                       cluster_name="has space")), "cluster_name"),
    ("ContainerServiceArgs", "service_connect_namespace"):
        (lambda: service_error(service(**{**PRIVATE, "service_connect_namespace": BAD})),
         "service_connect_namespace"),
    ("ContainerServiceArgs", "service_connect_alias"):
        (lambda: service_error(service(**PRIVATE, service_connect_alias="Not_A_Label")),
         "service_connect_alias"),
    ("ContainerServiceArgs", "access_logs_bucket"):
        (lambda: service_error(service(access_logs_bucket="Bad_Bucket")), "access_logs_bucket"),
    ("ContainerArgs", "name"): (lambda: service_error(container(name="Web")), "containers[0].name"),
    ("ContainerArgs", "image"):
        (lambda: service_error(container(image="nginx:1.27")), "containers[0].image"),
    ("SecretArgs", "arn"):
        (lambda: service_error(container(secrets={"T": {"arn": BAD}})),
         "containers[0].secrets.T.arn"),
    ("SecretArgs", "kms_key_arn"):
        (lambda: service_error(container(secrets={"T": {"arn": SECRET, "kms_key_arn": BAD}})),
         "containers[0].secrets.T.kms_key_arn"),
    ("DeploymentArgs", "smoke_test_lambda_arn"):
        (lambda: service_error(service(deployment={**BLUE_GREEN, "smoke_test_lambda_arn": BAD})),
         "deployment.smoke_test_lambda_arn"),
    ("EgressArgs", "security_group_id"):
        (lambda: service_error(service(egress=[{"security_group_id": BAD, "port": 5432}])),
         "egress[0].security_group_id"),
    ("DnsArgs", "zone_id"):
        (lambda: service_error(service(dns={"zone_id": BAD, "name": "a.example.com"})),
         "dns.zone_id"),
    ("DnsArgs", "name"):
        (lambda: service_error(service(dns={"zone_id": "Z0123456789ABC", "name": BAD})),
         "dns.name"),
    ("ScalingMetricArgs", "metric_name"):
        (lambda: service_error(service(scaling_metric={"namespace": "AWS/SQS", "metric_name": "",
                                                       "target": 1})),
         "scaling_metric.metric_name"),
    ("ScalingMetricArgs", "namespace"):
        (lambda: service_error(service(scaling_metric={"namespace": ":AWS", "metric_name": "m",
                                                       "target": 1})),
         "scaling_metric.namespace"),
    ("NetworkArgs", "vpc_id"):
        (lambda: refusal(parse_network_args, {**EXISTING, "vpc_id": BAD}), "network.vpc_id"),
    ("NetworkArgs", "public_subnet_ids"):
        (lambda: refusal(parse_network_args, {**EXISTING, "public_subnet_ids": [BAD, BAD]}),
         "network.public_subnet_ids[0]"),
    ("NetworkArgs", "private_subnet_ids"):
        (lambda: refusal(parse_network_args, {**EXISTING, "private_subnet_ids": [BAD, BAD]}),
         "network.private_subnet_ids[0]"),
    ("NetworkArgs", "permissions_boundary_arn"):
        (lambda: refusal(parse_network_args, {"permissions_boundary_arn": BAD}),
         "network.permissions_boundary_arn"),
    ("SharedLoadBalancerArgs", "vpc_id"):
        (lambda: refusal(parse_shared_load_balancer_args, {**BALANCER, "vpc_id": BAD}, "lb"),
         "lb.vpc_id"),
    ("SharedLoadBalancerArgs", "public_subnet_ids"):
        (lambda: refusal(parse_shared_load_balancer_args,
                         {**BALANCER, "public_subnet_ids": [BAD]}, "lb"),
         "lb.public_subnet_ids[0]"),
    ("SharedLoadBalancerArgs", "private_subnet_ids"):
        (lambda: refusal(parse_shared_load_balancer_args,
                         {**BALANCER, "internal": True, "private_subnet_ids": [BAD],
                          "callers": {"web": "sg-0123abcd"}}, "lb"),
         "lb.private_subnet_ids[0]"),
    ("SharedLoadBalancerArgs", "callers"):
        (lambda: refusal(parse_shared_load_balancer_args,
                         {**BALANCER, "internal": True, "private_subnet_ids": ["subnet-0a1a1a1a"],
                          "callers": {"web": BAD}}, "lb"),
         "lb.callers.web"),
    ("SharedLoadBalancerArgs", "certificate_arn"):
        (lambda: refusal(parse_shared_load_balancer_args, {**BALANCER, "certificate_arn": BAD},
                         "lb"), "lb.certificate_arn"),
    ("SharedLoadBalancerArgs", "access_logs_bucket"):
        (lambda: refusal(parse_shared_load_balancer_args,
                         {**BALANCER, "access_logs_bucket": "Bad_Bucket"}, "lb"),
         "lb.access_logs_bucket"),
}


def test_every_registered_setting_has_a_probe():
    # ServiceImage is built by the component only, from values the component derived.
    internal = {("ServiceImageArgs", "repository_name"), ("ServiceImageArgs", "kms_key_arn")}
    assert sorted(set(v.NAMED_SETTINGS) - set(PROBES) - internal) == []


@pytest.mark.parametrize("setting", sorted(PROBES), ids=lambda s: ".".join(s))
def test_a_malformed_value_is_refused_by_its_parser_naming_the_setting(setting):
    probe, named = PROBES[setting]
    error = probe()
    assert error.setting == named
    assert f"{error.value!r} is not valid; " in str(error)


# --- the shapes are AWS's ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def session():
    return botocore.session.get_session()


def test_the_botocore_patterns_are_the_models(session):
    assert session.get_service_model("acm").shape_for("Arn").metadata["pattern"] == \
        v.BOTOCORE_ACM_ARN
    assert session.get_service_model("lambda").shape_for("FunctionArn").metadata["pattern"] == \
        v.BOTOCORE_LAMBDA_FUNCTION_ARN
    assert session.get_service_model("cloudwatch").shape_for("Namespace").metadata == {
        "min": 1, "max": v.SHAPES["cloudwatch_namespace"].max_length, "pattern": "[^:].*"}
    assert session.get_service_model("cloudwatch").shape_for("MetricName").metadata == {
        "min": 1, "max": v.SHAPES["cloudwatch_metric_name"].max_length}
    assert session.get_service_model("route53").shape_for("ResourceId").metadata == {
        "max": v.SHAPES["route53_zone_id"].max_length}
    for service, shape, ours in (("secretsmanager", "SecretIdType", "secret_arn"),
                                 ("kms", "KeyIdType", "kms_key_arn"),
                                 ("iam", "arnType", "iam_policy_arn")):
        assert session.get_service_model(service).shape_for(shape).metadata["max"] == \
            v.SHAPES[ours].max_length


def test_the_elb_name_rules_are_the_models(session):
    elbv2 = session.get_service_model("elbv2")
    balancer = elbv2.operation_model("CreateLoadBalancer").input_shape.members["Name"]
    group = elbv2.operation_model("CreateTargetGroup").input_shape.members["Name"]
    for doc in (balancer.documentation, group.documentation):
        assert "maximum of 32 characters, must contain only alphanumeric characters or " \
               "hyphens" in doc and "not begin or end with a hyphen" in doc
    assert 'must not begin with "internal-"' in balancer.documentation
    assert "internal-" not in group.documentation


@pytest.mark.parametrize("name", ["internal", "internal-api", "internal-x"])
def test_a_service_name_that_makes_an_elb_name_aws_refuses_is_refused(name):
    assert str(service_error(VALID, name)) == (
        f"name: {name!r} is not valid; its load balancer would be named like "
        f"'{name}-alb-xxxxxxx' begins with 'internal-', which AWS reserves (ELBv2 API "
        "reference, CreateLoadBalancer/CreateTargetGroup Name)")


@given(st.from_regex(r"[a-z][a-z0-9-]{0,22}", fullmatch=True))
def test_every_accepted_service_name_yields_elb_names_aws_accepts(name):
    try:
        v.validate_service_name(name)
    except ConfigError:
        return
    for kind, suffix in v.DERIVED_ELB_SUFFIXES.items():
        derived = f"{name}{suffix}-abcdefg"
        assert len(derived) <= 32 and re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
                                                   derived)
        assert kind != "load balancer" or not derived.startswith("internal-")


@given(st.sampled_from(["vpc", "subnet", "sg"]), st.integers(0, 24),
       st.text(alphabet="0123456789abcdefABCDEFg", min_size=0, max_size=24))
def test_ec2_ids_have_8_or_17_lowercase_hex_after_the_prefix(prefix, _, body):
    shape = {"vpc": "vpc_id", "subnet": "subnet_id", "sg": "security_group_id"}[prefix]
    value = f"{prefix}-{body}"
    valid = len(body) in (8, 17) and re.fullmatch(r"[0-9a-f]+", body) is not None
    if valid:
        assert v.check(shape, value, "x") == value
    else:
        with pytest.raises(ConfigError):
            v.check(shape, value, "x")


@pytest.mark.parametrize("ids", [["subnet-0a1a1a1a", "subnet-0a1a1a1a"],
                                 ["subnet-0a1a1a1a", "subnet-0b1b1b1b", "subnet-0a1a1a1a"]])
def test_the_same_subnet_twice_is_refused(ids):
    error = refusal(v.check_id_list, "subnet_id", ids, "public_subnet_ids")
    assert (error.setting, error.value) == ("public_subnet_ids", "subnet-0a1a1a1a")


def test_a_subnet_both_public_and_private_is_refused():
    error = service_error(service(public_subnet_ids=["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
                                  private_subnet_ids=["subnet-0c1c1c1c", "subnet-0b1b1b1b"]))
    assert (error.setting, error.value) == ("private_subnet_ids", "subnet-0b1b1b1b")


def test_every_region_botocore_knows_has_a_zone_count():
    counts = {region: usable_zone_count(region) for region in known_regions()}
    assert all(2 <= count <= 6 for count in counts.values())
    assert (counts["eu-west-1"], counts["us-west-1"], counts["us-east-1"]) == (3, 2, 6)


@pytest.mark.parametrize(("region", "azs"), [("eu-west-1", 4), ("us-west-1", 3),
                                             ("eu-central-2", 4), ("eu-west-1", 6)])
def test_more_zones_than_the_region_offers_are_refused(region, azs):
    error = refusal(parse_network_args, {"az_count": azs}, "network", region)
    assert (error.setting, error.value) == ("network.az_count", azs)
    assert f"at most {usable_zone_count(region)}: the Availability Zones an account can use " \
           f"in {region}" in str(error)


def test_a_key_of_another_region_than_its_secret_is_refused():
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab"
    error = service_error(container(secrets={"T": {"arn": SECRET, "kms_key_arn": key}}))
    assert (error.setting, error.value) == ("containers[0].secrets.T.kms_key_arn", key)


@pytest.mark.parametrize("account", ["999999999999", "000000000001"])
def test_a_secret_of_another_account_needs_its_customer_managed_key(account):
    other = f"arn:aws:secretsmanager:eu-west-1:{account}:secret:db-AbCdEf"
    args = container(secrets={"DB": {"arn": other}})
    with pytest.raises(ConfigError) as raised:
        parse_service_args("web", args, account_id="111122223333")
    assert (raised.value.setting, raised.value.value) == ("containers[0].secrets.DB.arn", other)
    assert "another account cannot decrypt under the AWS-managed key" in str(raised.value)
    key = f"arn:aws:kms:eu-west-1:{account}:key/1234abcd-12ab"
    args = container(secrets={"DB": {"arn": other, "kms_key_arn": key}})
    assert parse_service_args("web", args, account_id="111122223333").containers[0].secrets
    own = container(secrets={"DB": {"arn": SECRET}})
    assert parse_service_args("web", own, account_id="111122223333").containers[0].secrets


@given(st.sampled_from(known_regions()), st.sampled_from(known_regions()),
       st.sampled_from(["shipyard:service_defaults", "shipyard:load_balancer",
                        "shipyard:internal_load_balancer"]))
def test_a_certificate_is_refused_in_any_region_but_the_stacks(stack_region, region, key):
    from stack_settings import check_regions
    certificate = f"arn:aws:acm:{region}:111122223333:certificate/0000-1"
    document = {"certificate_arn": certificate}
    if region == stack_region:
        check_regions(document, key, stack_region)
        check_regions([{"certificate_arn": certificate}], "shipyard:services", stack_region)
        return
    for where, value, named in ((key, document, f"{key}.certificate_arn"),
                                ("shipyard:services", [{}, {"certificate_arn": certificate}],
                                 "shipyard:services[1].certificate_arn")):
        with pytest.raises(ConfigError) as raised:
            check_regions(value, where, stack_region)
        assert (raised.value.setting, raised.value.value) == (named, certificate)
