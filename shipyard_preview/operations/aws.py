"""AWS clients from the standard credential chain (environment, profiles, SSO), with botocore's
standard retry mode, and every failed call turned into one line that names the call, the
resource and what to do.

Retries: botocore's "standard" mode retries throttling errors (ThrottlingException,
TooManyRequestsException, RequestLimitExceeded, ...) and transient errors with exponential
backoff and jitter, up to `max_attempts` in all (botocore docs, "Retries"; the codes are in
`botocore/retries/standard.py`). An error that survives them is reported, never a traceback."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import ConfigError

MAX_ATTEMPTS = 8
"""Attempts in all (botocore's `total_max_attempts`: its `max_attempts` counts retries only),
unless AWS_MAX_ATTEMPTS says otherwise: a value set in code would override the environment."""

# Error codes AWS returns, by what the user should do about them (botocore's service models and
# the AWS "Common errors" reference of each service list them).
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired",
                      "TokenRefreshRequired"})
_INVALID = frozenset({"UnrecognizedClientException", "InvalidClientTokenId",
                      "InvalidSignatureException", "SignatureDoesNotMatch",
                      "IncompleteSignature", "MissingAuthenticationToken"})
_THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                        "RequestLimitExceeded", "ThrottledException", "SlowDown",
                        "RequestThrottledException", "RequestThrottled"})
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation",
                     "AuthorizationError"})
_NOT_FOUND = frozenset({"ClusterNotFoundException", "ServiceNotFoundException",
                        "ResourceNotFoundException", "TargetGroupNotFound",
                        "LoadBalancerNotFound", "ServiceNotActiveException",
                        "TargetNotConnectedException"})


class AwsCallFailed(Exception):
    """An AWS call failed; the message is the one line to show."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def explain_client_error(*, service: str, operation: str, resource: str, region: str,
                         code: str, message: str, attempts: int | None = None) -> str:
    """The line for a ClientError: `<service> <Operation> on <resource>: <what happened>;
    <what to do>`."""
    where = f"{service} {operation} on {resource}"
    aws_says = f" (AWS: {_one_line(message)})" if message else ""
    if code in _EXPIRED:
        return (f"{where}: the AWS credentials have expired{aws_says}; sign in again "
                "(`aws sso login`, or refresh the environment's credentials) and retry")
    if code in _INVALID:
        return (f"{where}: AWS does not accept these credentials ({code}); check AWS_PROFILE/"
                "--profile and the access key, or sign in again")
    if code in _THROTTLED:
        tried = f" after {attempts} attempts" if attempts else ""
        return (f"{where}: AWS throttled the call{tried} (botocore standard retries, "
                f"{code}); wait a minute and retry, or set AWS_MAX_ATTEMPTS higher")
    if code in _DENIED:
        return (f"{where}: access denied{aws_says}; the identity needs "
                f"{service}:{operation} on it: use a profile or role that has it")
    if code in _NOT_FOUND:
        return (f"{where}: not found in {region} ({code}); the stack outputs may be stale "
                "(`pulumi stack output`), or the credentials are for another account")
    return f"{where} failed: {code}{aws_says}"


def explain_botocore_error(error: Exception, *, service: str, operation: str,
                           resource: str) -> str:
    from botocore import exceptions as e  # type: ignore[import-untyped,unused-ignore]

    where = f"{service} {operation} on {resource}"
    if isinstance(error, (e.UnauthorizedSSOTokenError, e.SSOTokenLoadError,
                          e.TokenRetrievalError)):
        return (f"{where}: the SSO session has expired or is missing; run `aws sso login` "
                "(with --profile if you use one) and retry")
    if isinstance(error, e.NoCredentialsError):
        return (f"{where}: no AWS credentials found; set AWS_PROFILE or pass --profile, or "
                "sign in (`aws sso login`)")
    if isinstance(error, (e.EndpointConnectionError, e.ConnectTimeoutError,
                          e.ReadTimeoutError)):
        return f"{where}: could not reach AWS ({_one_line(str(error))}); check the network"
    return f"{where} failed: {type(error).__name__}: {_one_line(str(error))}"


@dataclass
class Aws:
    """Clients in one region from one session; `clients` is filled lazily (or by tests with
    botocore Stubber clients)."""

    session: Any
    region: str
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        if name not in self.clients:
            import os

            from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

            retries: dict[str, Any] = {"mode": "standard"}
            if not os.environ.get("AWS_MAX_ATTEMPTS"):
                retries["total_max_attempts"] = MAX_ATTEMPTS
            self.clients[name] = self.session.client(
                name, region_name=self.region, config=Config(retries=retries))
        return self.clients[name]

    def call(self, service: str, operation: str, resource: str, /, **params: Any) -> dict:
        """Call `operation` (the API name, e.g. "DescribeServices"); any failure becomes
        AwsCallFailed with its one line."""
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]

        client = self.client(service)
        method: Callable[..., dict] = getattr(client, _snake(operation))
        try:
            return method(**params)
        except ClientError as error:
            raise AwsCallFailed(self._explain(client, error, operation, resource)) from None
        except BotoCoreError as error:
            raise AwsCallFailed(explain_botocore_error(
                error, service=_iam_prefix(client), operation=operation,
                resource=resource)) from None

    def pages(self, service: str, operation: str, resource: str, /,
              **params: Any) -> Iterator[dict]:
        """Every page of a paginated operation (botocore's paginator, which follows its
        model's tokens), with the same error handling as `call`."""
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]

        client = self.client(service)
        try:
            yield from client.get_paginator(_snake(operation)).paginate(**params)
        except ClientError as error:
            raise AwsCallFailed(self._explain(client, error, operation, resource)) from None
        except BotoCoreError as error:
            raise AwsCallFailed(explain_botocore_error(
                error, service=_iam_prefix(client), operation=operation,
                resource=resource)) from None

    @contextmanager
    def explaining(self, service: str, operation: str, resource: str) -> Iterator[None]:
        """For code that calls a client itself (the component's one-off task): its failures
        become AwsCallFailed with the same one line."""
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]

        client = self.client(service)
        try:
            yield
        except ClientError as error:
            raise AwsCallFailed(self._explain(client, error, error.operation_name or operation,
                                              resource)) from None
        except BotoCoreError as error:
            raise AwsCallFailed(explain_botocore_error(
                error, service=_iam_prefix(client), operation=operation,
                resource=resource)) from None

    def _explain(self, client: Any, error: Any, operation: str, resource: str) -> str:
        details = error.response.get("Error", {})
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
        return explain_client_error(
            service=_iam_prefix(client), operation=operation, resource=resource,
            region=self.region, code=str(details.get("Code", "Unknown")),
            message=str(details.get("Message", "")),
            attempts=None if attempts is None else attempts + 1)


def _snake(operation: str) -> str:
    from botocore import xform_name  # type: ignore[import-untyped,unused-ignore]

    return str(xform_name(operation))


def _iam_prefix(client: Any) -> str:
    """The IAM service prefix (ELBv2 signs as `elasticloadbalancing`, as IAM names it)."""
    return str(client.meta.service_model.signing_name)


def open_aws(*, profile: str | None, region: str) -> Aws:
    """A session from the standard chain (`--profile`, else AWS_PROFILE, environment keys, SSO,
    instance roles), in the stack's region."""
    import boto3  # type: ignore[import-untyped,unused-ignore]
    from botocore.exceptions import ProfileNotFound  # type: ignore[import-untyped,unused-ignore]

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise ConfigError("--profile", profile, "a profile in ~/.aws/config or "
                          "~/.aws/credentials (`aws configure list-profiles`)") from None
    return Aws(session=session, region=region)
