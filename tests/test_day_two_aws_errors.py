"""The AWS seam of the day-two commands: botocore's own retry handler retries throttling (the
answers come over the HTTP layer, so botocore parses and retries them as it would AWS's), and
each failure is one line naming the call, the resource and what to do."""

import json
from datetime import datetime

import pytest
from botocore import exceptions
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters
from day_two_stubs import CLUSTER, SERVICE_NAME, SESSION, deployment, service_answer

from shipyard_preview.operations.aws import MAX_ATTEMPTS, Aws, AwsCallFailed


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_):
        yield self.body


def _json_body(answer):
    return json.dumps(answer, default=lambda v: v.timestamp() if isinstance(v, datetime)
                      else str(v)).encode()


def wire(aws, service, operation, answers):
    """Answer the client's HTTP requests in turn: an int is an error status with the throttling
    body ECS's JSON protocol sends, a dict a success (validated against the output shape)."""
    client = aws.client(service)
    output = client.meta.service_model.operation_model(operation).output_shape
    sent = []

    def before_send(request, **_):
        answer = answers[min(len(sent), len(answers) - 1)]
        sent.append(request)
        if isinstance(answer, int):
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            return AWSResponse(request.url, answer, {"x-amzn-RequestId": "r"}, _Raw(body.encode()))
        validate_parameters(answer, output)
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "r"}, _Raw(_json_body(answer)))

    client.meta.events.register(f"before-send.{service}.{operation}", before_send)
    return sent


@pytest.fixture
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def test_throttling_is_retried_by_botocore_with_backoff_then_succeeds(no_sleep):
    aws = Aws(session=SESSION, region="eu-west-1")
    answer = service_answer(deployment("PRIMARY", 7, "COMPLETED"))
    sent = wire(aws, "ecs", "DescribeServices", [400, 400, answer])
    result = aws.call("ecs", "DescribeServices", "service web", cluster=CLUSTER,
                      services=[SERVICE_NAME])
    assert result["services"][0]["serviceName"] == SERVICE_NAME
    assert len(sent) == 3 and len(no_sleep) == 2 and all(s > 0 for s in no_sleep)


def test_throttling_that_outlasts_the_retries_is_one_line_with_the_attempts(no_sleep):
    aws = Aws(session=SESSION, region="eu-west-1")
    sent = wire(aws, "ecs", "DescribeServices", [400])
    with pytest.raises(AwsCallFailed) as raised:
        aws.call("ecs", "DescribeServices", "service web", cluster=CLUSTER,
                 services=[SERVICE_NAME])
    assert len(sent) == MAX_ATTEMPTS
    assert str(raised.value) == (
        f"ecs DescribeServices on service web: AWS throttled the call after {MAX_ATTEMPTS} "
        "attempts (botocore standard retries, ThrottlingException); wait a minute and retry, "
        "or set AWS_MAX_ATTEMPTS higher")


@pytest.mark.parametrize(("error", "line"), [
    (exceptions.UnauthorizedSSOTokenError(),
     "ecs DescribeServices on service web: the SSO session has expired or is missing; run "
     "`aws sso login` (with --profile if you use one) and retry"),
    (exceptions.NoCredentialsError(),
     "ecs DescribeServices on service web: no AWS credentials found; set AWS_PROFILE or pass "
     "--profile, or sign in (`aws sso login`)"),
    (exceptions.EndpointConnectionError(endpoint_url="https://ecs.eu-west-1.amazonaws.com/"),
     "ecs DescribeServices on service web: could not reach AWS (Could not connect to the "
     'endpoint URL: "https://ecs.eu-west-1.amazonaws.com/"); check the network'),
])
def test_credential_and_network_failures_before_any_answer(error, line):
    aws = Aws(session=SESSION, region="eu-west-1")

    def fail(**_):
        raise error
    aws.client("ecs").meta.events.register("before-sign.ecs.DescribeServices", fail)
    with pytest.raises(AwsCallFailed) as raised:
        aws.call("ecs", "DescribeServices", "service web", cluster=CLUSTER,
                 services=[SERVICE_NAME])
    assert str(raised.value) == line


def test_an_unknown_profile_is_bad_input_naming_it(monkeypatch, tmp_path):
    from shipyard.errors import ConfigError

    from shipyard_preview.operations.aws import open_aws

    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    with pytest.raises(ConfigError) as raised:
        open_aws(profile="nope", region="eu-west-1")
    assert str(raised.value) == ("--profile: 'nope' is not valid; a profile in ~/.aws/config or "
                                 "~/.aws/credentials (`aws configure list-profiles`)")
