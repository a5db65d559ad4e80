"""GIVEN unsafe or incomplete delivery config WHEN it is parsed THEN it is refused, naming the
setting, before any role or deployment setting exists."""

import copy

import pytest
import yaml
from delivery_mocks import ORG_FILE
from shipyard.errors import ConfigError
from shipyard_delivery.settings import parse_delivery_settings
from shipyard_delivery.trust import deploy_role_trust, preview_role_trust, require_scoped_trust

STACK_FILE = yaml.safe_load(ORG_FILE.read_text())["config"]
VALID = {k.split(":", 1)[1]: v for k, v in STACK_FILE.items()
         if k.startswith("shipyard-delivery:")}


def refused(**changes) -> str:
    raw = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    with pytest.raises(ConfigError) as raised:
        parse_delivery_settings(raw)
    return str(raised.value)


def test_committed_example_is_valid():
    settings = parse_delivery_settings(VALID)
    assert settings.pulumi_org == "acme-corp" and settings.owner == "acme-corp"
    assert [(s.name, s.push_to_deploy, s.production) for s in settings.stacks] == [
        ("staging", True, False), ("prod", False, True)]


def test_missing_org():
    assert refused(pulumi_org=None) == (
        "shipyard-delivery:pulumi_org: None is not valid; required: your Pulumi "
        "organization's name")


def test_placeholder_org_is_not_a_name():
    assert refused(pulumi_org="your-org") == (
        "shipyard-delivery:pulumi_org: 'your-org' is not valid; your Pulumi organization's name")


def test_repository_must_be_owner_slash_name():
    assert refused(github_repository="shipyard") == (
        "shipyard-delivery:github_repository: 'shipyard' is not valid; the GitHub repository "
        "as owner/name")


def test_missing_repository_ids():
    assert refused(github_repository_id=None).startswith(
        "shipyard-delivery:github_repository_id: None is not valid; required: the numeric id")


def test_prod_never_deploys_on_push():
    stacks = copy.deepcopy(VALID["stacks"])
    stacks["prod"]["push_to_deploy"] = True
    assert refused(stacks=stacks) == (
        "shipyard-delivery:stacks.prod.push_to_deploy: True is not valid; a production stack "
        "is promoted by a release behind the GitHub 'production' environment's approval, never "
        "deployed on every push")


def test_wildcard_branch_refused():
    stacks = copy.deepcopy(VALID["stacks"])
    stacks["staging"]["branch"] = "*"
    assert refused(stacks=stacks) == (
        "shipyard-delivery:stacks.staging.branch: '*' is not valid; one branch name such as "
        "main; a wildcard would deploy every branch")


def test_a_production_stack_is_required():
    assert refused(stacks={"staging": {"push_to_deploy": True,
                                       "pulumi_stack_id": "5f0c3a2e-7b1d"}}) == (
        "shipyard-delivery:stacks: ['staging'] is not valid; one stack must be marked "
        "production: true")


def test_stack_named_prod_is_production_by_default():
    stacks = {"staging": {"push_to_deploy": True, "pulumi_stack_id": "5f0c3a2e-7b1d"},
              "prod": {"push_to_deploy": True, "pulumi_stack_id": "9b2e4d7a-1c3f"}}
    assert "prod.push_to_deploy: True is not valid" in refused(stacks=stacks)


@pytest.mark.parametrize("claim", ["sub", "aud"])
def test_trust_without_sub_or_aud_refused(claim):
    document = preview_role_trust(
        github_oidc_arn="arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
        owner="o", repo="r", owner_id="1", repo_id="2")
    del document["Statement"][0]["Condition"]["StringEquals"][
        f"token.actions.githubusercontent.com:{claim}"]
    with pytest.raises(ConfigError) as raised:
        require_scoped_trust(document, "preview.assumeRolePolicy")
    assert str(raised.value) == (
        "preview.assumeRolePolicy.Statement[0]: 'PullRequestsOfThisRepository' is not valid; a "
        "trust of token.actions.githubusercontent.com must pin "
        f"'token.actions.githubusercontent.com:{claim}' to exact values")


def test_trust_with_wildcard_subject_refused():
    document = preview_role_trust(
        github_oidc_arn="arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
        owner="o", repo="r", owner_id="1", repo_id="2")
    document["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"] = "*"
    with pytest.raises(ConfigError):
        require_scoped_trust(document, "preview.assumeRolePolicy")


def test_policy_pack_version_must_be_exact():
    assert refused(policy_pack_version="latest") == (
        "shipyard-delivery:policy_pack_version: 'latest' is not valid; the exact published "
        "version of the pack (x.y.z), as in policy/PulumiPolicy.yaml once the policy workflow "
        "published it")


def test_stack_in_another_account_needs_a_bootstrap_role():
    stacks = copy.deepcopy(VALID["stacks"])
    del stacks["prod"]["bootstrap_role_name"]
    assert refused(stacks=stacks) == (
        "shipyard-delivery:stacks.prod.bootstrap_role_name: None is not valid; required when "
        "the stack's account (444455556666) is not the delivery account (111122223333): the "
        "role to assume there, e.g. OrganizationAccountAccessRole")


def test_stacks_in_their_own_accounts():
    settings = parse_delivery_settings(VALID)
    assert settings.accounts == ("111122223333", "444455556666")


@pytest.mark.parametrize("account", ["111122223333", "555566667777"])
def test_a_production_stack_sharing_an_account_is_refused(account):
    stacks = copy.deepcopy(VALID["stacks"])
    stacks["prod"]["aws_account_id"] = account
    stacks["staging"].update(aws_account_id="555566667777",
                             bootstrap_role_name="OrganizationAccountAccessRole")
    message = refused(stacks=stacks)
    assert message.startswith(f"shipyard-delivery:stacks.prod.aws_account_id: '{account}' is "
                              "not valid; an account of the production stack's own")
    assert ("not the delivery account" in message) == (account == "111122223333")
    assert ("staging deploys there too" in message) == (account == "555566667777")


def test_esc_subject_with_a_wildcard_refused():
    document = deploy_role_trust(pulumi_oidc_arn="arn:aws:iam::1:oidc-provider/api.pulumi.com/oidc",
                                 org="acme-corp", project="shipyard", stack="*")
    with pytest.raises(ConfigError) as raised:
        require_scoped_trust(document, "deploy-x.assumeRolePolicy")
    assert str(raised.value) == (
        "deploy-x.assumeRolePolicy.Statement[0]: 'EscEnvironmentOfThisStack' is not valid; a "
        "trust of api.pulumi.com/oidc must pin 'api.pulumi.com/oidc:sub' to exact values")


def _program_refusal(published=None, **changes) -> tuple[str, list]:
    from delivery_mocks import delivery_run

    with pytest.raises(ConfigError) as raised:
        delivery_run(published=published, **changes)
    return str(raised.value), raised.value.registered_before_failure  # type: ignore[attr-defined]


def test_unpublished_policy_version_refused_before_anything_is_registered():
    from delivery_mocks import PACK_VERSION

    message, registered = _program_refusal(published=["0.0.9"])
    assert message == (
        f"shipyard-delivery:policy_pack_version: '{PACK_VERSION}' is not valid; a version of "
        "shipyard-guardrails published in acme-corp (0.0.9); the policy workflow publishes the "
        "version in policy/PulumiPolicy.yaml when policy/ changes")
    assert [r.type for r in registered if r.custom] == []


def test_prod_on_push_refused_before_anything_is_registered():
    stacks = copy.deepcopy(VALID["stacks"])
    stacks["prod"]["push_to_deploy"] = True
    message, registered = _program_refusal(stacks=stacks)
    assert message.startswith("shipyard-delivery:stacks.prod.push_to_deploy: True is not valid")
    assert [r.type for r in registered if r.custom] == []


def test_a_wildcard_stack_name_is_refused_before_it_reaches_a_subject():
    stacks = copy.deepcopy(VALID["stacks"])
    stacks["*"] = stacks.pop("staging")
    assert refused(stacks=stacks) == (
        "shipyard-delivery:stacks: '*' is not valid; stack names of letters, digits, '-', '_' "
        "and '.'")
