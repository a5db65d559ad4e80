"""`shipyard rollback`: the normal path names the commit whose update registered the revision
and the exact delivery step for the stack (a release for prod, a revert on main for staging,
`pulumi up` outside delivery); the emergency path marks the service, then points it at the
revision, and undoes the marker if ECS refuses. Answers through botocore's Stubber."""

import json
import os
import shutil
import stat
from datetime import timedelta

import pytest
from day_two_stubs import (
    CLUSTER,
    DIGESTS,
    FAMILY,
    SERVICE,
    SERVICE_NAME,
    T0,
    StubbedAws,
    deployment,
    service_answer,
    task_definition_answer,
    task_definition_arn,
    write_outputs,
)
from shipyard.drift import MARKER_KEYS

from shipyard_preview import cli
from shipyard_preview.operations import aws as aws_module

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = "3f2a9c1d4e5b6a7980f1e2d3c4b5a69788e7f6d5"
BAD = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
OPERATOR = "arn:aws:sts::111122223333:assumed-role/oncall/ana"


@pytest.fixture
def stub(monkeypatch):
    stubbed = StubbedAws()
    monkeypatch.setattr(aws_module, "open_aws", lambda **_: stubbed.aws)
    yield stubbed
    stubbed.verify()


@pytest.fixture
def project(tmp_path):
    """A project folder with the repository's delivery settings (prod released, staging
    deployed on merge)."""
    (tmp_path / "delivery").mkdir()
    shutil.copy(os.path.join(REPO, "delivery", "Pulumi.org.yaml"), tmp_path / "delivery")
    (tmp_path / "Pulumi.yaml").write_text("name: shipyard\nruntime: python\n")
    return tmp_path


def history_file(tmp_path, *updates):
    entries = [{"kind": kind, "version": version, "result": result,
                "startTime": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "endTime": (start + timedelta(minutes=9)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "message": "", "environment": {"git.head": commit, "exec.kind": "cli"}}
               for kind, version, result, start, commit in updates]
    path = tmp_path / "history.json"
    path.write_text(json.dumps(entries))
    return str(path)


def main(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def stub_context(stub, running=7, tags=None):
    stub.add("ecs", "describe_services",
             service_answer(deployment("PRIMARY", running, "COMPLETED"), tags=tags),
             {"cluster": CLUSTER, "services": [SERVICE_NAME], "include": ["TAGS"]})


def stub_revision(stub, number, registered):
    stub.add("ecs", "describe_task_definition",
             task_definition_answer(number, registered=registered),
             {"taskDefinition": task_definition_arn(number), "include": ["TAGS"]})


def history(tmp_path, result="succeeded"):
    return history_file(tmp_path, ("update", 40, "succeeded", T0 - timedelta(days=2), "0" * 40),
                        ("update", 41, result, T0 - timedelta(minutes=5), GOOD),
                        ("update", 42, "succeeded", T0 + timedelta(days=1), BAD))


def test_prod_goes_back_by_a_release_of_the_commit_that_registered_the_revision(
        stub, capsys, tmp_path, project):
    stub_context(stub)
    stub_revision(stub, 6, T0)
    code, out, err = main(capsys, "rollback", "prod", "web", "--to", "6",
                          "--project-dir", str(project), "--history", history(tmp_path),
                          "--outputs", write_outputs(tmp_path))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:5] == [
        f"web: back to {FAMILY}:6 (running now: {FAMILY}:7)",
        f"  images          web {DIGESTS[6]}",
        "  source-version  app@9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d",
        f"  registered by   update 41 at commit {GOOD} (2026-12-03T09:55:00Z)",
        "Normal path, through delivery:"]
    assert lines[5].startswith("  gh release create --repo acme-corp/shipyard "
                               "rollback-prod-web-r6-")
    assert lines[5].endswith(f" --target {GOOD} --title 'Roll back prod web to revision 6' "
                             f"--notes 'Redeploys commit {GOOD} (update 41), which registered "
                             f"{FAMILY}:6.'")
    assert "runs .github/workflows/release.yml" in out and "production environment's" in out


def test_submit_creates_that_release_with_gh(stub, capsys, tmp_path, project, monkeypatch):
    stub_context(stub)
    stub_revision(stub, 6, T0)
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "gh-args.json"
    gh = folder / "gh"
    gh.write_text(f"#!/usr/bin/env python3\nimport json, sys\nopen({str(record)!r}, 'w')"
                  ".write(json.dumps(sys.argv[1:]))\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    code, _, _ = main(capsys, "rollback", "prod", "web", "--to", f"{FAMILY}:6", "--submit",
                      "--project-dir", str(project), "--history", history(tmp_path),
                      "--outputs", write_outputs(tmp_path))
    argv = json.loads(record.read_text())
    assert code == 0
    assert argv[:3] == ["release", "create", "--repo"] and argv[3] == "acme-corp/shipyard"
    assert argv[5:7] == ["--target", GOOD]


def test_staging_goes_back_by_a_revert_on_main(stub, capsys, tmp_path, project):
    stub_context(stub)
    stub_revision(stub, 6, T0)
    code, out, _ = main(capsys, "rollback", "staging", "web", "--to", task_definition_arn(6),
                        "--project-dir", str(project), "--history", history(tmp_path),
                        "--outputs", write_outputs(tmp_path))
    assert code == 0
    assert out.splitlines()[5:9] == [
        "  git fetch origin", "  git switch -c rollback-staging-web-r6 origin/main",
        f"  git revert --no-edit {GOOD}..origin/main",
        "  git push -u origin rollback-staging-web-r6   # then merge its pull request"]


def test_a_stack_outside_delivery_goes_back_by_pulumi_up_at_the_commit(
        stub, capsys, tmp_path, project):
    stub_context(stub)
    stub_revision(stub, 6, T0)
    code, out, _ = main(capsys, "rollback", "dev", "web", "--to", "6",
                        "--project-dir", str(project), "--history", history(tmp_path),
                        "--outputs", write_outputs(tmp_path))
    assert code == 0
    assert out.splitlines()[5:7] == [f"  git switch --detach {GOOD}", "  pulumi up --stack dev"]


def test_by_default_the_last_successful_deployment_before_the_running_one(
        stub, capsys, tmp_path, project):
    stub_context(stub)
    revision_arn = f"arn:aws:ecs:eu-west-1:111122223333:service-revision/{SERVICE_NAME}/"
    briefs = [{"serviceDeploymentArn": f"arn:aws:ecs:eu-west-1:111122223333:service-deployment/"
                                       f"c/{n}", "status": "SUCCESSFUL",
               "targetServiceRevisionArn": f"{revision_arn}{n}",
               "finishedAt": T0 + timedelta(hours=n)} for n in (5, 7, 6)]
    stub.add("ecs", "list_service_deployments", {"serviceDeployments": briefs},
             {"cluster": CLUSTER, "service": SERVICE_NAME, "status": ["SUCCESSFUL"]})
    stub.add("ecs", "describe_service_revisions", {"serviceRevisions": [
        {"serviceRevisionArn": f"{revision_arn}{n}", "taskDefinition": task_definition_arn(n)}
        for n in (7, 6, 5)]}, {"serviceRevisionArns": [f"{revision_arn}{n}" for n in (7, 6, 5)]})
    stub_revision(stub, 6, T0)
    code, out, _ = main(capsys, "rollback", "prod", "web", "--project-dir", str(project),
                        "--history", history(tmp_path), "--outputs", write_outputs(tmp_path))
    assert code == 0 and out.startswith(f"web: back to {FAMILY}:6 (running now: {FAMILY}:7)")


def test_a_digest_is_found_across_pages_in_the_stacks_own_family_only(
        stub, capsys, tmp_path, project):
    stub_context(stub)
    other = f"arn:aws:ecs:eu-west-1:111122223333:task-definition/{FAMILY}-worker:9"
    list_params = {"familyPrefix": FAMILY, "status": "ACTIVE", "sort": "DESC"}
    stub.add("ecs", "list_task_definitions", {"taskDefinitionArns": [
        task_definition_arn(7), other], "nextToken": "next"}, list_params)
    stub_revision(stub, 7, T0 + timedelta(days=1))
    stub.add("ecs", "list_task_definitions", {"taskDefinitionArns": [task_definition_arn(6)]},
             {**list_params, "nextToken": "next"})
    stub_revision(stub, 6, T0)
    code, out, _ = main(capsys, "rollback", "prod", "web", "--to", DIGESTS[6],
                        "--project-dir", str(project), "--history", history(tmp_path),
                        "--outputs", write_outputs(tmp_path))
    assert code == 0 and f"back to {FAMILY}:6" in out


def test_a_revision_from_a_failed_update_is_not_a_release(stub, capsys, tmp_path, project):
    stub_context(stub)
    stub_revision(stub, 6, T0)
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", "6",
                        "--project-dir", str(project), "--history", history(tmp_path, "failed"),
                        "--outputs", write_outputs(tmp_path))
    assert code == 2
    assert err == ("error: --to: 6 is not valid; a revision from a successful update (update 41 "
                   "at commit 3f2a9c1d4e5b ended failed: ECS did not finish that deployment)\n")


def test_a_revision_no_recorded_update_registered_points_to_the_emergency_path(
        stub, capsys, tmp_path, project):
    stub_context(stub)
    stub_revision(stub, 6, T0 - timedelta(days=1))
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", "6",
                        "--project-dir", str(project), "--history", history(tmp_path),
                        "--outputs", write_outputs(tmp_path))
    assert code == 2
    assert err == ("error: --to: 6 is not valid; a revision a recorded `pulumi up` of prod "
                   "registered (none of its updates ran at 2026-12-02T10:00:00+00:00 with a git "
                   "commit): it did not come through this stack's history, so there is no "
                   "release to redeploy; use --emergency to point the service at it, or "
                   "redeploy a known commit\n")


def test_a_deregistered_revision_is_refused(stub, capsys, tmp_path, project):
    stub_context(stub)
    answer = task_definition_answer(4)
    answer["taskDefinition"]["status"] = "INACTIVE"
    stub.add("ecs", "describe_task_definition", answer)
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", "4", "--emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 2
    assert err == (f"error: --to: '{FAMILY}:4' is not valid; an ACTIVE revision (it is INACTIVE:"
                   " deregistered revisions cannot start tasks)\n")


def expected_marker_tags(at):
    return [{"key": "shipyard:emergency-rollback-revision", "value": "6"},
            {"key": "shipyard:emergency-rollback-from", "value": "7"},
            {"key": "shipyard:emergency-rollback-by", "value": OPERATOR},
            {"key": "shipyard:emergency-rollback-at", "value": at}]


def stub_emergency_start(stub):
    stub_context(stub)
    stub_revision(stub, 6, T0)
    stub.add("sts", "get_caller_identity", {"UserId": "AROAEXAMPLE:ana", "Account":
                                            "111122223333", "Arn": OPERATOR})


def test_emergency_marks_the_service_then_points_it_at_the_revision(stub, capsys, tmp_path,
                                                                    monkeypatch):
    from datetime import datetime as real

    class Frozen(real):
        @classmethod
        def now(cls, tz=None):
            return real(2026, 12, 3, 10, 30, tzinfo=tz)
    monkeypatch.setattr("shipyard_preview.commands.rollback.datetime", Frozen)
    stub_emergency_start(stub)
    stub.add("ecs", "tag_resource", {}, {"resourceArn": SERVICE,
                                         "tags": expected_marker_tags("2026-12-03T10:30:00Z")})
    stub.add("ecs", "update_service", {"service": service_answer(
        deployment("PRIMARY", 6, "IN_PROGRESS"))["services"][0]},
        {"cluster": CLUSTER, "service": SERVICE_NAME, "taskDefinition": task_definition_arn(6)})
    code, out, _ = main(capsys, "rollback", "staging", "web", "--to", "6", "--emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 0
    assert out.splitlines() == [
        f"web: ECS is deploying {FAMILY}:6 now (it ran {FAMILY}:7); marked as an emergency "
        f"rollback by {OPERATOR} at 2026-12-03T10:30:00Z.",
        "  watch it        shipyard status staging web",
        "  the next `pulumi up` of staging stops before touching the service, until either:",
        "  1. permanent    shipyard rollback staging web --to 6   (the normal path: redeploy that "
        "release through delivery), or",
        "  2. roll forward shipyard rollback staging web --clear-emergency, then `pulumi up` "
        "(deploys what the stack says)"]


def test_when_ecs_refuses_the_update_the_marker_is_taken_off_again(stub, capsys, tmp_path):
    stub_emergency_start(stub)
    stub.add("ecs", "tag_resource", {})
    stub.error("ecs", "update_service", "AccessDeniedException", "not authorized")
    stub.add("ecs", "untag_resource", {}, {"resourceArn": SERVICE,
                                           "tagKeys": list(MARKER_KEYS)})
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", "6", "--emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 3
    assert err.startswith(f"error: ecs UpdateService on service {SERVICE_NAME}")


def test_the_running_revision_is_not_a_target(stub, capsys, tmp_path):
    stub_context(stub, running=6)
    stub_revision(stub, 6, T0)
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", "6", "--emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 2
    assert err == (f"error: --to: 6 is not valid; another revision than the one {SERVICE_NAME} "
                   "already runs\n")


def test_clear_emergency_removes_exactly_the_marker(stub, capsys, tmp_path):
    tags = {"service": "web", "shipyard:emergency-rollback-revision": "6",
            "shipyard:emergency-rollback-from": "7", "shipyard:emergency-rollback-by": OPERATOR,
            "shipyard:emergency-rollback-at": "2026-12-03T10:30:00Z"}
    stub_context(stub, running=6, tags=tags)
    stub.add("ecs", "untag_resource", {}, {"resourceArn": SERVICE,
                                           "tagKeys": list(MARKER_KEYS)})
    code, out, _ = main(capsys, "rollback", "prod", "web", "--clear-emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 0
    assert out == (f"web: cleared the emergency rollback to revision 6 (by {OPERATOR} at "
                   "2026-12-03T10:30:00Z); the next `pulumi up` of prod deploys what the stack "
                   "says\n")


@pytest.mark.parametrize("to", ["api:6", "latest", "sha256:abc"])
def test_a_to_that_is_neither_a_revision_of_the_family_nor_a_digest(stub, capsys, tmp_path, to):
    stub_context(stub)
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", to, "--emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 2
    assert err == (f"error: --to: {to!r} is not valid; a revision of {FAMILY} (6, {FAMILY}:6 or "
                   "its ARN) or an image digest (sha256:...)\n")


def test_when_the_marker_cannot_be_taken_off_either_the_line_says_both(stub, capsys, tmp_path):
    stub_emergency_start(stub)
    stub.add("ecs", "tag_resource", {})
    stub.error("ecs", "update_service", "AccessDeniedException", "not authorized")
    stub.error("ecs", "untag_resource", "AccessDeniedException", "no untag either")
    code, _, err = main(capsys, "rollback", "prod", "web", "--to", "6", "--emergency",
                        "--outputs", write_outputs(tmp_path))
    assert code == 3 and err.count("\n") == 1
    assert "ecs:UpdateService on it: use a profile or role that has it; the marker tags stay on " \
           "the service (ecs UntagResource on service" in err
