"""Start a Pulumi Deployments update of one stack at one commit and wait for its end: exit 0 only
when the deployment succeeded, so a workflow's green means the stack really changed.

Pulumi Cloud REST API (Deployments): POST /api/stacks/{org}/{project}/{stack}/deployments with
`inheritSettings` and the commit; GET .../deployments/{id} until `status` is terminal
(`succeeded`, `failed`, `skipped`: docs "Deployment status"). Standard library only, so a
workflow runs it with the runner's python3 and nothing installed.

The request sends the operation context the delivery program stores for the stack (the pre-run
gate and the executor image, from deployment-context.json) instead of relying on what is stored:
a settings change made outside the delivery stack does not reach this run. Released digests
(promote.py's output) travel as SHIPYARD_RELEASED_DIGESTS, which the program refuses to deviate
from.

Usage: run_deployment.py <org> <project> <stack> <commit> [released-digests-json]
(token in PULUMI_ACCESS_TOKEN)"""

import json
import os
import re
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

API = "https://api.pulumi.com/api"
TERMINAL = ("succeeded", "failed", "skipped")
POLL_SECONDS = 15.0
TIMEOUT_SECONDS = 3 * 3600.0
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
CONTEXT_FILE = Path(__file__).resolve().parent / "deployment-context.json"
"""Per stack: the operationContext and executorContext the delivery program stores
(tests/test_delivery_run.py keeps the file equal to deployments.py's)."""

Call = Callable[[str, str, dict | None], dict]


def http_call(token: str) -> Call:
    def call(method: str, url: str, body: dict | None) -> dict:
        request = urllib.request.Request(
            url, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}", "Content-Type": "application/json",
                     "Accept": "application/vnd.pulumi+8"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")
    return call


def deployment_request(stack: str, commit: str, released: str | None = None,
                       contexts: dict | None = None) -> dict:
    """The POST body: this commit, and the stack's full operation and executor context."""
    context = (contexts if contexts is not None
               else json.loads(CONTEXT_FILE.read_text()))[stack]
    operation = dict(context["operationContext"])
    if released is not None:
        operation["environmentVariables"] = {**operation.get("environmentVariables", {}),
                                             "SHIPYARD_RELEASED_DIGESTS": released}
    return {"operation": "update", "inheritSettings": True,
            "sourceContext": {"git": {"commit": commit}},
            "operationContext": operation, "executorContext": context["executorContext"]}


def run(call: Call, org: str, project: str, stack: str, commit: str,
        released: str | None = None, *, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic, out: Any = sys.stdout,
        contexts: dict | None = None) -> int:
    for label, value, pattern in (("org", org, _NAME), ("project", project, _NAME),
                                  ("stack", stack, _NAME), ("commit", commit, _COMMIT)):
        if not pattern.match(value):
            print(f"refused: {label} {value!r} is not valid", file=out)
            return 2
    if released is not None:
        try:
            json.loads(released)
        except json.JSONDecodeError:
            print("refused: released digests are not JSON", file=out)
            return 2
    base = f"{API}/stacks/{org}/{project}/{stack}/deployments"
    started = call("POST", base, deployment_request(stack, commit, released, contexts))
    deployment = started["id"]
    print(f"{stack}: deployment {deployment} queued for {commit}", file=out)
    deadline = clock() + TIMEOUT_SECONDS
    status = "not-started"
    while True:
        status = call("GET", f"{base}/{deployment}", None).get("status", "unknown")
        if status in TERMINAL:
            break
        if clock() >= deadline:
            print(f"{stack}: deployment {deployment} still {status} after "
                  f"{TIMEOUT_SECONDS:g} s", file=out)
            return 1
        sleep(POLL_SECONDS)
    print(f"{stack}: deployment {deployment} {status}", file=out)
    return 0 if status == "succeeded" else 1


def main(argv: list[str]) -> int:
    if len(argv) not in (4, 5) or not os.environ.get("PULUMI_ACCESS_TOKEN"):
        print(__doc__, file=sys.stderr)
        return 2
    return run(http_call(os.environ["PULUMI_ACCESS_TOKEN"]), *argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
