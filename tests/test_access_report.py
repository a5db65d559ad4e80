"""GIVEN the committed delivery design WHEN `shipyard access prod` evaluates it THEN only the
approved release path can change prod or read its secrets, and each of the seven ways issue 17
found reads "cannot"; reopening any one of them (in the design the report reads) turns its
verdict and the report's. AWS roles are judged in the IAM simulator over the policies the
delivery program registers."""

import copy
import dataclasses
import subprocess
import sys

import pytest
from conftest import PROJECT
from delivery_mocks import delivery_run
from shipyard_delivery.app_stacks import read_app_stack

from shipyard_preview.access_report import (
    probe_case,
    probes,
    read_design,
    render,
    report_from_design,
)
from shipyard_preview.iam_simulator import simulate

SEVEN = range(1, 8)


@pytest.fixture(scope="module")
def design():
    return read_design(delivery_run())


@pytest.fixture(scope="module")
def report(design):
    return report_from_design(design, read_app_stack("prod"), PROJECT)


def test_only_the_release_path_can_change_prod_or_read_its_secrets(report):
    offenders = [f.identity for f in report.findings if f.violation]
    assert offenders == []
    able = {f.identity for f in report.findings if f.changes or f.reads_secrets}
    # The release job's subject, its team, the environment it opens, the role that logs in, and
    # the policy job's admin token (behind the same reviewers).
    assert able == {"repo:acme-corp/shipyard:environment:production", "shipyard-releasers",
                    "shipyard/aws-prod", "arn:aws:iam::444455556666:role/shipyard-deploy-prod",
                    "repo:acme-corp/shipyard:environment:policy", "organization admin token"}
    assert report.holds


def test_the_release_role_is_seen_reading_both_kinds_of_secret(report):
    """The report sees secret reads through a key as well as the secret itself: the probe of a
    key call carries the key's policy, without which every key call reads as refused and a role
    able to decrypt prod's secrets would be reported as unable."""
    role = next(f for f in report.findings
                if f.identity == "arn:aws:iam::444455556666:role/shipyard-deploy-prod")
    assert [read.split(" on ")[0] for read in role.reads_secrets] == [
        "secretsmanager:GetSecretValue", "kms:Decrypt"]


@pytest.mark.parametrize("number", SEVEN)
def test_each_of_the_seven_paths_reads_cannot(report, number):
    path = next(p for p in report.paths if p.number == number)
    assert path.verdict == "cannot", path.why


def test_the_report_lists_every_identity_of_the_design(report):
    kinds = {(f.kind, f.identity) for f in report.findings}
    assert {("github subject", f"repo:acme-corp/shipyard:{c}") for c in (
        "pull_request", "environment:artifacts", "environment:staging",
        "environment:production", "environment:policy")} <= kinds
    assert {("pulumi team", t) for t in ("shipyard-previewers", "shipyard-deployers",
                                          "shipyard-releasers")} <= kinds
    assert {("esc environment", "shipyard/aws-staging"),
            ("esc environment", "shipyard/aws-prod")} <= kinds
    assert {f.identity for f in report.findings if f.kind == "aws role"} == {
        "arn:aws:iam::111122223333:role/shipyard-deploy-staging",
        "arn:aws:iam::444455556666:role/shipyard-deploy-prod",
        "arn:aws:iam::111122223333:role/shipyard-preview-readonly",
        "arn:aws:iam::444455556666:role/shipyard-preview-readonly",
        "arn:aws:iam::111122223333:role/shipyard-artifacts-builder"}
    text = render(report)
    assert "verdict: only the approved release path" in text
    assert text.count(": cannot (") == 7


def _reopened(design, **changes):
    return report_from_design(dataclasses.replace(design, **changes), read_app_stack("prod"),
                              PROJECT)


def _verdict(report, number):
    return next(p for p in report.paths if p.number == number).verdict


def test_path_1_another_stacks_role_on_prod_reopens(design):
    staging = next(r for r in design.roles if r.name == "shipyard-deploy-staging")
    moved = dataclasses.replace(staging, account="444455556666",
                                arn="arn:aws:iam::444455556666:role/shipyard-deploy-staging",
                                policies=[copy.deepcopy(p) for p in next(
                                    r for r in design.roles
                                    if r.name == "shipyard-deploy-prod").policies])
    report = _reopened(design, roles=[*design.roles, moved])
    assert _verdict(report, 1) == "CAN" and not report.holds


@pytest.mark.parametrize(("number", "stack"), [(2, "shipyard/staging"), (3, "shipyard/prod")])
def test_paths_2_and_3_stack_write_reopens(design, number, stack):
    from shipyard_delivery.pulumi_access import PERMISSION_SETS

    scopes = {**design.stack_scopes, "shipyard-deployers": {
        **design.stack_scopes.get("shipyard-deployers", {}),
        stack: PERMISSION_SETS["Stack Write"].scopes}}
    assert _verdict(_reopened(design, stack_scopes=scopes), number) == "CAN"


def test_path_4_an_unreviewed_policy_environment_reopens(design):
    environments = copy.deepcopy(design.github_environments)
    environments["policy"]["reviewers"] = None
    report = _reopened(design, github_environments=environments)
    assert _verdict(report, 4) == "CAN" and not report.holds


def test_path_5_a_tag_anyone_may_create_reopens(design):
    assert _verdict(_reopened(design, rulesets=[r for r in design.rulesets
                                                if r.get("target") != "tag"]), 5) == "CAN"
    environments = copy.deepcopy(design.github_environments)
    environments["production"]["refPatterns"] = [("branch", "*")]
    assert _verdict(_reopened(design, github_environments=environments), 5) == "CAN"


def test_path_6_a_person_in_the_releasers_team_reopens(design):
    report = _reopened(design, teams={**design.teams, "shipyard-releasers": ["alice"]})
    assert _verdict(report, 6) == "CAN" and not report.holds
    assert [f.identity for f in report.findings if f.violation] == ["alice"]


def test_path_7_drift_on_prod_reopens(design):
    report = _reopened(design, schedules=[*design.schedules, ("DriftSchedule", "shipyard/prod")])
    assert _verdict(report, 7) == "CAN"


def test_a_pull_request_cannot_read_prod_secrets(report):
    pr = next(f for f in report.findings
              if f.identity == "repo:acme-corp/shipyard:pull_request")
    assert pr.changes == [] and pr.reads_secrets == []


def _staging_may(design, environment: str) -> dict[str, bool]:
    """Each probe of staging's deploy role on resources of `environment` in staging's account."""
    staging = next(r for r in design.roles if r.name == "shipyard-deploy-staging")
    calls = probes(account="111122223333", region="eu-west-1", environment=environment,
                   prefix=read_app_stack("staging").resource_prefixes[0],
                   retag_to=["staging", "qa", "prod"])
    results = simulate([probe_case(staging, call, "eu-west-1", "111122223333")
                        for call in calls])
    assert not any(r.errors for r in results)
    may: dict[str, bool] = {}
    for call, result in zip(calls, results, strict=True):  # any re-tag allowed counts
        may[call[1]] = may.get(call[1], False) or result.allowed
    return may


# Confined by name only (confinement.py): PassRole (IAM: a ResourceTag condition on it is
# unreliable), and S3 buckets, whose tags IAM sees only with bucket ABAC, which the program does
# not enable. Where non-production stacks share an account, these are what a separate account
# would isolate.
BY_NAME_ONLY = {"iam:PassRole", "s3:DeleteBucket"}


def test_in_a_shared_account_staging_cannot_touch_another_environments_resources(design):
    """The confinement that holds where non-production stacks share an account: every probe on
    resources tagged with another environment, in staging's own account, is refused, except
    those IAM can only confine by name."""
    assert {a for a, ok in _staging_may(design, "qa").items() if ok} == BY_NAME_ONLY


def test_in_its_own_account_staging_may_make_every_probed_call(design):
    """The same probes on staging's own resources, shaped as AWS receives them (a route is
    created with no request tags): every one allowed, but the re-tag into another environment,
    so the refusals above are the confinement, not a grant that is missing."""
    assert {a for a, ok in _staging_may(design, "staging").items() if not ok} == {
        "ec2:CreateTags"}


def test_the_command_exits_0_and_prints_the_verdicts():
    result = subprocess.run([sys.executable, "-m", "shipyard_preview.cli", "access", "prod",
                             "--project-dir", str(PROJECT)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "verdict: only the approved release path" in result.stdout
