"""Runs one day-two command as a user would in a terminal, against AWS answers that botocore
validates against its models (the answers of tests/day_two_stubs.py), for the tmux tests.

    python scenario.py status|logs-follow <outputs file>

Prints `[exit N]` after the command returns, so the capture shows the exit code too."""

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters
from day_two_stubs import (
    TASK_IDS,
    StubbedAws,
    deployment,
    service_answer,
    stub_status,
    task,
    task_definition_answer,
)

from shipyard_preview import cli
from shipyard_preview.operations import aws as aws_module
from shipyard_preview.operations import logs as logs_module

FOLLOW_LINES = [("web", 0, "GET /healthz 200 1ms"), ("web", 1, "GET /orders 200 12ms"),
                ("web", 0, "POST /orders 201 30ms")]


def _answering(client, operation, answers):
    """Answer `operation` from the list in turn, then with no events: each answer is checked
    against the operation's output shape, as Stubber checks its queue."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    calls = []

    def before_call(**_):
        answer = answers[len(calls)] if len(calls) < len(answers) else {"events": []}
        calls.append(answer)
        validate_parameters(answer, shape)
        return AWSResponse(None, 200, {}, None), answer
    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service_id}.{operation}", before_call)


def main(scenario: str, outputs: str) -> int:
    stub = StubbedAws()
    aws_module.open_aws = lambda **_: stub.aws
    if scenario == "status":
        service = service_answer(
            deployment("PRIMARY", 8, "IN_PROGRESS", running=1, pending=1),
            deployment("ACTIVE", 7, "COMPLETED", running=2), running=3, desired=2, pending=1)
        stub_status(stub, service, task_definition_answer(8),
                    [task(TASK_IDS[0], 7), task(TASK_IDS[1], 7),
                     task("0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", 8, last_status="PENDING",
                          health="UNKNOWN")],
                    health=(("healthy", None), ("healthy", None),
                            ("initial", "Elb.RegistrationInProgress")))
        argv = ["status", "staging", "--outputs", outputs]
    else:
        logs_module.FOLLOW_POLL_SECONDS = 0.2
        start = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
        pages = [{"events": [{
            "logStreamName": f"ecs/{container}/{TASK_IDS[task_index]}",
            "timestamp": int((start + timedelta(seconds=n)).timestamp() * 1000),
            "message": message, "eventId": str(n), "ingestionTime": 0}]}
            for n, (container, task_index, message) in enumerate(FOLLOW_LINES)]
        _answering(stub.aws.client("logs"), "FilterLogEvents", pages)
        argv = ["logs", "staging", "web", "--follow", "--since", "2026-12-03T09:59:00Z",
                "--outputs", outputs]
    code = cli.main(argv)
    print(f"[exit {code}]", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
