"""`shipyard logs`: streams merged in time order with container and task on each line (moto's
CloudWatch Logs), one container by the task definition's own stream prefix, paging and
`--follow` (Stubber, answers validated by botocore's logs model)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from day_two_stubs import (
    LOG_GROUP,
    SESSION,
    TASK_IDS,
    StubbedAws,
    task_definition_answer,
    task_definition_arn,
    write_outputs,
)
from moto import mock_aws
from shipyard.errors import ConfigError

from shipyard_preview import cli
from shipyard_preview.operations import aws as aws_module
from shipyard_preview.operations.aws import Aws
from shipyard_preview.operations.logs import LogSource, parse_since, print_logs

# Fixed times where the answers are stubbed; moto's events are written relative to the time
# the test runs (below), so a long suite run cannot push them out of the --since window.
NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


def ms(when):
    return int(when.timestamp() * 1000)


@pytest.fixture
def cloudwatch(monkeypatch):
    with mock_aws():
        aws = Aws(session=SESSION, region="eu-west-1")
        logs = aws.client("logs")
        logs.create_log_group(logGroupName=LOG_GROUP)
        streams = {"web-a": f"ecs/web/{TASK_IDS[0]}", "web-b": f"ecs/web/{TASK_IDS[1]}",
                   "proxy": f"ecs/envoy/{TASK_IDS[0]}"}
        for stream in streams.values():
            logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        for key, offsets in (("web-a", (0, 4)), ("web-b", (1, 3)), ("proxy", (2,))):
            logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=streams[key], logEvents=[
                {"timestamp": ms(base + timedelta(seconds=s)), "message": f"{key} at {s}s\n"}
                for s in offsets])
        monkeypatch.setattr(aws_module, "open_aws", lambda **_: aws)
        yield aws, base


def line(base, seconds, who, message):
    at = base + timedelta(seconds=seconds)
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S')}.000Z {who} {message}"


def test_streams_are_merged_in_time_order_with_container_and_task(cloudwatch, capsys, tmp_path):
    _, base = cloudwatch
    code = cli.main(["logs", "staging", "web", "--since", "10m",
                     "--outputs", write_outputs(tmp_path)])
    out = capsys.readouterr().out
    a, b = TASK_IDS[0][:8], TASK_IDS[1][:8]
    assert code == 0
    assert out.splitlines() == [
        line(base, 0, f"web/{a}", "web-a at 0s"), line(base, 1, f"web/{b}", "web-b at 1s"),
        line(base, 2, f"envoy/{a}", "proxy at 2s"), line(base, 3, f"web/{b}", "web-b at 3s"),
        line(base, 4, f"web/{a}", "web-a at 4s")]


def test_one_container_by_the_stream_prefix_its_task_definition_names(
        monkeypatch, capsys, tmp_path):
    # Stubber, not moto: moto's FilterLogEvents ignores logStreamNamePrefix (moto 5.1,
    # logs/responses.py reads it for DescribeLogStreams only).
    stub = StubbedAws()
    monkeypatch.setattr(aws_module, "open_aws", lambda **_: stub.aws)
    stub.add("ecs", "describe_task_definition",
             task_definition_answer(7, containers=("web", "envoy"), prefix="svc"),
             {"taskDefinition": task_definition_arn(7), "include": ["TAGS"]})
    when = NOW - timedelta(minutes=2)
    stub.add("logs", "filter_log_events", {"events": [
        event(f"svc/envoy/{TASK_IDS[0]}", when, "proxy ready", "9")]},
        {"logGroupName": LOG_GROUP, "startTime": ms(NOW - timedelta(minutes=10)),
         "logStreamNamePrefix": "svc/envoy/"})
    code = cli.main(["logs", "staging", "web", "--container", "envoy",
                     "--since", (NOW - timedelta(minutes=10)).isoformat(),
                     "--outputs", write_outputs(tmp_path)])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        line(when, 0, f"envoy/{TASK_IDS[0][:8]}", "proxy ready")]
    stub.verify()


def test_a_container_that_is_not_in_the_task_definition_is_bad_input(monkeypatch, capsys,
                                                                       tmp_path):
    stub = StubbedAws()
    monkeypatch.setattr(aws_module, "open_aws", lambda **_: stub.aws)
    stub.add("ecs", "describe_task_definition", task_definition_answer(7))
    code = cli.main(["logs", "staging", "web", "--container", "worker",
                     "--outputs", write_outputs(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err == ("error: --container: 'worker' is not valid; one of the "
                                       "service's containers: web\n")


def test_a_filter_pattern_reaches_cloudwatch(cloudwatch, capsys, tmp_path):
    _, base = cloudwatch
    code = cli.main(["logs", "staging", "web", "--filter", "proxy", "--since", "10m",
                     "--outputs", write_outputs(tmp_path)])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        line(base, 2, f"envoy/{TASK_IDS[0][:8]}", "proxy at 2s")]


def event(stream, when, message, event_id):
    return {"logStreamName": stream, "timestamp": ms(when), "message": message,
            "ingestionTime": ms(when) + 500, "eventId": event_id}


def test_every_page_is_read_and_follow_prints_late_events_once_in_order():
    stub = StubbedAws()
    stream = f"ecs/web/{TASK_IDS[0]}"
    since = NOW - timedelta(hours=1)
    t = NOW - timedelta(minutes=1)
    params = {"logGroupName": LOG_GROUP, "startTime": ms(since)}
    stub.add("logs", "filter_log_events", {"events": [event(stream, t, "one", "1")],
                                           "nextToken": "page-2"}, params)
    stub.add("logs", "filter_log_events", {"events": [event(stream, t + timedelta(seconds=3),
                                                            "three", "3")]},
             {**params, "nextToken": "page-2"})
    # The next poll looks back 30 s from the newest event: "three" again, and "two", which
    # CloudWatch ingested late, with "four".
    stub.add("logs", "filter_log_events", {"events": [
        event(stream, t + timedelta(seconds=4), "four", "4"),
        event(stream, t + timedelta(seconds=3), "three", "3"),
        event(stream, t + timedelta(seconds=2), "two", "2")]},
        {"logGroupName": LOG_GROUP, "startTime": ms(t + timedelta(seconds=3)) - 30_000})
    out, slept = io.StringIO(), []
    printed = print_logs(stub.aws, LogSource(LOG_GROUP, None), since=since, pattern=None,
                         follow=True, out=out, polls=2, sleep=slept.append)
    assert printed == 4 and slept == [2.0]
    assert [entry.split(" ", 2)[2] for entry in out.getvalue().splitlines()] == [
        "one", "three", "two", "four"]
    stub.verify()


@pytest.mark.parametrize(("value", "expected"), [
    ("30s", NOW - timedelta(seconds=30)), ("15m", NOW - timedelta(minutes=15)),
    ("1h", NOW - timedelta(hours=1)), ("2d", NOW - timedelta(days=2)),
    ("2026-12-03T10:00:00Z", datetime(2026, 12, 3, 10, tzinfo=UTC)),
    ("2026-12-03T10:00:00", datetime(2026, 12, 3, 10, tzinfo=UTC)),
])
def test_since_takes_durations_and_times(value, expected):
    assert parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["1w", "yesterday", "", "-1h"])
def test_since_refuses_anything_else_naming_what_it_takes(value):
    with pytest.raises(ConfigError) as raised:
        parse_since(value, now=NOW)
    assert str(raised.value) == (f"--since: {value!r} is not valid; a duration (30s, 15m, 1h, "
                                 "2d) or an ISO 8601 time (2026-12-03T10:00:00Z)")
