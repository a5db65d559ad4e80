"""Where the day-two commands read the stack: `pulumi stack output --json
--show-secrets=false` (and `pulumi stack history --json`) run in the project folder when the CLI
is on PATH, or the files `--outputs`/`--history` name; and what registering the commands costs
(`shipyard --help` builds every parser: no boto3, no botocore)."""

import json
import os
import stat
import subprocess
import sys

import pytest
from day_two_stubs import outputs_document
from shipyard.errors import ConfigError

from shipyard_preview.operations.stack_outputs import load_history, load_outputs, parse_outputs


@pytest.fixture
def fake_pulumi(tmp_path, monkeypatch):
    """A `pulumi` on PATH that records its arguments and folder and prints a canned answer."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "pulumi-call.json"
    answers = tmp_path / "answers.json"
    script = folder / "pulumi"
    script.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps([sys.argv[1:], os.getcwd()]))\n"
        f"answers = json.load(open({str(answers)!r}))\n"
        "answer = answers[sys.argv[2]]\n"
        "if answer is None:\n"
        "    sys.stderr.write('error: no stack named \"nope\" found\\n'); sys.exit(255)\n"
        "print(json.dumps(answer))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")

    def set_answers(**by_command):
        answers.write_text(json.dumps(by_command))
    return record, set_answers


def test_outputs_come_from_pulumi_stack_output_without_secrets(fake_pulumi, tmp_path):
    record, answer = fake_pulumi
    answer(output=outputs_document())
    outputs = load_outputs("staging", outputs_file=None, project_dir=tmp_path)
    argv, cwd = json.loads(record.read_text())
    assert argv == ["stack", "output", "--json", "--show-secrets=false", "--stack", "staging",
                    "--non-interactive"]
    assert cwd == str(tmp_path)
    web = outputs.service("web")
    assert (web.region, web.account, web.cluster_name) == ("eu-west-1", "111122223333",
                                                           "cluster-0a1b2c3")
    assert outputs.source == "pulumi stack output --stack staging"


def test_history_comes_from_pulumi_stack_history(fake_pulumi, tmp_path):
    record, answer = fake_pulumi
    answer(history=[{"kind": "update", "version": 3, "result": "succeeded",
                     "startTime": "2026-12-03T09:55:00.000Z",
                     "endTime": "2026-12-03T10:04:00.000Z", "message": "",
                     "environment": {"git.head": "3f2a9c1d4e5b6a7980f1e2d3c4b5a69788e7f6d5"}}])
    (update,) = load_history("prod", history_file=None, project_dir=tmp_path)
    argv, _ = json.loads(record.read_text())
    assert argv == ["stack", "history", "--json", "--show-secrets=false", "--stack", "prod",
                    "--non-interactive"]
    assert (update.version, update.commit, update.result) == (
        3, "3f2a9c1d4e5b6a7980f1e2d3c4b5a69788e7f6d5", "succeeded")


def test_a_stack_the_cli_cannot_read_is_bad_input_with_its_message(fake_pulumi, tmp_path):
    _, answer = fake_pulumi
    answer(output=None)
    with pytest.raises(ConfigError) as raised:
        load_outputs("nope", outputs_file=None, project_dir=tmp_path)
    assert str(raised.value) == ("stack: 'nope' is not valid; a stack `pulumi stack output` can "
                                 "read (error: no stack named \"nope\" found)")


@pytest.mark.parametrize(("change", "message"), [
    ({"cluster_arn": "cluster-0a1b2c3"},
     "services.web.cluster_arn: 'cluster-0a1b2c3' is not valid; an ECS cluster ARN "
     "(arn:aws:ecs:<region>:<account>:cluster/<name>)"),
    ({"service_name": "[secret]"},
     "services.web.service_name: '[secret]' is not valid; a plain string (not a secret)"),
    ({"log_group_name": None},
     "services.web: ['cluster_arn', 'cluster_name', 'execute_command', 'execution_role_arn', "
     "'image_digests', 'log_group_name', 'service_name', 'task_definition_arn', "
     "'task_definition_family', 'task_role_arn', 'url'] is not valid; the keys cluster_arn, "
     "cluster_name, service_name, log_group_name, task_definition_family, task_definition_arn, "
     "image_digests (log_group_name missing in f.json)"),
    ({"image_digests": ["web"]},
     "services.web.image_digests: ['web'] is not valid; a mapping of container name to image "
     "reference"),
])
def test_outputs_that_are_not_what_the_program_exports_are_refused(change, message):
    document = outputs_document()
    document["services"]["web"].update(change)
    with pytest.raises(ConfigError) as raised:
        parse_outputs("staging", document, "f.json")
    assert str(raised.value) == message


def test_registering_the_day_two_commands_imports_neither_boto3_nor_botocore(tmp_path):
    probe = ("import argparse, sys\n"
             "from shipyard_preview.commands import register_all\n"
             "register_all(argparse.ArgumentParser().add_subparsers())\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, cwd=tmp_path)
    assert result.stdout.strip() == "[]"
