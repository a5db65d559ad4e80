"""GIVEN the full-stack example with `api` moved behind the stack's internal load balancer
(shipyard:internal_load_balancer, callers frontend and worker) WHEN the program runs THEN the
internal ALB lives in the private subnets, admits exactly its callers' groups, routes `api` by
host on its own HTTPS listener, and the api tasks admit only that ALB; callers get the address
before the ALB exists; the pack finds nothing mandatory. Bad config stops before anything is
registered, naming the setting."""

import json

import pytest
from conftest import POLICY_DIR, inputs, one, run_stack, services_of
from hypothesis import given, settings
from hypothesis import strategies as st
from shipyard.errors import ConfigError
from test_stack_config_properties import SETTINGS, values

from shipyard_preview.analyzer import analyze

CERTIFICATE = "arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000009"
INTERNAL = {"callers": ["frontend", "worker"], "certificate_arn": CERTIFICATE}
API_HOST = "api.internal.example.com"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"


def services(**api_routing):
    """The full-stack example's services, api routed on the internal load balancer."""
    result = services_of("fullstack")
    for service in result:
        if service["name"] == "api":
            service["routing"] = {"hosts": [API_HOST], "load_balancer": "internal",
                                  **api_routing}
    return result


@pytest.fixture(scope="module")
def stack():
    return run_stack("fullstack", shipyard__services=services(),
                     shipyard__internal_load_balancer=INTERNAL)


def group_ids(recording) -> dict[str, str]:
    """Security group id -> logical name."""
    return {r.id: r.name for r in recording.resources if r.type == SG}


def failure(**overrides) -> str:
    with pytest.raises(ConfigError) as raised:
        run_stack("fullstack", **overrides)
    assert raised.value.registered_before_failure == []
    return str(raised.value)


def test_the_internal_alb_lives_in_the_private_subnets(stack):
    balancers = inputs(stack, "aws:lb/loadBalancer:LoadBalancer")
    assert sorted(balancers) == ["private-alb", "shared-alb"]
    internal, public = balancers["private-alb"], balancers["shared-alb"]
    assert (internal["internal"], public["internal"]) == (True, False)
    subnet_names = {r.id: r.name for r in stack.resources if r.type == "aws:ec2/subnet:Subnet"}
    assert sorted(subnet_names[s] for s in internal["subnets"]) == [
        "network-vpc-private-1", "network-vpc-private-2"]
    assert sorted(subnet_names[s] for s in public["subnets"]) == [
        "network-vpc-public-1", "network-vpc-public-2"]
    assert stack.outputs["internal_url"].startswith("https://private-alb-")


def test_the_internal_alb_admits_exactly_its_callers(stack):
    groups = group_ids(stack)
    alb_group = next(i for i, n in groups.items() if n == "private-alb-sg")
    into_alb = {(r["fromPort"], groups.get(r.get("referencedSecurityGroupId")), r.get("cidrIpv4"))
                for r in inputs(stack, INGRESS).values() if r["securityGroupId"] == alb_group}
    assert into_alb == {(443, "frontend-service-sg", None), (80, "frontend-service-sg", None),
                        (443, "worker-service-sg", None), (80, "worker-service-sg", None)}
    to_alb = {(groups[r["securityGroupId"]], r["fromPort"])
              for r in inputs(stack, EGRESS).values()
              if r.get("referencedSecurityGroupId") == alb_group}
    assert to_alb == {("frontend-service-sg", 443), ("frontend-service-sg", 80),
                      ("worker-service-sg", 443), ("worker-service-sg", 80)}
    api_group = next(i for i, n in groups.items() if n == "api-service-sg")
    into_api = {(r["fromPort"], groups.get(r.get("referencedSecurityGroupId")), r.get("cidrIpv4"))
                for r in inputs(stack, INGRESS).values() if r["securityGroupId"] == api_group}
    assert into_api == {(8080, "private-alb-sg", None)}


def test_api_is_routed_on_the_internal_https_listener(stack):
    listeners = inputs(stack, "aws:lb/listener:Listener")
    assert (listeners["private-https"]["port"], listeners["private-https"]["protocol"],
            listeners["private-https"]["certificateArn"]) == (443, "HTTPS", CERTIFICATE)
    assert listeners["private-http-redirect"]["defaultActions"][0]["type"] == "redirect"
    assert "private-test" not in listeners
    rules = inputs(stack, "aws:lb/listenerRule:ListenerRule")
    # Priorities are allocated per load balancer: each starts at 100.
    assert (rules["api-rule"]["priority"], rules["api-rule"]["conditions"]) == (
        100, [{"hostHeader": {"values": [API_HOST]}}])
    assert "/private-https/" in rules["api-rule"]["listenerArn"]
    assert rules["frontend-rule"]["priority"] == 100
    assert "/shared-https/" in rules["frontend-rule"]["listenerArn"]


def test_callers_get_the_address_and_only_the_public_alb_has_a_waf(stack):
    worker = json.loads(one(stack, "aws:ecs/taskDefinition:TaskDefinition", "worker-task")[
        "containerDefinitions"])
    assert {e["name"]: e["value"] for e in worker[0]["environment"]}["API_URL"] == \
        f"https://{API_HOST}"
    association = one(stack, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert "/shared-alb-" in association["resourceArn"]


def test_the_internal_topology_passes_the_pack(stack):
    run = analyze(stack, POLICY_DIR)
    assert {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run.verdicts
            if v.enforcement_level == "mandatory"} == set()


@pytest.mark.parametrize("internal, message", [
    (None, "shipyard:internal_load_balancer: None is not valid; a mapping with callers: "
           "[service names] (who may reach the internal load balancer)"),
    ({"certificate_arn": CERTIFICATE},
     "shipyard:internal_load_balancer.callers: None is not valid; a non-empty list of service "
     "names: an internal load balancer admits only its declared callers"),
    ({"callers": ["frontend", "shop"]},
     "shipyard:internal_load_balancer.callers: 'shop' is not valid; a service of this stack: "
     "frontend, api, backend, worker"),
    ({"callers": ["api"]},
     "shipyard:internal_load_balancer.callers: 'api' is not valid; a service not routed on the "
     "internal load balancer itself: its group must exist before the load balancer that admits "
     "it"),
    ({"callers": ["frontend", "frontend"]},
     "shipyard:internal_load_balancer.callers: ['frontend', 'frontend'] is not valid; each "
     "service at most once"),
    ({**INTERNAL, "ingress_cidrs": ["10.0.0.0/8"]},
     "shipyard:internal_load_balancer.ingress_cidrs: ['10.0.0.0/8'] is not valid; not on an "
     "internal load balancer (it admits only its callers)"),
    ({**INTERNAL, "waf": {"enabled": True}},
     "shipyard:internal_load_balancer.waf: {'enabled': True} is not valid; not on an internal "
     "load balancer (it admits only its callers)"),
    ({**INTERNAL, "test_listener_port": 8443},
     "shipyard:internal_load_balancer.test_listener_port: 8443 is not valid; not on an "
     "internal load balancer (it admits only its callers)"),
    ({**INTERNAL, "routes": {}},
     "shipyard:internal_load_balancer: 'routes' is not valid; unknown key; allowed keys are "
     "callers, certificate_arn, deletion_protection, dns"),
])
def test_bad_internal_load_balancer_config_is_refused(internal, message):
    assert failure(shipyard__services=services(),
                   shipyard__internal_load_balancer=internal).startswith(message)


def test_an_internal_load_balancer_nobody_is_routed_on_is_refused():
    assert failure(shipyard__internal_load_balancer=INTERNAL) == (
        f"shipyard:internal_load_balancer: {INTERNAL!r} is not valid; only used when a service of "
        "topology shared has routing {load_balancer: internal}; remove it or route a service "
        "on it")


def test_an_unknown_load_balancer_name_is_refused():
    assert failure(shipyard__services=services(load_balancer="private"),
                   shipyard__internal_load_balancer=INTERNAL) == (
        "shipyard:services[1].routing.load_balancer: 'private' is not valid; public "
        "(shipyard:load_balancer, the default) or internal (shipyard:internal_load_balancer)")


def test_only_callers_may_be_given_the_internal_address():
    assert failure(shipyard__services=services(),
                   shipyard__internal_load_balancer={**INTERNAL, "callers": ["frontend"]}) == (
        "shipyard:services[3].containers[0].environment.API_URL.service_url: 'api' is not "
        "valid; service 'api' is on the internal load balancer and 'worker' is not among its "
        "callers; add it to shipyard:internal_load_balancer.callers")


def test_an_internal_address_needs_a_literal_host():
    routed_by_path = services_of("fullstack")
    for service in routed_by_path:
        if service["name"] == "api":
            service["routing"] = {"paths": ["/api/*"], "load_balancer": "internal"}
    assert failure(shipyard__services=routed_by_path,
                   shipyard__internal_load_balancer=INTERNAL) == (
        "shipyard:services[3].containers[0].environment.API_URL.service_url: 'api' is not "
        "valid; service 'api' is on the internal load balancer without a literal host in its "
        "routing; give it hosts: [<name in your private zone>] so its address is known before "
        "the load balancer")


def test_blue_green_behind_the_internal_load_balancer_is_refused():
    blue_green = services()
    blue_green[1]["deployment"] = {"strategy": "BLUE_GREEN"}
    assert failure(shipyard__services=blue_green, shipyard__internal_load_balancer=INTERNAL) == (
        "shipyard:services[1].deployment.strategy: 'BLUE_GREEN' is not valid; service 'api' "
        "deploys BLUE_GREEN on a shared load balancer without a test listener: set "
        "shipyard:load_balancer.test_listener_port and test_ingress_cidrs (an internal load "
        "balancer has none: deploy ROLLING there)")


def test_prod_needs_a_certificate_on_the_internal_load_balancer():
    assert failure(shipyard__environment="prod", shipyard__services=services(),
                   shipyard__internal_load_balancer={"callers": ["frontend", "worker"]}) == (
        "shipyard:internal_load_balancer.certificate_arn: None is not valid; required in prod: "
        "an ACM certificate ARN for the internal HTTPS listener (for a name in a private hosted "
        "zone)")


def test_both_load_balancers_write_access_logs_under_their_own_prefix():
    from iam_evaluation import is_allowed
    from test_iam_seams import document, elb_writes, log_key

    logged = run_stack("fullstack", shipyard__services=services(), shipyard__access_logs=True,
                       shipyard__internal_load_balancer=INTERNAL)
    balancers = inputs(logged, "aws:lb/loadBalancer:LoadBalancer")
    assert {name: lb["accessLogs"]["prefix"] for name, lb in balancers.items()} == {
        "private-alb": "private", "shared-alb": "shared"}
    policy = document(logged, "aws:s3/bucketPolicy:BucketPolicy", "policy")
    for prefix in ("private", "shared"):
        assert is_allowed(elb_writes(log_key(logged, prefix)), resource_policy=policy)
    assert not is_allowed(elb_writes(log_key(logged, "api")), resource_policy=policy)


@settings(SETTINGS, max_examples=25)
@given(internal=values, balancer=st.one_of(st.just("internal"), values), callers=values)
def test_any_value_in_the_new_settings_runs_or_is_refused_clearly(internal, balancer, callers):
    """Odd values where the internal load balancer is configured: a ConfigError naming the
    setting, never another exception."""
    configured = services(load_balancer=balancer)
    for candidate in (internal, {**INTERNAL, "callers": callers}):
        try:
            run_stack("fullstack", shipyard__services=configured,
                      shipyard__internal_load_balancer=candidate)
        except ConfigError as error:
            assert str(error).startswith("shipyard:")
