"""GIVEN an application stack file WHEN the delivery project reads it THEN it finds the Route 53
records the deploy role may change and the stack's chosen policy levels, and refuses a value
the program would refuse, naming the setting."""

import pytest
import yaml
from shipyard.errors import ConfigError
from shipyard_delivery.app_stacks import policy_levels, read_app_stack


def _app(tmp_path, config: dict, policies: tuple[str, ...] = ("config.qa.json",)):
    (tmp_path / "policy").mkdir(exist_ok=True)
    for name in policies:
        (tmp_path / "policy" / name).write_text("{}")
    (tmp_path / "Pulumi.qa.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_records_of_the_shared_load_balancer_and_of_each_service(tmp_path):
    app = _app(tmp_path, {
        "shipyard:load_balancer": {"dns": {"zone_id": "ZSHARED1", "name": "Shop.Example.com."}},
        "shipyard:services": [
            {"name": "web", "dns": {"zone_id": "ZOWN2", "name": "web.example.org"}},
            {"name": "backend", "topology": "private"},
            {"name": "again", "dns": {"zone_id": "ZSHARED1", "name": "shop.example.com"}},
        ]})
    # Normalised as the component normalises them (lowercase, no trailing dot), no duplicates.
    assert read_app_stack("qa", app).dns_records == (
        ("ZSHARED1", "shop.example.com"), ("ZOWN2", "web.example.org"))


def test_a_record_of_the_internal_load_balancer(tmp_path):
    app = _app(tmp_path, {
        "shipyard:internal_load_balancer": {"callers": ["web"], "dns": {
            "zone_id": "ZPRIVATE3", "name": "api.internal.example.com"}},
        "shipyard:services": [{"name": "web"}]})
    assert read_app_stack("qa", app).dns_records == (("ZPRIVATE3", "api.internal.example.com"),)


def test_a_record_in_service_defaults_applies_to_every_service(tmp_path):
    app = _app(tmp_path, {
        "shipyard:service_defaults": {"dns": {"zone_id": "ZDEF", "name": "a.example.com"}},
        "shipyard:services": [{"name": "web"}, {"name": "api", "dns": None}]})
    assert read_app_stack("qa", app).dns_records == (("ZDEF", "a.example.com"),)


def test_no_records_without_dns(tmp_path):
    app = _app(tmp_path, {"shipyard:services": [{"name": "web"}]})
    assert read_app_stack("qa", app).dns_records == ()


def test_a_malformed_zone_is_refused_naming_the_setting(tmp_path):
    app = _app(tmp_path, {"shipyard:services": [
        {"name": "web", "dns": {"zone_id": "*", "name": "web.example.com"}}]})
    with pytest.raises(ConfigError) as raised:
        read_app_stack("qa", app)
    assert str(raised.value).startswith("shipyard:services[0].dns.zone_id: '*' is not valid")


def test_policy_levels_default_to_the_stack_named_file(tmp_path):
    app = _app(tmp_path, {"shipyard:services": []})
    assert read_app_stack("qa", app).policy_config == "policy/config.qa.json"


def test_a_stack_may_choose_another_stacks_policy_levels(tmp_path):
    app = _app(tmp_path, {"shipyard:policy_config": "policy/config.staging.json"},
               policies=("config.staging.json",))
    assert read_app_stack("qa", app).policy_config == "policy/config.staging.json"


def test_the_committed_full_stack_example_is_deliverable():
    fullstack = read_app_stack("fullstack")
    assert fullstack.policy_config == "policy/config.staging.json"
    assert fullstack.dns_records == (("Z0123456789ABCDEFGHIJ", "shop.example.com"),)


@pytest.mark.parametrize("chosen", ["../outside.json", "/etc/passwd"])
def test_policy_levels_outside_the_project_are_refused(tmp_path, chosen):
    app = _app(tmp_path, {"shipyard:policy_config": chosen})
    with pytest.raises(ConfigError) as raised:
        read_app_stack("qa", app)
    assert str(raised.value) == (
        f"Pulumi.qa.yaml: shipyard:policy_config: {chosen!r} is not valid; a policy config "
        "file inside the project, such as policy/config.staging.json")


@pytest.mark.parametrize("config", [{"shipyard:policy_config": "policy/missing.json"}, {}])
def test_missing_policy_levels_are_refused_before_a_policy_group_exists(tmp_path, config):
    app = _app(tmp_path, config, policies=())
    stack = read_app_stack("qa", app)
    with pytest.raises(ConfigError) as raised:
        policy_levels(stack, app)
    assert str(raised.value) == (
        f"Pulumi.qa.yaml: shipyard:policy_config: {stack.policy_config!r} is not valid; a "
        "policy config file inside the project, such as policy/config.staging.json")


def test_policy_levels_are_read_from_the_chosen_file(tmp_path):
    app = _app(tmp_path, {}, policies=())
    (app / "policy" / "config.qa.json").write_text('{"all": "mandatory"}')
    assert policy_levels(read_app_stack("qa", app), app) == {"all": "mandatory"}
