"""Class 5 of issue 18: credentials in a container's plain environment, by the published format
of the value and by the words of the name, with the table of look-alikes
(guardrails/secrets.py LOOK_ALIKES) held through the running pack."""

import sys
import time

import pytest
from conftest import POLICY_DIR
from policy_helpers import DIGEST, containers, messages

sys.path.insert(0, str(POLICY_DIR))
from guardrails.secrets import LOOK_ALIKES

TD = "aws:ecs/taskDefinition:TaskDefinition"
RULE = "ecs-no-secrets-in-env"
GOOD = {"name": "web", "image": f"repo/app@{DIGEST}", "user": "10001",
        "readonlyRootFilesystem": True, "logConfiguration": {"logDriver": "awslogs"}}


def env(name: str, value: str) -> dict:
    return containers({**GOOD, "environment": [{"name": name, "value": value}]})


@pytest.mark.parametrize("name,credential", LOOK_ALIKES)
def test_names_by_their_words(pack, name, credential):
    expected = ([f"Container 'web' passes '{name}' in plain environment; its name looks like a "
                 "credential."] if credential else [])
    assert messages(pack, RULE, TD, env(name, "x")) == expected


JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
UNSIGNED_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."


@pytest.mark.parametrize("value,kind", [
    ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
    ("ASIAY34FZKBOKMUTVV7A", "an AWS access key id"),
    ("key=AKIAIOSFODNN7EXAMPLE;", "an AWS access key id"),
    ("ghp_" + "A1b2" * 9, "a GitHub token"),
    ("ghs_" + "z" * 36, "a GitHub token"),
    ("github_pat_11ABCDEFG0" + "a" * 59, "a GitHub token"),
    ("xoxb-123456789012-123456789012-abcdefghijklmnop", "a Slack token"),
    ("xapp-1-A0123456789-1234567890123-abcdef", "a Slack token"),
    ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     "a Slack webhook URL"),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe secret key"),
    ("rk_test_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe secret key"),
    ("whsec_" + "a" * 32, "a Stripe secret key"),
    (JWT, "a JSON Web Token"),
    (f"Bearer {UNSIGNED_JWT}", "a JSON Web Token"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", "a PEM private key"),
    ("-----BEGIN PRIVATE KEY-----", "a PEM private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "a PEM private key"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "a PEM private key"),
    ("postgres://app:s3cret@db.internal:5432/app", "a URL with a password"),
    ("redis://:hunter2@cache:6379/0", "a URL with a password"),
])
def test_values_by_their_published_format(pack, value, kind):
    assert messages(pack, RULE, TD, env("SETTING", value)) == [
        f"Container 'web' passes {kind} in plain environment ('SETTING')."]


@pytest.mark.parametrize("value", [
    "AKIAIOSFODNN7EXAMPL",                      # 15 characters after the prefix
    "NOTAKIAIOSFODNN7EXAMPLE",                  # inside a longer word
    "AKIAIOSFODNN7EXAMPLEX",                    # longer than a key id
    "ghp_short",
    "pk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",    # Stripe publishable keys are public
    "eyJhbGciOiJIUzI1NiJ9",                      # a header alone is not a token
    "eyJub3QiOiJqd3QifQ.eyJ4IjoxfQ.c2ln",        # base64 JSON without "alg"
    "-----BEGIN CERTIFICATE-----\nMIIB...",
    "-----BEGIN PUBLIC KEY-----",
    "postgres://app@db.internal:5432/app",       # no password
    "https://example.com:8443/path?user=a:b@c",  # the '@' is not in the authority
    "https://hooks.slack.com/services/",
    "info",
])
def test_look_alike_values_pass(pack, value):
    assert messages(pack, RULE, TD, env("SETTING", value)) == []


def test_the_value_is_never_echoed(pack):
    found = messages(pack, RULE, TD, env("SETTING", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"))
    assert found and all("4eC39" not in message for message in found)


def test_scanning_a_long_hostile_value_is_linear(pack):
    value = ("-eyJ" * 20000) + ("://a:" * 5000) + ("AKIA" * 5000) + ("github_pat_!" * 5000)
    started = time.monotonic()
    assert messages(pack, RULE, TD, env("SETTING", value)) == []
    assert time.monotonic() - started < 5
