"""GIVEN a topology mistake in stack config WHEN the program loads it THEN it stops before
registering anything, with a message naming the service, the setting and what is allowed; and
the pure routing rules (pattern overlap, priorities) on their own."""

import itertools
import json

import pytest
from conftest import SAMPLE, one, run_stack, services_of
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st
from shipyard.errors import ConfigError
from shipyard.routing import Route, allocate_priorities, patterns_intersect

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


def failure(stack: str = "fullstack", **overrides) -> str:
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, **overrides)
    assert raised.value.registered_before_failure == []
    return str(raised.value)


def fullstack_services(**changes: dict) -> list:
    """The example's services with per-service changes (None deletes a key)."""
    services = services_of("fullstack")
    for service in services:
        for key, value in changes.get(service["name"], {}).items():
            if value is None:
                service.pop(key, None)
            else:
                service[key] = value
    return services


def test_two_services_claiming_the_same_host_are_refused():
    services = fullstack_services(api={"routing": {"hosts": ["SHOP.example.com"]}})
    assert failure(shipyard__services=services) == (
        "shipyard:services[1].routing.hosts: ['shop.example.com'] is not valid; service 'api': "
        "host 'shop.example.com' overlaps 'shop.example.com' of service 'frontend' "
        "(shipyard:services[0].routing); two services may not claim the same host and path: "
        "make the patterns disjoint (e.g. /api/* and /web/*) or add distinct hosts")


def test_overlapping_path_rules_are_refused():
    services = fullstack_services(frontend={"routing": {"paths": ["/*"]}},
                                  api={"routing": {"paths": ["/api/*"]}})
    assert failure(shipyard__services=services) == (
        "shipyard:services[1].routing.paths: ['/api/*'] is not valid; service 'api': host "
        "'(any)' and path '/api/*' overlap host '(any)' and path '/*' of service 'frontend' "
        "(shipyard:services[0].routing); two services may not claim the same host and path: "
        "make the patterns disjoint (e.g. /api/* and /web/*) or add distinct hosts")


def test_same_path_on_different_hosts_is_fine():
    services = fullstack_services(
        frontend={"routing": {"hosts": ["shop.example.com"], "paths": ["/app/*"]}},
        api={"routing": {"hosts": ["api.example.com"], "paths": ["/app/*"]}})
    recording = run_stack("fullstack", shipyard__services=services)
    rules = {r.name: r for r in recording.resources if r.type == "aws:lb/listenerRule:ListenerRule"}
    assert sorted(rules) == ["api-rule", "frontend-rule", "frontend-test-rule"]


def test_private_service_with_a_certificate_but_no_callers():
    services = fullstack_services(backend={
        "callers": None,
        "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/0000-1"})
    for service in services[:2]:  # nobody uses its address yet
        for container in service["containers"]:
            container.get("environment", {}).pop("BACKEND_URL", None)
    assert failure(shipyard__services=services) == (
        "shipyard:services[2].callers: None is not valid; service 'backend' is private: name "
        "the services that may call it (callers), or nothing can reach it. A certificate does "
        "not make it reachable: a private service has no load balancer.")


def test_private_service_refuses_its_own_load_balancer_settings():
    services = fullstack_services(backend={"ingress_cidrs": ["10.0.0.0/8"]})
    assert failure(shipyard__services=services) == (
        "shipyard:services[2].ingress_cidrs: ['10.0.0.0/8'] is not valid; service 'backend' is "
        "private: it has no load balancer")


def test_blue_green_without_a_test_listener_is_refused():
    services = services_of("staging")
    services[0]["deployment"] = {"strategy": "BLUE_GREEN", "bake_time_minutes": 5}
    assert failure("staging", shipyard__services=services) == (
        "shipyard:services[0].deployment.test_listener_port: None is not valid; service 'web' "
        "deploys BLUE_GREEN: it needs a test listener (a port such as 8443, with "
        "test_ingress_cidrs) so the new revision can be tested before production traffic "
        "shifts")


def test_blue_green_on_a_shared_load_balancer_without_a_test_listener_is_refused():
    balancer = {"certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/0000-3"}
    assert failure(shipyard__load_balancer=balancer) == (
        "shipyard:services[0].deployment.strategy: 'BLUE_GREEN' is not valid; service "
        "'frontend' deploys BLUE_GREEN on a shared load balancer without a test listener: set "
        "shipyard:load_balancer.test_listener_port and test_ingress_cidrs (an internal load "
        "balancer has none: deploy ROLLING there)")


def test_test_listener_open_to_the_internet_is_refused():
    services = services_of("prod")
    services[0]["deployment"] = {"strategy": "BLUE_GREEN", "test_listener_port": 8443,
                                 "test_ingress_cidrs": ["0.0.0.0/0"]}
    assert failure("prod", shipyard__services=services) == (
        "shipyard:services[0].deployment.test_ingress_cidrs: '0.0.0.0/0' is not valid; a "
        "restricted range: the test listener serves an untested revision")


def test_worker_with_a_port_is_refused():
    services = fullstack_services()
    services[3]["containers"][0]["port"] = 9000
    assert failure(shipyard__services=services) == (
        "shipyard:services[3].containers: ['worker'] is not valid; service 'worker' is a "
        "worker: no container has a port (remove 'port', or use topology public, shared or "
        "private)")


def test_worker_cannot_deploy_blue_green():
    services = fullstack_services(worker={"deployment": {"strategy": "CANARY"}})
    assert failure(shipyard__services=services) == (
        "shipyard:services[3].deployment.strategy: 'CANARY' is not valid; service 'worker' is "
        "worker: CANARY shifts load balancer traffic, so it needs topology public or shared")


def test_callers_must_be_services_of_the_stack():
    services = fullstack_services(backend={"callers": ["frontend", "admin"]})
    assert failure(shipyard__services=services) == (
        "shipyard:services[2].callers: 'admin' is not valid; another service of this stack: "
        "frontend, api, worker")


def test_private_address_only_for_declared_callers():
    services = fullstack_services(backend={"callers": ["frontend"]})
    assert failure(shipyard__services=services) == (
        "shipyard:services[1].containers[0].environment.BACKEND_URL.service_url: 'backend' is "
        "not valid; service 'backend' is private and 'api' is not among its callers; add it to "
        "shipyard:services[2].callers")


def test_services_referring_to_each_other_are_refused():
    services = fullstack_services()
    services[1]["containers"][0]["environment"]["FRONTEND_URL"] = {"service_url": "frontend"}
    services[0]["containers"][1]["environment"]["API_URL"] = {"service_url": "api"}
    assert failure(shipyard__services=services) == (
        "shipyard:services[0]: 'frontend -> api -> frontend' is not valid; services depend on "
        "each other in a cycle (callers and service_url references); break it, e.g. make the "
        "called service private so its address is static")


def test_egress_to_the_internet_on_a_database_port_is_refused():
    services = fullstack_services(worker={"egress": [{"cidr": "0.0.0.0/0", "port": 5432}]})
    assert failure(shipyard__services=services) == (
        "shipyard:services[3].egress[0].cidr: '0.0.0.0/0' is not valid; a specific range; HTTPS "
        "to anywhere is already allowed, other ports to the whole internet are not")


def test_routing_only_on_the_shared_load_balancer():
    services = services_of("staging")
    services[0]["routing"] = {"paths": ["/*"]}
    assert failure("staging", shipyard__services=services) == (
        "shipyard:services[0].routing: {'paths': ['/*']} is not valid; service 'web' is public: "
        "routing applies to topology shared only")


def test_pinned_priorities_must_be_unique():
    services = fullstack_services(frontend={"routing": {"hosts": ["shop.example.com"],
                                                        "priority": 5}},
                                  api={"routing": {"hosts": ["api.example.com"], "priority": 5}})
    assert failure(shipyard__services=services) == (
        "shipyard:services[1].routing.priority: 5 is not valid; already used by service "
        "'frontend'; priorities are unique per listener")


def test_a_firelens_option_needs_a_log_router():
    services = fullstack_services()
    del services[0]["containers"][2]
    assert failure(shipyard__services=services) == (
        "shipyard:services[0].containers: ['nginx', 'app'] is not valid; log_router_options "
        "needs a container with firelens (the log router)")


# The ECS agent's own cases (aws/amazon-ecs-agent ecs-agent/utils/firelens/firelens_test.go):
# it chowns the socket folder to a numeric uid and fails the task on anything else.
@pytest.mark.parametrize("user", ["1234", "1234:6789", "1234:abc", "10001:10001"])
def test_the_log_router_runs_as_a_numeric_non_root_uid(user):
    services = fullstack_services()
    services[0]["containers"][2]["user"] = user
    definitions = json.loads(one(run_stack("fullstack", shipyard__services=services),
                                 TASK_DEFINITION,
                                 "frontend-task")["containerDefinitions"])
    assert {d["name"]: d["user"] for d in definitions}["log-router"] == user


@pytest.mark.parametrize("user", ["fluent", "fluent:fluent", "1234:dog:cat", "1234:", "-1"])
def test_a_log_router_user_the_agent_cannot_chown_to_is_refused(user):
    services = fullstack_services()
    services[0]["containers"][2]["user"] = user
    assert failure(shipyard__services=services) == (
        f"shipyard:services[0].containers[2].user: {user!r} is not valid; for the FireLens log "
        "router, a numeric uid, uid:gid or uid:group such as 10001:10001 (ECS gives the log "
        "socket's folder to that uid)")


def test_healthy_start_needs_a_health_check():
    services = fullstack_services()
    del services[0]["containers"][1]["health_check_command"]
    assert failure(shipyard__services=services) == (
        "shipyard:services[0].containers[0].depends_on[0].condition: 'HEALTHY' is not valid; "
        "container 'app' has no health_check_command, so it never becomes HEALTHY")


@pytest.mark.parametrize("environment", ["dev", "qa", "perf-2"])
def test_any_environment_name(environment):
    recording = run_stack("staging", shipyard__environment=environment)
    tags = one(recording, "pulumi:providers:aws")["defaultTags"]
    tags = json.loads(tags)["tags"] if isinstance(tags, str) else tags["tags"]
    assert tags["environment"] == environment


# --- pure routing rules ---------------------------------------------------------------------

@pytest.mark.parametrize("first,second,overlap", [
    ("/api/*", "/web/*", False), ("/api/*", "/api/v1/*", True), ("/*", "/health", True),
    ("/a?c", "/abc", True), ("/a?c", "/abd", False), ("/img/*.png", "/img/*.jpg", False),
    ("/img/*.png", "/img/a*", True), ("*.example.com", "api.example.com", True),
    ("api.example.com", "www.example.com", False), ("/x", "/x/", False),
])
def test_pattern_overlap(first, second, overlap):
    assert patterns_intersect(first, second) is overlap
    assert patterns_intersect(second, first) is overlap


@given(st.text(alphabet="ab/", max_size=6), st.text(alphabet="ab/*?", max_size=5),
       st.text(alphabet="ab/*?", max_size=5))
def test_overlap_agrees_with_matching(text, first, second):
    """Whenever a concrete path matches both patterns, they are reported as overlapping."""
    import fnmatch
    matches_both = (fnmatch.fnmatchcase(text, first.replace("[", "[[]"))
                    and fnmatch.fnmatchcase(text, second.replace("[", "[[]")))
    if matches_both:
        assert patterns_intersect(first, second)


def test_priorities_do_not_depend_on_declaration_order():
    routes = [Route("web", ("www.example.com",), ()), Route("api", ("api.example.com",), ()),
              Route("admin", ("admin.example.com",), ("/admin/*",)),
              Route("static", ("static.example.com",), ("/img/*",)),
              Route("ops", ("ops.example.com",), (), 7)]
    # Host and path before host only; longer literal path first; then by name; pins kept.
    expected = {"admin": 100, "static": 110, "api": 120, "web": 130, "ops": 7}
    for permutation in itertools.permutations(routes):
        assert allocate_priorities(list(permutation)) == expected


def test_a_new_stack_chooses_its_policy_levels_explicitly(tmp_path):
    import yaml
    from conftest import PROJECT

    from shipyard_preview.stack_config import load_stack_config
    for name in ("Pulumi.yaml", "policy"):
        (tmp_path / name).symlink_to(PROJECT / name)
    stack = yaml.safe_load((SAMPLE / "Pulumi.staging.yaml").read_text())
    stack["config"]["shipyard:environment"] = "qa"
    (tmp_path / "Pulumi.qa.yaml").write_text(yaml.safe_dump(stack))
    with pytest.raises(ConfigError) as raised:
        load_stack_config(tmp_path, "qa")
    assert str(raised.value) == (
        "Pulumi.qa.yaml: shipyard:policy_config: None is not valid; choose the stack's policy "
        "levels: add policy/config.qa.json or set shipyard:policy_config to an existing one "
        "(e.g. policy/config.staging.json)")
    stack["config"]["shipyard:policy_config"] = "../outside.json"
    (tmp_path.parent / "outside.json").write_text("{}")
    (tmp_path / "Pulumi.qa.yaml").write_text(yaml.safe_dump(stack))
    with pytest.raises(ConfigError) as raised:
        load_stack_config(tmp_path, "qa")
    assert raised.value.setting == "Pulumi.qa.yaml: shipyard:policy_config"
    stack["config"]["shipyard:policy_config"] = "policy/config.staging.json"
    (tmp_path / "Pulumi.qa.yaml").write_text(yaml.safe_dump(stack))
    config = load_stack_config(tmp_path, "qa")
    assert config.policy_config == json.loads((PROJECT / "policy" / "config.staging.json")
                                              .read_text())


def test_extra_security_groups_are_attached_after_the_services_own():
    services = fullstack_services(worker={"extra_security_group_ids": ["sg-0fedcba9876543210"]})
    recording = run_stack("fullstack", shipyard__services=services)
    groups = {r.id: r.name for r in recording.resources
              if r.type == "aws:ec2/securityGroup:SecurityGroup"}
    worker = next(r for r in recording.resources
                  if r.type == "aws:ecs/service:Service" and r.name == "worker-service")
    attached = json_format.MessageToDict(worker.properties)["networkConfiguration"][
        "securityGroups"]
    assert [groups.get(g, g) for g in attached] == ["worker-service-sg", "sg-0fedcba9876543210"]


def test_more_than_four_extra_groups_are_refused():
    extra = [f"sg-0000000{i}" for i in range(5)]
    services = fullstack_services(worker={"extra_security_group_ids": extra})
    assert failure(shipyard__services=services) == (
        f"shipyard:services[3].extra_security_group_ids: {extra!r} is not valid; at most 4 (a "
        "task carries at most 5 groups, one is its own)")


@pytest.mark.parametrize("change,message", [
    ({"test_ingress_cidrs": ["0.0.0.0/0"]},
     "shipyard:load_balancer.test_ingress_cidrs: '0.0.0.0/0' is not valid; a restricted range: "
     "the test listener serves an untested revision"),
    ({"test_ingress_cidrs": None},
     "shipyard:load_balancer.test_ingress_cidrs: None is not valid; required with "
     "test_listener_port: who may reach the test listener"),
    ({"test_listener_port": 443},
     "shipyard:load_balancer.test_listener_port: 443 is not valid; an integer from 1024 to "
     "65535"),
    ({"waf": {"enabled": True, "rate_limit": 5}},
     "shipyard:load_balancer.waf.rate_limit: 5 is not valid; an integer from 10 to 2000000000"),
    ({"dns": {"zone_id": "zone-1", "name": "shop.example.com"}},
     "shipyard:load_balancer.dns.zone_id: 'zone-1' is not valid; a Route 53 hosted zone id such "
     "as Z0123456789ABCDEFGHIJ"),
])
def test_shared_load_balancer_settings_are_checked(change, message):
    from conftest import load_stack_config
    config = json.loads(load_stack_config(SAMPLE, "fullstack").config["shipyard:load_balancer"])
    for key, value in change.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    assert failure(shipyard__load_balancer=config) == message


def test_load_balancer_config_without_shared_services_is_refused():
    assert failure("staging", shipyard__load_balancer={"test_listener_port": 8443}) == (
        "shipyard:load_balancer: {'test_listener_port': 8443} is not valid; only used when a "
        "service of topology "
        "shared is routed on it; remove it or route a service on it")
