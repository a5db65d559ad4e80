"""`shipyard logs`: the service's log group, every stream merged in time order, each line
naming the container and the task.

ContainerService's containers log with the awslogs driver, whose stream names are
`<awslogs-stream-prefix>/<container name>/<task id>` (ECS developer guide, "Using the awslogs
log driver"); the prefix is read from the task definition, never assumed. A container that logs
through FireLens is not in the log group, and says so.

Reading: FilterLogEvents over the group (optionally one container's stream prefix and a
CloudWatch filter pattern), every page followed by its nextToken. `--follow` polls again from
the newest timestamp seen, looking back a little for events CloudWatch ingested late, and drops
what it already printed by eventId. One task's streams (`shipyard run`) are read with
GetLogEvents, forward from the head, until the forward token stops changing (CloudWatch Logs
API reference, GetLogEvents)."""

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from shipyard.errors import ConfigError

from .aws import Aws
from .ecs_reads import describe_task_definition, task_id
from .stack_outputs import ServiceOutputs

_SINCE_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
FOLLOW_POLL_SECONDS = 2.0
LATE_EVENTS_SECONDS = 30  # how far back a poll looks for events ingested after newer ones
TASK_ID_SHOWN = 8


def parse_since(value: str, *, now: datetime) -> datetime:
    """`30s`, `15m`, `1h`, `2d`, or an ISO 8601 time (UTC unless it names a zone)."""
    match = _SINCE_RE.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(value.strip())  # 3.11 reads a trailing Z
    except ValueError:
        raise ConfigError("--since", value, "a duration (30s, 15m, 1h, 2d) or an ISO 8601 time "
                          "(2026-12-03T10:00:00Z)") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LogSource:
    log_group: str
    stream_prefix: str | None
    """`<prefix>/<container>/` for one container; None for all streams."""


def log_source(aws: Aws, service: ServiceOutputs, container: str | None) -> LogSource:
    if container is None:
        return LogSource(service.log_group_name, None)
    definition, _ = describe_task_definition(aws, service.task_definition_arn)
    containers = {c["name"]: c for c in definition.get("containerDefinitions") or []}
    if container not in containers:
        raise ConfigError("--container", container,
                          "one of the service's containers: " + ", ".join(sorted(containers)))
    logging = containers[container].get("logConfiguration") or {}
    options = logging.get("options") or {}
    if logging.get("logDriver") != "awslogs":
        raise ConfigError("--container", container,
                          f"a container that logs to the log group (it logs through "
                          f"{logging.get('logDriver') or 'no driver'}: read it where its log "
                          "router sends it)")
    prefix = options.get("awslogs-stream-prefix")
    return LogSource(options.get("awslogs-group", service.log_group_name),
                     f"{prefix}/{container}/" if prefix else None)


def label(stream: str) -> str:
    """`<container>/<task id, first 8>` from an awslogs stream name; else the stream name."""
    parts = stream.split("/")
    if len(parts) == 3:
        return f"{parts[1]}/{parts[2][:TASK_ID_SHOWN]}"
    return stream


def format_event(event: dict) -> str:
    at = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    message = str(event.get("message", "")).rstrip("\n")
    return f"{stamp} {label(str(event.get('logStreamName', '')))} {message}"


def _ordered(events: list[dict]) -> list[dict]:
    return sorted(events, key=lambda e: (e.get("timestamp", 0), e.get("logStreamName", ""),
                                         e.get("eventId", "")))


def filtered_events(aws: Aws, source: LogSource, *, start_ms: int, pattern: str | None,
                    end_ms: int | None = None) -> Iterator[list[dict]]:
    """Each page of FilterLogEvents, in time order."""
    params: dict[str, Any] = {"logGroupName": source.log_group, "startTime": start_ms}
    if source.stream_prefix:
        params["logStreamNamePrefix"] = source.stream_prefix
    if pattern:
        params["filterPattern"] = pattern
    if end_ms is not None:
        params["endTime"] = end_ms
    for page in aws.pages("logs", "FilterLogEvents", f"log group {source.log_group}", **params):
        yield _ordered(list(page.get("events") or []))


def print_logs(aws: Aws, source: LogSource, *, since: datetime, pattern: str | None,
               follow: bool, out: TextIO, polls: int | None = None,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Print the events since `since`; with `follow`, keep polling (`polls`: a bound for
    tests; None: until interrupted). Returns the number of lines printed."""
    seen: dict[str, int] = {}
    newest = int(since.timestamp() * 1000)
    printed = 0
    poll = 0
    while True:
        start = max(int(since.timestamp() * 1000), newest - LATE_EVENTS_SECONDS * 1000)
        for page in filtered_events(aws, source, start_ms=start, pattern=pattern):
            for event in page:
                key = str(event.get("eventId") or (event.get("logStreamName"),
                                                   event.get("timestamp"), event.get("message")))
                if key in seen:
                    continue
                seen[key] = int(event.get("timestamp", 0))
                newest = max(newest, seen[key])
                out.write(format_event(event) + "\n")
                printed += 1
        out.flush()
        if not follow:
            return printed
        poll += 1
        if polls is not None and poll >= polls:
            return printed
        # Forget what can no longer come back in a poll's window.
        horizon = newest - LATE_EVENTS_SECONDS * 1000
        seen = {k: ts for k, ts in seen.items() if ts >= horizon}
        sleep(FOLLOW_POLL_SECONDS)


class TaskLogs:
    """The awslogs streams of one task's containers, read forward with GetLogEvents; `drain()`
    prints what arrived since the last call, merged in time order."""

    def __init__(self, aws: Aws, *, log_group: str, streams: dict[str, str],
                 out: TextIO) -> None:
        self.aws, self.log_group, self.out = aws, log_group, out
        self.tokens: dict[str, str | None] = dict.fromkeys(streams.values())

    @classmethod
    def of_task(cls, aws: Aws, task_definition: dict, task_arn: str, containers: list[str],
                out: TextIO) -> "TaskLogs | None":
        streams: dict[str, str] = {}
        group = None
        for definition in task_definition.get("containerDefinitions") or []:
            logging = definition.get("logConfiguration") or {}
            options = logging.get("options") or {}
            if definition.get("name") not in containers or logging.get("logDriver") != "awslogs":
                continue
            group = options.get("awslogs-group")
            prefix = options.get("awslogs-stream-prefix")
            if group and prefix:
                streams[definition["name"]] = f"{prefix}/{definition['name']}/{task_id(task_arn)}"
        return cls(aws, log_group=group, streams=streams, out=out) if group and streams else None

    def print_new(self) -> None:
        self.drain()

    def drain(self) -> int:
        from .aws import AwsCallFailed

        events: list[dict] = []
        for stream, token in list(self.tokens.items()):
            while True:
                params: dict[str, Any] = {"logGroupName": self.log_group,
                                          "logStreamName": stream, "startFromHead": True}
                if token:
                    params["nextToken"] = token
                try:
                    page = self.aws.call("logs", "GetLogEvents", f"log stream {stream}",
                                         **params)
                except AwsCallFailed as error:
                    if "ResourceNotFoundException" in str(error):
                        break  # the container has not written yet: its stream does not exist
                    raise
                events.extend({**e, "logStreamName": stream} for e in page.get("events") or [])
                following = page.get("nextForwardToken")
                if not following or following == token:
                    break
                token = following
            self.tokens[stream] = token
        for event in _ordered(events):
            self.out.write(format_event(event) + "\n")
        self.out.flush()
        return len(events)
