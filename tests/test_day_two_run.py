"""`shipyard run` and the component's one-off task core: the RunTask request (the live
service's revision, subnets, security groups, capacity, no public IP, the command override),
the wait, the logs streamed meanwhile, and the exit code, which is the container's. Answers go
through botocore's Stubber (validated against the ECS and CloudWatch Logs models)."""

import pytest
from day_two_stubs import (
    CLUSTER,
    LOG_GROUP,
    SECURITY_GROUP,
    SERVICE_NAME,
    SUBNETS,
    T0,
    StubbedAws,
    deployment,
    service_answer,
    task,
    task_arn,
    task_definition_answer,
    task_definition_arn,
    write_outputs,
)
from shipyard.one_off_task import OneOffTask, TaskDidNotRun, judge_stopped, run_task_request

from shipyard_preview import cli
from shipyard_preview.commands import run as run_command
from shipyard_preview.operations import aws as aws_module

ONE_OFF = "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
STREAM = f"ecs/web/{ONE_OFF}"


@pytest.fixture
def stub(monkeypatch):
    stubbed = StubbedAws()
    monkeypatch.setattr(aws_module, "open_aws", lambda **_: stubbed.aws)
    slept = []
    original = run_command.run.__wrapped__

    def without_sleep(args):
        return original(args, sleep=slept.append)
    monkeypatch.setattr(run_command, "run", run_command.reports_aws_failures(without_sleep))
    yield stubbed
    stubbed.verify()


def main(capsys, *argv):
    parser_run = cli.main
    code = parser_run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def expected_run_task(command, revision=6):
    return {"cluster": CLUSTER, "taskDefinition": task_definition_arn(revision), "count": 1,
            "startedBy": "shipyard-run",
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": SUBNETS, "securityGroups": [SECURITY_GROUP],
                "assignPublicIp": "DISABLED"}},
            "overrides": {"containerOverrides": [{"name": "web", "command": command}]},
            "propagateTags": "TASK_DEFINITION", "enableExecuteCommand": False,
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1,
                                          "base": 0}],
            "platformVersion": "LATEST"}


def stub_live_service(stub, revision=6):
    # The live service runs revision 6, though the stack's outputs name 7: run uses what runs.
    stub.add("ecs", "describe_services", service_answer(deployment("PRIMARY", revision,
                                                                   "COMPLETED")))
    stub.add("ecs", "describe_task_definition", task_definition_answer(revision),
             {"taskDefinition": task_definition_arn(revision), "include": ["TAGS"]})


def log_page(token, *messages, start=0):
    return {"events": [{"timestamp": int(T0.timestamp() * 1000) + 1000 * (start + i),
                        "message": m, "ingestionTime": 0} for i, m in enumerate(messages)],
            "nextForwardToken": token, "nextBackwardToken": "b"}


def logs_call(token=None):
    params = {"logGroupName": LOG_GROUP, "logStreamName": STREAM, "startFromHead": True}
    return {**params, "nextToken": token} if token else params


@pytest.mark.parametrize("exit_code", [0, 3])
def test_run_streams_the_logs_and_exits_with_the_containers_exit_code(
        stub, capsys, tmp_path, exit_code):
    stub_live_service(stub)
    command = ["python", "manage.py", "migrate", "--noinput"]
    stub.add("ecs", "run_task", {"tasks": [task(ONE_OFF, 6, last_status="PROVISIONING")],
                                 "failures": []}, expected_run_task(command))
    polls = [task(ONE_OFF, 6, last_status="PROVISIONING"), task(ONE_OFF, 6),
             task(ONE_OFF, 6, last_status="STOPPED", exit_code=exit_code,
                  stopped_reason="Essential container in task exited",
                  stop_code="EssentialContainerExited")]
    for polled in polls:
        stub.add("ecs", "describe_tasks", {"tasks": [polled], "failures": []},
                 {"cluster": CLUSTER, "tasks": [task_arn(ONE_OFF)]})
    stub.error("logs", "get_log_events", "ResourceNotFoundException",
               "The specified log stream does not exist.")
    stub.add("logs", "get_log_events", log_page("f1", "Applying 0001_initial..."), logs_call())
    stub.add("logs", "get_log_events", log_page("f1"), logs_call("f1"))
    stub.add("logs", "get_log_events", log_page("f2", "Applying 0002_orders...", "done",
                                                start=1), logs_call("f1"))
    stub.add("logs", "get_log_events", log_page("f2"), logs_call("f2"))
    stub.add("logs", "get_log_events", log_page("f2"), logs_call("f2"))
    code, out, err = main(capsys, "run", "staging", "web", "--outputs", write_outputs(tmp_path),
                          "--", *command)
    assert code == exit_code
    short = ONE_OFF[:8]
    assert out.splitlines() == [
        f"2026-12-03T10:00:00.000Z web/{short} Applying 0001_initial...",
        f"2026-12-03T10:00:01.000Z web/{short} Applying 0002_orders...",
        f"2026-12-03T10:00:02.000Z web/{short} done"]
    assert err.splitlines() == [
        f"started task {ONE_OFF} of shipyard-staging-web:6 (container web); waiting for it to "
        "stop",
        f"task {ONE_OFF} stopped: Essential container in task exited; container web exited "
        f"{exit_code}"]


def test_no_capacity_is_exit_125_with_ecs_reason_and_what_to_do(stub, capsys, tmp_path):
    stub_live_service(stub)
    stub.add("ecs", "run_task", {"tasks": [], "failures": [
        {"arn": task_definition_arn(6), "reason": "Capacity is unavailable at this time. "
                                                  "Please try again later or in a different "
                                                  "availability zone"}]})
    code, _, err = main(capsys, "run", "staging", "web", "--outputs", write_outputs(tmp_path),
                        "--", "true")
    assert code == 125
    assert err == (f"error: ECS did not start a task of {task_definition_arn(6)}: Capacity is "
                   "unavailable at this time. Please try again later or in a different "
                   "availability zone (no capacity right now: retry, or run on FARGATE instead "
                   "of FARGATE_SPOT)\n")


def test_an_image_that_cannot_be_pulled_is_exit_125_naming_the_pull(stub, capsys, tmp_path):
    stub_live_service(stub)
    stub.add("ecs", "run_task", {"tasks": [task(ONE_OFF, 6, last_status="PROVISIONING")]})
    stub.add("ecs", "describe_tasks", {"tasks": [task(
        ONE_OFF, 6, last_status="STOPPED", stop_code="TaskFailedToStart",
        stopped_reason="CannotPullContainerError: pull image manifest has been retried 7 "
                       "time(s): failed to resolve ref",
        container_reason="CannotPullContainerError: ref not found")]})
    stub.error("logs", "get_log_events", "ResourceNotFoundException", "no stream")
    code, out, err = main(capsys, "run", "staging", "web", "--outputs", write_outputs(tmp_path),
                          "--", "true")
    assert (code, out) == (125, "")
    assert err.splitlines()[-1] == (
        f"error: task {ONE_OFF} stopped before its command ran: CannotPullContainerError: pull "
        "image manifest has been retried 7 time(s): failed to resolve ref (TaskFailedToStart); "
        "container web: CannotPullContainerError: ref not found (the execution role must be "
        "allowed to pull the image and the subnets need a route to ECR (a NAT gateway or VPC "
        "endpoints))")


def test_access_denied_on_run_task_is_one_line(stub, capsys, tmp_path):
    stub_live_service(stub)
    stub.error("ecs", "run_task", "AccessDeniedException", "not authorized to perform "
                                                            "ecs:RunTask")
    code, _, err = main(capsys, "run", "staging", "web", "--outputs", write_outputs(tmp_path),
                        "--", "true")
    assert code == 3
    assert err == ("error: ecs RunTask on task definition shipyard-staging-web:6: access denied "
                   "(AWS: not authorized to perform ecs:RunTask); the identity needs ecs:RunTask "
                   "on it: use a profile or role that has it\n")


def test_without_a_command_nothing_is_called(stub, capsys, tmp_path):
    code, _, err = main(capsys, "run", "staging", "web", "--outputs", write_outputs(tmp_path))
    assert code == 2
    assert err == ("error: command: None is not valid; a command after `--`, e.g. `shipyard run "
                   "staging web -- python manage.py migrate`\n")


def test_the_request_is_valid_for_the_ecs_model_on_fargate_without_a_strategy():
    from botocore.validate import validate_parameters
    from day_two_stubs import SESSION

    request = run_task_request(OneOffTask(
        cluster=CLUSTER, task_definition=task_definition_arn(7), container="web",
        command=["sh", "-c", "echo hi"], subnets=SUBNETS, security_groups=[SECURITY_GROUP]))
    model = SESSION.client("ecs").meta.service_model.operation_model("RunTask")
    validate_parameters(request, model.input_shape)
    assert request["launchType"] == "FARGATE" and "capacityProviderStrategy" not in request
    assert request["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"


def test_a_spot_interruption_before_the_command_ran_says_so():
    stopped = task(ONE_OFF, 7, last_status="STOPPED", stop_code="SpotInterruption",
                   stopped_reason="Your Spot Task was interrupted.")
    del stopped["containers"][0]["imageDigest"]
    with pytest.raises(TaskDidNotRun) as raised:
        judge_stopped(stopped, "web")
    assert str(raised.value) == (
        f"task {ONE_OFF} stopped before its command ran: Your Spot Task was interrupted. "
        "(SpotInterruption) (no capacity right now: retry, or run on FARGATE instead of "
        "FARGATE_SPOT)")
    assert SERVICE_NAME  # the fixture module's names stay the ones the other tests use
