"""The workload boundary as the delivery code builds it from the stack files: each stack file's
declared grants are in it exactly (so the boundary never cuts what a stack file declares), and a
value that cannot go into a policy, or a boundary IAM would refuse, is a ConfigError naming the
setting before anything is registered. What the boundary allows is evaluated with the roles it
bounds in test_effective_permissions.py."""

import dataclasses

import pytest
import yaml
from delivery_mocks import delivery_run
from role_stacks import DECLARED, EXISTING_KEY, EXISTING_SECRET, ORG_CONFIG, PREBUILT, SMOKE_TEST
from shipyard.errors import ConfigError
from shipyard_delivery import boundary
from shipyard_delivery.app_stacks import read_app_stack
from shipyard_delivery.boundary import workload_boundary
from shipyard_delivery.settings import parse_delivery_settings

from shipyard_preview.mocks import ACCOUNT_ID

STATEMENT = ("an IAM statement with Effect Allow or Deny, Action and Resource (strings or "
             "lists)")


def settings(*stacks: str):
    """The committed org settings delivering `stacks`, all in the mock's account: the boundary
    of an account depends on the stacks in it, not on which one is production (the delivery
    config's rule that prod has an account of its own is tested in test_delivery_input.py)."""
    raw = {k.split(":", 1)[1]: v for k, v in ORG_CONFIG.items()
           if k.startswith("shipyard-delivery:")}
    parsed = parse_delivery_settings(raw)
    template = parsed.stacks[0]
    return dataclasses.replace(parsed, stacks=tuple(
        dataclasses.replace(template, name=s, production=s == "prod", aws_account_id=ACCOUNT_ID)
        for s in stacks))


def stack_file(directory, stack: str, *services: dict, defaults: dict | None = None):
    config = {"shipyard:services": list(services) or [{"name": "web", "containers": [
        {"name": "web", "source": "app", "port": 8080}]}]}
    if defaults:
        config["shipyard:service_defaults"] = defaults
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config},
                                                                      sort_keys=False))
    return read_app_stack(stack, app_dir=directory)


def web(**extra) -> dict:
    return {"name": "web", "containers": [{"name": "web", "source": "app", "port": 8080}],
            **extra}


def by_sid(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_declared_grants_are_in_the_boundary_exactly(tmp_path):
    app = stack_file(tmp_path, "prod", web(
        task_role_statements=DECLARED,
        deployment={"strategy": "BLUE_GREEN", "smoke_test_lambda_arn": SMOKE_TEST},
        containers=[{"name": "web", "source": "app", "port": 8080, "secrets": {
            "DB": {"arn": EXISTING_SECRET, "kms_key_arn": EXISTING_KEY},
            "PARTIAL": {"arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:api"}}},
            {"name": "metrics", "image": PREBUILT}]))
    document = by_sid(workload_boundary(settings("prod"), ACCOUNT_ID, {"prod": app}))
    # The Allows verbatim under Sids of ours; a Deny needs no room in a boundary.
    assert document["DeclaredTaskGrant1"] == {"Sid": "DeclaredTaskGrant1", **DECLARED[0]}
    assert document["DeclaredTaskGrant2"] == {"Sid": "DeclaredTaskGrant2", **DECLARED[1]}
    assert "DeclaredTaskGrant3" not in document
    assert document["InvokeDeclaredSmokeTests"]["Resource"] == [SMOKE_TEST]
    assert document["DecryptDeclaredSecretKeys"]["Resource"] == [EXISTING_KEY]
    # Exactly the secrets named, a partial ARN with exactly AWS's six-character suffix.
    assert document["ReadOwnSecrets"]["Resource"][-2:] == [
        EXISTING_SECRET, "arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-??????"]
    assert document["PullOwnImages"]["Resource"][-1] == \
        "arn:aws:ecr:eu-west-1:111122223333:repository/tools/metrics-agent"


def test_without_declared_grants_the_boundary_has_no_room_for_them(tmp_path):
    document = by_sid(workload_boundary(settings("prod"), ACCOUNT_ID,
                                        {"prod": stack_file(tmp_path, "prod")}))
    assert not {"DeclaredTaskGrant1", "InvokeDeclaredSmokeTests", "DecryptDeclaredSecretKeys"} \
        & set(document)


def test_grants_shared_by_stacks_and_from_service_defaults_appear_once(tmp_path):
    apps = {stack: stack_file(tmp_path, stack, web(), web(name="api"),
                              defaults={"task_role_statements": DECLARED[:1]})
            for stack in ("staging", "prod")}
    document = workload_boundary(settings("staging", "prod"), ACCOUNT_ID, apps)
    declared = [s for s in document["Statement"] if s["Sid"].startswith("DeclaredTaskGrant")]
    assert declared == [{"Sid": "DeclaredTaskGrant1", **DECLARED[0]}]


@pytest.mark.parametrize(("service", "setting", "value", "allowed"), [
    (web(task_role_statements=["s3:GetObject"]), "task_role_statements[0]", "s3:GetObject",
     STATEMENT),
    (web(task_role_statements=[{"Effect": "Allow", "Action": "s3:GetObject"}]),
     "task_role_statements[0]", {"Effect": "Allow", "Action": "s3:GetObject"}, STATEMENT),
    (web(task_role_statements=[{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]),
     "task_role_statements[0]", {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
     STATEMENT),
    (web(task_role_statements={"Effect": "Allow"}), "task_role_statements", {"Effect": "Allow"},
     "a list of IAM statements"),
    (web(deployment={"smoke_test_lambda_arn": "smoke"}), "deployment.smoke_test_lambda_arn",
     "smoke", "arn:aws:lambda:<region>:<account>:function:<name>"),
    (web(containers=[{"name": "web", "image": "nginx@sha256:" + "a" * 64,
                      "secrets": {"DB": {"arn": "arn:aws:ssm:eu-west-1:1:parameter/db"}}}]),
     "containers.secrets.DB.arn", "arn:aws:ssm:eu-west-1:1:parameter/db",
     "a Secrets Manager secret ARN"),
])
def test_a_value_no_policy_can_hold_is_refused_naming_the_setting(tmp_path, service, setting,
                                                                   value, allowed):
    with pytest.raises(ConfigError) as raised:
        stack_file(tmp_path, "prod", service)
    assert str(raised.value) == (f"Pulumi.prod.yaml: shipyard:services[0].{setting}: "
                                 f"{value!r} is not valid; {allowed}")


def test_a_boundary_over_iams_size_quota_is_refused(tmp_path):
    many = [{"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::bucket-{n:03}/*"} for n in range(200)]
    app = stack_file(tmp_path, "prod", web(task_role_statements=many))
    with pytest.raises(ConfigError) as raised:
        workload_boundary(settings("prod"), ACCOUNT_ID, {"prod": app})
    assert str(raised.value).startswith(
        "shipyard-delivery:stacks: ['prod'] is not valid; stacks whose workload boundary for "
        f"account {ACCOUNT_ID} fits IAM's 6144 characters (it has ")
    assert str(raised.value).endswith(
        "): fewer or shorter task_role_statements, or the stacks in accounts of their own")


def test_the_delivery_program_refuses_it_before_registering_anything(monkeypatch):
    monkeypatch.setattr(boundary, "MANAGED_POLICY_LIMIT", 100)
    with pytest.raises(ConfigError) as raised:
        delivery_run()
    assert "fits IAM's 100 characters" in str(raised.value)
    assert raised.value.registered_before_failure == []  # type: ignore[attr-defined]
