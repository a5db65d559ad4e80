"""The release and merge workflows' deployment step: it waits for the deployment's end and fails
when the deployment fails, so a green workflow means the stack changed."""

import importlib.util
import io
import json

import pytest
from conftest import PROJECT

spec = importlib.util.spec_from_file_location("run_deployment",
                                              PROJECT / "delivery" / "run_deployment.py")
assert spec and spec.loader
run_deployment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_deployment)
COMMIT = "0123456789abcdef0123456789abcdef01234567"
BASE = "https://api.pulumi.com/api/stacks/acme-corp/shipyard/prod/deployments"


def fake_api(*statuses):
    calls = []
    remaining = list(statuses)

    def call(method, url, body):
        calls.append((method, url, body))
        if method == "POST":
            return {"id": "d-1", "version": 7}
        return {"status": remaining.pop(0)}
    return call, calls


@pytest.mark.parametrize(("statuses", "code"), [
    (("not-started", "accepted", "running", "succeeded"), 0),
    (("running", "failed"), 1),
    (("skipped",), 1),
])
def test_exit_code_follows_the_deployment(statuses, code):
    call, calls = fake_api(*statuses)
    out = io.StringIO()
    assert run_deployment.run(call, "acme-corp", "shipyard", "prod", COMMIT,
                              sleep=lambda _: None, out=out) == code
    contexts = json.loads((PROJECT / "delivery" / "deployment-context.json").read_text())
    # The full operation and executor context, not what happens to be stored.
    assert calls[0] == ("POST", BASE, {
        "operation": "update", "inheritSettings": True,
        "sourceContext": {"git": {"commit": COMMIT}},
        "operationContext": contexts["prod"]["operationContext"],
        "executorContext": contexts["prod"]["executorContext"]})
    assert all(c == ("GET", f"{BASE}/d-1", None) for c in calls[1:])
    assert out.getvalue().splitlines()[-1] == f"prod: deployment d-1 {statuses[-1]}"


def test_timeout_fails():
    call, _ = fake_api(*["running"] * 5)
    ticks = iter(range(0, 10**6, 4000))
    assert run_deployment.run(call, "acme-corp", "shipyard", "prod", COMMIT,
                              sleep=lambda _: None, clock=lambda: next(ticks),
                              out=io.StringIO()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (("acme corp", "shipyard", "prod", COMMIT), "refused: org 'acme corp' is not valid"),
    (("acme-corp", "shipyard", "prod", "main"), "refused: commit 'main' is not valid"),
])
def test_unsafe_input_refused_before_any_call(args, message):
    call, calls = fake_api()
    out = io.StringIO()
    assert run_deployment.run(call, *args, out=out) == 2
    assert calls == [] and out.getvalue().strip() == message


def test_released_digests_travel_to_the_program():
    call, calls = fake_api("succeeded")
    released = '{"web": {"web": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shipyard/web/web@sha256:' + "ab" * 32 + '"}}'
    assert run_deployment.run(call, "acme-corp", "shipyard", "prod", COMMIT, released,
                              sleep=lambda _: None, out=io.StringIO()) == 0
    assert calls[0][2]["operationContext"]["environmentVariables"] == {
        "SHIPYARD_RELEASED_DIGESTS": released}


def test_the_context_file_follows_the_stack_files():
    """deployment-context.json (what run_deployment.py sends, what promote.py compares deployed
    commits on) is derived from the stack files and deployments.py: when this fails, the message
    says to run `./dev delivery-files`, which rewrites it."""
    from shipyard_delivery.derived_files import CONTEXT_FILE, differences

    assert [p for p in differences(PROJECT) if p.startswith(str(CONTEXT_FILE))] == []


def test_the_context_file_is_what_the_deployment_settings_hold():
    """The request's operation and executor context is the one the delivery program stores in
    each stack's DeploymentSettings (the same gate, the same image), in the REST API's shape."""
    from conftest import inputs
    from delivery_mocks import delivery_run

    contexts = json.loads((PROJECT / "delivery" / "deployment-context.json").read_text())
    for name, stored in inputs(delivery_run(), "pulumiservice:index:DeploymentSettings").items():
        stack = name.removeprefix("deployments-")
        assert contexts[stack]["operationContext"] == stored["operationContext"]
        assert contexts[stack]["executorContext"] == {
            "executorImage": {"reference": stored["executorContext"]["executorImage"]}}
        assert contexts[stack]["paths"] == stored["vcs"]["paths"]
