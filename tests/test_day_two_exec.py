"""`shipyard exec`: refused with the setting named where ECS Exec is off, the Session Manager
plugin checked for and named, the task's exec agent checked, and the plugin called with the
arguments the AWS CLI gives it (ExecuteCommand answered through botocore's Stubber)."""

import json
import os
import stat

import pytest
from day_two_stubs import (
    CLUSTER,
    CLUSTER_NAME,
    TASK_IDS,
    StubbedAws,
    deployment,
    service_answer,
    task,
    task_arn,
    write_outputs,
)

from shipyard_preview import cli
from shipyard_preview.operations import aws as aws_module

SESSION_ANSWER = {"sessionId": "ecs-execute-command-0a1b2c3d4e5f", "streamUrl":
                  "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-"
                  "command-0a1b2c3d4e5f?role=publish_subscribe", "tokenValue": "opaque-token"}


@pytest.fixture
def stub(monkeypatch):
    stubbed = StubbedAws()
    monkeypatch.setattr(aws_module, "open_aws", lambda **_: stubbed.aws)
    yield stubbed
    stubbed.verify()


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A stand-in session-manager-plugin on PATH that records its arguments."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "plugin-args.json"
    script = folder / "session-manager-plugin"
    script.write_text("#!/usr/bin/env python3\nimport json, sys\n"
                      f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return record


def main(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_exec_calls_the_plugin_as_the_aws_cli_does(stub, plugin, capsys, tmp_path):
    stub.add("ecs", "describe_services", service_answer(deployment("PRIMARY", 7, "COMPLETED"),
                                                        execute_command=True))
    stub.add("ecs", "list_tasks", {"taskArns": [task_arn(i) for i in TASK_IDS]})
    stub.add("ecs", "describe_tasks", {"tasks": [task(i, 7, exec_agent="RUNNING")
                                                 for i in TASK_IDS]})
    stub.add("ecs", "execute_command", {
        "clusterArn": CLUSTER, "containerArn": "arn:aws:ecs:eu-west-1:111122223333:container/x",
        "containerName": "web", "interactive": True, "taskArn": task_arn(TASK_IDS[1]),
        "session": SESSION_ANSWER},
        {"cluster": CLUSTER, "task": task_arn(TASK_IDS[1]), "container": "web",
         "interactive": True, "command": "/bin/sh -c 'ls /tmp'"})
    code, _, err = main(capsys, "exec", "staging", "web", "--task", TASK_IDS[1][:6],
                        "--outputs", write_outputs(tmp_path, execute_command=True),
                        "--", "/bin/sh", "-c", "ls /tmp")
    assert (code, err) == (0, "")
    assert json.loads(plugin.read_text()) == [
        json.dumps(SESSION_ANSWER), "eu-west-1", "StartSession", "",
        json.dumps({"Target": f"ecs:{CLUSTER_NAME}_{TASK_IDS[1]}_{TASK_IDS[1]}-1234567890"}),
        "https://ecs.eu-west-1.amazonaws.com"]


def test_exec_off_in_the_stack_names_the_setting_before_any_call(stub, plugin, capsys,
                                                                 tmp_path):
    code, _, err = main(capsys, "exec", "staging", "web", "--outputs", write_outputs(tmp_path),
                        "--", "/bin/sh")
    assert code == 2
    assert err == ("error: enable_execute_command: False is not valid; true on service web for "
                   "ECS Exec: set `enable_execute_command: true` in its stack config "
                   "(shipyard:services), run `pulumi up`, and exec into a task started after "
                   "that\n")


def test_a_missing_session_manager_plugin_is_named_with_where_to_get_it(
        stub, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = main(capsys, "exec", "staging", "web", "--outputs",
                        write_outputs(tmp_path, execute_command=True), "--", "/bin/sh")
    assert code == 2
    assert err == ("error: session-manager-plugin: None is not valid; the AWS Session Manager "
                   "plugin on PATH, which ECS Exec sessions need (install it: https://docs.aws."
                   "amazon.com/systems-manager/latest/userguide/session-manager-working-with-"
                   "install-plugin.html)\n")


def test_a_task_started_before_exec_was_enabled_is_refused_with_the_way_out(
        stub, plugin, capsys, tmp_path):
    stub.add("ecs", "describe_services", service_answer(deployment("PRIMARY", 7, "COMPLETED"),
                                                        execute_command=True))
    stub.add("ecs", "list_tasks", {"taskArns": [task_arn(TASK_IDS[0])]})
    stub.add("ecs", "describe_tasks", {"tasks": [task(TASK_IDS[0], 7)]})
    code, _, err = main(capsys, "exec", "staging", "web", "--outputs",
                        write_outputs(tmp_path, execute_command=True), "--", "/bin/sh")
    assert code == 2
    assert err == (f"error: --task: '{TASK_IDS[0]}' is not valid; a task that accepts ECS Exec "
                   "(this one has no ExecuteCommandAgent: it started before exec was enabled, "
                   "or its agent failed; start new tasks with a deployment and retry)\n")
    assert not plugin.exists()


def test_exec_off_on_the_live_service_is_refused_too(stub, plugin, capsys, tmp_path):
    stub.add("ecs", "describe_services", service_answer(deployment("PRIMARY", 7, "COMPLETED")))
    code, _, err = main(capsys, "exec", "staging", "web", "--outputs",
                        write_outputs(tmp_path, execute_command=True), "--", "/bin/sh")
    assert code == 2 and err.startswith("error: enable_execute_command: False is not valid")
