"""GIVEN a stack file with a value AWS would refuse at `pulumi up` WHEN `shipyard preview` runs
THEN it exits 2 with one line naming the full key and the value, and no traceback. One class of
AWS refusal per section, several configs each: a certificate of another region wherever a
certificate is set, service names that make load-balancer names AWS refuses, more zones than
the region offers, a subnet listed twice, a secret of another account without its key,
malformed VPC, subnet and group ids. Every refusal here (and in test_topologies_input's fuzzing)
names a config key and the value found there."""

import contextlib
import copy
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PROJECT, SAMPLE

from shipyard_preview.cli import main

LINKED = ("Pulumi.yaml", "__main__.py", "stack_settings.py", "stack_topology.py",
          "artifact_images.py", "app", "examples", "policy")
OTHER_REGION_CERT = ("arn:aws:acm:us-east-1:111122223333:certificate/"
                     "00000000-0000-0000-0000-000000000009")
OTHER_ACCOUNT_SECRET = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:db-AbCdEf"
EXISTING = {"vpc_id": "vpc-0123456789abcdef0",
            "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0b1b1b1b"],
            "private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("refused")
    for name in LINKED:
        (root / name).symlink_to(PROJECT / name)
    return root


def document(stack: str) -> dict:
    source = SAMPLE if stack != "fullstack" else PROJECT
    return copy.deepcopy(yaml.safe_load((source / f"Pulumi.{stack}.yaml").read_text()))


def preview(project: Path, stack: str, doc: dict) -> tuple[int, str]:
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--project-dir", str(project), "preview", stack, "--no-policy"])
    return code, err.getvalue()


def refusal(project: Path, stack: str, doc: dict) -> str:
    code, err = preview(project, stack, doc)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.removeprefix("error: ").rstrip("\n")


def assert_names(message: str, key: str, value: Any) -> None:
    """The refusal starts with the full key and the value found there."""
    assert message.startswith(f"{key}: {value!r} is not valid; "), message


def config(doc: dict) -> dict:
    return doc["config"]


def first_service(doc: dict) -> dict:
    return config(doc)["shipyard:services"][0]


# --- a certificate of another region, wherever a certificate is set -------------------------

def cert_in_defaults(doc):
    config(doc)["shipyard:service_defaults"]["certificate_arn"] = OTHER_REGION_CERT
    return "shipyard:service_defaults.certificate_arn"


def cert_on_the_service(doc):
    first_service(doc)["certificate_arn"] = OTHER_REGION_CERT
    return "shipyard:services[0].certificate_arn"


def cert_on_the_shared_balancer(doc):
    config(doc)["shipyard:load_balancer"]["certificate_arn"] = OTHER_REGION_CERT
    return "shipyard:load_balancer.certificate_arn"


def cert_on_the_internal_balancer(doc):
    api = config(doc)["shipyard:services"][1]
    api["routing"] = {"hosts": ["api.internal.example.com"], "load_balancer": "internal"}
    config(doc)["shipyard:internal_load_balancer"] = {"callers": ["frontend", "worker"],
                                                      "certificate_arn": OTHER_REGION_CERT}
    return "shipyard:internal_load_balancer.certificate_arn"


@pytest.mark.parametrize(("stack", "change"), [
    ("staging", cert_in_defaults), ("prod", cert_in_defaults), ("staging", cert_on_the_service),
    ("fullstack", cert_on_the_shared_balancer), ("fullstack", cert_on_the_internal_balancer)],
    ids=["staging-defaults", "prod-defaults", "service", "shared-lb", "internal-lb"])
def test_a_certificate_of_another_region_is_refused_wherever_it_is_set(project, stack, change):
    doc = document(stack)
    key = change(doc)
    message = refusal(project, stack, doc)
    assert_names(message, key, OTHER_REGION_CERT)
    assert "a certificate in the stack's region eu-west-1" in message


# --- service names whose load-balancer names AWS refuses -------------------------------------

@pytest.mark.parametrize(("stack", "name"), [("staging", "internal"), ("staging", "internal-api"),
                                             ("prod", "internal-web"), ("fullstack", "internal")])
def test_a_service_name_that_makes_a_load_balancer_name_aws_refuses(project, stack, name):
    doc = document(stack)
    if stack == "fullstack":  # the worker: no load balancer of its own, still refused
        config(doc)["shipyard:services"][3]["name"] = name
        index = 3
    else:
        first_service(doc)["name"] = name
        index = 0
    message = refusal(project, stack, doc)
    assert_names(message, f"shipyard:services[{index}].name", name)
    assert "begins with 'internal-', which AWS reserves" in message


# --- more Availability Zones than the region offers ------------------------------------------

@pytest.mark.parametrize(("region", "azs", "allowed"), [
    ("eu-west-1", 4, 3), ("eu-west-1", 6, 3), ("us-west-1", 3, 2), ("eu-central-2", 4, 3)])
def test_more_zones_than_the_region_offers_are_refused(project, region, azs, allowed):
    doc = document("staging")
    config(doc)["aws:region"] = region
    config(doc)["shipyard:network"]["az_count"] = azs
    certificate = f"arn:aws:acm:{region}:111122223333:certificate/00000000-0000-0000-0000-1"
    config(doc)["shipyard:service_defaults"]["certificate_arn"] = certificate
    message = refusal(project, "staging", doc)
    assert_names(message, "shipyard:network.az_count", azs)
    assert f"at most {allowed}: the Availability Zones an account can use in {region}" in message


def test_as_many_zones_as_the_region_offers_preview(project):
    doc = document("staging")
    config(doc)["shipyard:network"]["az_count"] = 3
    assert preview(project, "staging", doc) == (0, "")


# --- subnets listed twice, or both public and private ----------------------------------------

@pytest.mark.parametrize(("change", "key", "value"), [
    ({"public_subnet_ids": ["subnet-0a1a1a1a", "subnet-0a1a1a1a"]},
     "shipyard:network.public_subnet_ids", "subnet-0a1a1a1a"),
    ({"private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0b2b2b2b", "subnet-0a2a2a2a"]},
     "shipyard:network.private_subnet_ids", "subnet-0a2a2a2a"),
    ({"private_subnet_ids": ["subnet-0a2a2a2a", "subnet-0a1a1a1a"]},
     "shipyard:network.private_subnet_ids", "subnet-0a1a1a1a"),
])
def test_a_subnet_listed_twice_is_refused(project, change, key, value):
    doc = document("staging")
    config(doc)["shipyard:network"] = {**EXISTING, **change}
    assert_names(refusal(project, "staging", doc), key, value)


# --- a secret of another account without its customer-managed key ----------------------------

def with_secret(source: dict) -> dict:
    doc = document("staging")
    first_service(doc)["containers"][0]["secrets"]["DB_PASSWORD"] = source
    return doc


@pytest.mark.parametrize("account", ["999999999999", "111122224444"])
def test_a_secret_of_another_account_without_its_key_is_refused(project, account):
    arn = f"arn:aws:secretsmanager:eu-west-1:{account}:secret:db-AbCdEf"
    message = refusal(project, "staging", with_secret({"arn": arn}))
    assert_names(message, "shipyard:services[0].containers[0].secrets.DB_PASSWORD.arn", arn)
    assert f"a secret of account {account}, not the deploying account 111122223333" in message


def test_a_secret_of_another_account_with_its_key_previews(project):
    key = "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert preview(project, "staging", with_secret(
        {"arn": OTHER_ACCOUNT_SECRET, "kms_key_arn": key})) == (0, "")


def test_a_key_of_another_region_than_its_secret_is_refused(project):
    key = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    message = refusal(project, "staging", with_secret(
        {"arn": OTHER_ACCOUNT_SECRET, "kms_key_arn": key}))
    assert_names(message, "shipyard:services[0].containers[0].secrets.DB_PASSWORD.kms_key_arn",
                 key)


# --- malformed VPC, subnet and security group ids --------------------------------------------

@pytest.mark.parametrize(("network", "key", "value"), [
    ({**EXISTING, "vpc_id": "vpc-123"}, "shipyard:network.vpc_id", "vpc-123"),
    ({**EXISTING, "vpc_id": "vpc-0123456789ABCDEF0"}, "shipyard:network.vpc_id",
     "vpc-0123456789ABCDEF0"),
    ({**EXISTING, "vpc_id": "vpc-0123456789abcdef"}, "shipyard:network.vpc_id",
     "vpc-0123456789abcdef"),
    ({**EXISTING, "public_subnet_ids": ["subnet-0a1a1a1a", "subnet-xyz"]},
     "shipyard:network.public_subnet_ids[1]", "subnet-xyz"),
    ({**EXISTING, "private_subnet_ids": ["sg-0a1a1a1a", "subnet-0b2b2b2b"]},
     "shipyard:network.private_subnet_ids[0]", "sg-0a1a1a1a"),
])
def test_malformed_vpc_and_subnet_ids_are_refused(project, network, key, value):
    doc = document("staging")
    config(doc)["shipyard:network"] = network
    assert_names(refusal(project, "staging", doc), key, value)


@pytest.mark.parametrize(("service", "change", "key", "value"), [
    (3, {"egress": [{"security_group_id": "sg-12", "port": 5432}]},
     "shipyard:services[3].egress[0].security_group_id", "sg-12"),
    (3, {"extra_security_group_ids": ["sg-0123456789abcdef"]},
     "shipyard:services[3].extra_security_group_ids[0]", "sg-0123456789abcdef"),
    (2, {"egress": [{"security_group_id": "SG-0123ABCD", "port": 5432}]},
     "shipyard:services[2].egress[0].security_group_id", "SG-0123ABCD"),
])
def test_malformed_security_group_ids_are_refused(project, service, change, key, value):
    doc = document("fullstack")
    config(doc)["shipyard:services"][service].update(change)
    assert_names(refusal(project, "fullstack", doc), key, value)
