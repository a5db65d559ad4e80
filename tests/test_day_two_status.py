"""`shipyard status` against botocore-validated answers (Stubber): steady, mid-deployment,
rolled back by ECS, changed outside Pulumi, an emergency rollback, paging of the running
tasks, expired credentials, throttling retried by botocore, and `--json` against the
published schema."""

import json
from pathlib import Path

import botocore.session
import jsonschema
import pytest
from day_two_stubs import (
    CLUSTER,
    CLUSTER_NAME,
    DIGESTS,
    SERVICE_NAME,
    TASK_IDS,
    StubbedAws,
    deployment,
    image,
    service_answer,
    stub_status,
    task,
    task_arn,
    task_definition_answer,
    write_outputs,
)

from shipyard_preview import cli
from shipyard_preview.operations import aws as aws_module

SCHEMA = json.loads((Path(cli.__file__).parent / "operations" / "status.schema.json").read_text())
CIRCUIT_BREAKER = "ECS deployment circuit breaker: rolled back to the previous deployment."


@pytest.fixture
def stub(monkeypatch):
    stubbed = StubbedAws()
    monkeypatch.setattr(aws_module, "open_aws", lambda **_: stubbed.aws)
    yield stubbed
    stubbed.verify()


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def unwrapped(text):
    """The text as one line: the terminal rendering wraps at 100 columns."""
    return " ".join(text.split()) + " "


def steady_service(revision=7, **changes):
    return service_answer(deployment("PRIMARY", revision, "COMPLETED"), **changes)


def two_tasks(revision=7):
    return [task(TASK_IDS[0], revision), task(TASK_IDS[1], revision)]


def test_a_steady_service_as_deployed_exits_0_and_shows_what_runs(stub, capsys, tmp_path):
    stub_status(stub, steady_service(), task_definition_answer(7), two_tasks())
    code, out, err = run(capsys, "status", "staging", "--outputs", write_outputs(tmp_path))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"web  (stack staging, cluster {CLUSTER_NAME}, service {SERVICE_NAME}): steady",
        "  url          https://web.example.com",
        "  tasks        desired 2, running 2, pending 0",
        "  deployments  PRIMARY  shipyard-staging-web:7  COMPLETED  running 2/2, pending 0, "
        "failed 0",
        "  revision     shipyard-staging-web:7  source-version "
        "app@9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d",
        f"  container    web  {image(7).split('@')[0]}",
        f"               revision's {DIGESTS[7]}",
        f"               running    {DIGESTS[7]}",
        "  drift        none: runs what the stack last deployed",
        "  targets      web-tg-3c4d5e6: 2 healthy",
        f"  events       2026-12-03T10:04:00Z  (service {SERVICE_NAME}) has reached a steady "
        "state.",
        f"               2026-12-03T10:02:00Z  (service {SERVICE_NAME}) has started 2 tasks: "
        "(task",
        f"               {TASK_IDS[0]}) (task {TASK_IDS[1]}).",
    ]


def test_json_follows_the_published_schema(stub, capsys, tmp_path):
    stub_status(stub, steady_service(blue_green=True), task_definition_answer(7), two_tasks(),
                health=(("healthy", None), ("unhealthy", "Target.ResponseCodeMismatch")),
                groups=2)
    code, out, _ = run(capsys, "status", "staging", "web", "--json",
                       "--outputs", write_outputs(tmp_path))
    document = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert code == 0 and document["steady"] is True and document["drifted"] is False
    (web,) = document["services"]
    assert [g["targetGroup"] for g in web["targets"]] == [
        "web-tg-3c4d5e6", "web-tg2-7f8a9b0"]
    assert web["targets"][0]["targets"][1] == {"id": "10.0.1.11", "port": 8080,
                                               "state": "unhealthy",
                                               "reason": "Target.ResponseCodeMismatch"}
    assert web["containers"] == [{"name": "web", "image": image(7),
                                  "runningDigests": [DIGESTS[7]]}]


def test_the_schema_enums_are_the_ecs_and_elbv2_models_own():
    models = botocore.session.get_session()
    ecs, elbv2 = models.get_service_model("ecs"), models.get_service_model("elbv2")
    service = SCHEMA["$defs"]["service"]["properties"]
    target = service["targets"]["items"]["properties"]["targets"]["items"]["properties"]
    assert target["state"]["enum"] == elbv2.shape_for("TargetHealthStateEnum").enum
    task_health = service["runningTasks"]["items"]["properties"]["health"]["enum"]
    assert task_health == ecs.shape_for("HealthStatus").enum
    rollout = SCHEMA["$defs"]["deployment"]["properties"]["rolloutState"]["enum"]
    assert rollout == [*ecs.shape_for("DeploymentRolloutState").enum, None]


def test_mid_deployment_is_not_steady_and_names_the_revision_being_rolled_out(
        stub, capsys, tmp_path):
    service = service_answer(
        deployment("PRIMARY", 8, "IN_PROGRESS", running=1, pending=1),
        deployment("ACTIVE", 7, "COMPLETED", running=2), running=3, desired=2, pending=1)
    tasks = [*two_tasks(), task("0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", 8, last_status="PENDING")]
    stub_status(stub, service, task_definition_answer(8), tasks)
    code, out, _ = run(capsys, "status", "staging", "--json", "--outputs",
                       write_outputs(tmp_path))
    (web,) = json.loads(out)["services"]
    assert code == 1
    assert web["steady"] is False
    assert web["steadyReason"] == "deploying: 2 deployments, the PRIMARY one IN_PROGRESS"
    assert web["drift"]["reasons"] == [
        "runs shipyard-staging-web:8, the stack last deployed shipyard-staging-web:7; a "
        "`pulumi up` in progress, or a change made outside Pulumi",
        f"container web runs {DIGESTS[8]}, the stack deployed {DIGESTS[7]}"]
    assert [t["revision"] for t in web["runningTasks"]] == [
        "shipyard-staging-web:8", "shipyard-staging-web:7", "shipyard-staging-web:7"]


def test_a_deployment_ecs_rolled_back_is_drift_with_the_circuit_breakers_reason(
        stub, capsys, tmp_path):
    service = service_answer(
        deployment("PRIMARY", 6, "COMPLETED", reason=CIRCUIT_BREAKER),
        deployment("ACTIVE", 7, "FAILED", reason="tasks failed to start", running=0))
    stub_status(stub, service, task_definition_answer(6), two_tasks(6))
    code, out, _ = run(capsys, "status", "staging", "--outputs", write_outputs(tmp_path))
    assert code == 1
    assert (f"drift runs shipyard-staging-web:6, the stack last deployed shipyard-staging-web:7 "
            f"(ECS rolled back: {CIRCUIT_BREAKER}) ") in unwrapped(out)
    assert "  why          deploying: 2 deployments, the PRIMARY one COMPLETED" in out


def test_a_revision_changed_outside_pulumi_is_steady_but_drifted(stub, capsys, tmp_path):
    stub_status(stub, steady_service(5), task_definition_answer(5), two_tasks(5))
    code, out, _ = run(capsys, "status", "staging", "--json", "--outputs",
                       write_outputs(tmp_path))
    document = json.loads(out)
    assert code == 1 and document["steady"] is True and document["drifted"] is True
    assert document["services"][0]["drift"]["runningTaskDefinition"].endswith(":5")


def test_an_emergency_rollback_is_named_with_who_and_when(stub, capsys, tmp_path):
    marker = {"service": "web", "shipyard:emergency-rollback-revision": "6",
              "shipyard:emergency-rollback-from": "7",
              "shipyard:emergency-rollback-by": "arn:aws:sts::111122223333:assumed-role/oncall/ana",
              "shipyard:emergency-rollback-at": "2026-12-03T10:30:00Z"}
    stub_status(stub, steady_service(6, tags=marker), task_definition_answer(6), two_tasks(6))
    code, out, _ = run(capsys, "status", "staging", "--outputs", write_outputs(tmp_path))
    assert code == 1
    assert ("drift runs shipyard-staging-web:6, the stack last deployed shipyard-staging-web:7 "
            "(an emergency rollback) ") in unwrapped(out)
    assert ("emergency rollback by arn:aws:sts::111122223333:assumed-"
            "role/oncall/ana at 2026-12-03T10:30:00Z; the next `pulumi up` stops until it is "
            "made permanent or cleared (docs/day-two.md) ") in unwrapped(out)


def test_a_task_running_another_digest_than_its_revision_is_drift(stub, capsys, tmp_path):
    tasks = [task(TASK_IDS[0], 7), task(TASK_IDS[1], 7, digest=DIGESTS[3])]
    stub_status(stub, steady_service(), task_definition_answer(7), tasks)
    code, out, _ = run(capsys, "status", "staging", "--json", "--outputs",
                       write_outputs(tmp_path))
    assert code == 1
    assert json.loads(out)["services"][0]["drift"]["reasons"] == [
        f"task {TASK_IDS[1]} container web runs {DIGESTS[3]}, not the revision's {DIGESTS[7]}"]


def test_running_tasks_are_read_across_pages_and_described_a_hundred_at_a_time(
        stub, capsys, tmp_path):
    ids = [f"{n:032x}" for n in range(150)]
    stub.add("ecs", "describe_services", steady_service(running=150, desired=150))
    stub.add("ecs", "describe_task_definition", task_definition_answer(7))
    stub.add("ecs", "list_tasks", {"taskArns": [task_arn(i) for i in ids[:100]],
                                   "nextToken": "page-2"})
    stub.add("ecs", "list_tasks", {"taskArns": [task_arn(i) for i in ids[100:]]},
             {"cluster": CLUSTER, "serviceName": SERVICE_NAME, "desiredStatus": "RUNNING",
              "nextToken": "page-2"})
    stub.add("ecs", "describe_tasks", {"tasks": [task(i, 7) for i in ids[:100]]},
             {"cluster": CLUSTER, "tasks": [task_arn(i) for i in ids[:100]]})
    stub.add("ecs", "describe_tasks", {"tasks": [task(i, 7) for i in ids[100:]]},
             {"cluster": CLUSTER, "tasks": [task_arn(i) for i in ids[100:]]})
    stub.add("elbv2", "describe_target_health", {"TargetHealthDescriptions": []})
    code, out, _ = run(capsys, "status", "staging", "--json", "--outputs",
                       write_outputs(tmp_path))
    assert code == 0
    assert [t["id"] for t in json.loads(out)["services"][0]["runningTasks"]] == ids


def test_expired_credentials_are_one_line_naming_the_call_and_what_to_do(
        stub, capsys, tmp_path):
    stub.error("ecs", "describe_services", "ExpiredTokenException",
               "The security token included in the request is expired")
    code, out, err = run(capsys, "status", "staging", "--outputs", write_outputs(tmp_path))
    assert (code, out) == (3, "")
    assert err == (f"error: ecs DescribeServices on service {SERVICE_NAME} (cluster "
                   f"{CLUSTER_NAME}): the AWS credentials have expired (AWS: The security token "
                   "included in the request is expired); sign in again (`aws sso login`, or "
                   "refresh the environment's credentials) and retry\n")


def test_access_denied_names_the_action_the_identity_needs(stub, capsys, tmp_path):
    stub.add("ecs", "describe_services", steady_service())
    stub.error("ecs", "describe_task_definition", "AccessDeniedException", "not authorized")
    code, _, err = run(capsys, "status", "staging", "--outputs", write_outputs(tmp_path))
    assert code == 3
    assert err == ("error: ecs DescribeTaskDefinition on task definition shipyard-staging-web:7:"
                   " access denied (AWS: not authorized); the identity needs "
                   "ecs:DescribeTaskDefinition on it: use a profile or role that has it\n")


def test_a_service_the_outputs_name_but_ecs_does_not_know(stub, capsys, tmp_path):
    stub.add("ecs", "describe_services", {"services": [], "failures": [
        {"arn": f"arn:aws:ecs:eu-west-1:111122223333:service/{CLUSTER_NAME}/{SERVICE_NAME}",
         "reason": "MISSING"}]})
    code, _, err = run(capsys, "status", "staging", "--outputs", write_outputs(tmp_path))
    assert code == 3
    assert err.startswith(f"error: ecs DescribeServices on service {SERVICE_NAME} (cluster "
                          f"{CLUSTER_NAME}): not found in eu-west-1 (MISSING); the stack "
                          "outputs may be stale")


@pytest.mark.parametrize(("argv", "message"), [
    (["status", "staging", "api"], "error: service: 'api' is not valid; one of the stack's "
                                   "services: web\n"),
    (["status", "staging", "--region", "us-east-1"],
     "error: --region: 'us-east-1' is not valid; the region of the stack's cluster (eu-west-1) "
     "or nothing\n"),
])
def test_bad_input_is_exit_2_before_any_call(stub, capsys, tmp_path, argv, message):
    code, _, err = run(capsys, *argv, "--outputs", write_outputs(tmp_path))
    assert (code, err) == (2, message)


def test_outputs_without_the_services_output_say_what_to_do(capsys, tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"web_url": "https://web.example.com"}))
    code, _, err = run(capsys, "status", "staging", "--outputs", str(path))
    assert code == 2
    assert err == (f"error: services: None is not valid; an output `services` in {path} (a "
                   "mapping of service name to its cluster, service, log group and task "
                   "definition; the shipyard program exports it: deploy with this version "
                   "first)\n")


def test_no_pulumi_cli_and_no_outputs_file_says_how_to_make_one(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = run(capsys, "status", "staging")
    assert code == 2
    assert err == ("error: --outputs: None is not valid; a file written by `pulumi stack output "
                   "--json --show-secrets=false --stack staging > FILE`; no pulumi CLI is on "
                   "PATH to run it here\n")
