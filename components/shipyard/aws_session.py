"""The AWS session of a dynamic resource (scan gate, rollout check), tied to the stack's AWS
provider. A dynamic provider runs in its own process with boto3, which knows nothing of the
provider's configuration. The component therefore passes what the provider resolved (its region
from `aws.getRegion`, its identity from `aws.getCallerIdentity`, both invoked through the
provider) and the dynamic resource refuses to act with credentials that resolve to anyone else.
No credential ever becomes an input."""

import re
from typing import Any

import pulumi
import pulumi_aws as aws

# arn:<partition>:sts::<account>:assumed-role/<role>/<session>: the session name may differ per
# run (and per process), the principal is the role.
_ASSUMED_ROLE_RE = re.compile(r"^(arn:[a-z-]+:sts::\d{12}:assumed-role/[^/]+)/.+$")


class ProviderIdentityError(Exception):
    """boto3's credentials are not those of the stack's AWS provider."""


def principal_of(arn: str) -> str:
    """The stable principal of a caller ARN: an assumed role without its session name."""
    match = _ASSUMED_ROLE_RE.match(arn)
    return match.group(1) if match else arn


def provider_identity(opts: pulumi.InvokeOptions) -> dict[str, pulumi.Output[str]]:
    """Inputs for a dynamic resource: the region and principal the stack's provider uses
    (invoked with the caller's parent, hence its provider)."""
    caller = aws.get_caller_identity_output(opts=opts)
    return {"region": aws.get_region_output(opts=opts).region,
            "account_id": caller.account_id,
            "principal": caller.arn.apply(principal_of)}


def check_identity(caller: dict, *, account_id: str, principal: str) -> None:
    """Raise unless an STS GetCallerIdentity answer is the provider's principal."""
    actual = principal_of(str(caller.get("Arn", "")))
    if caller.get("Account") != account_id or actual != principal:
        raise ProviderIdentityError(
            f"the AWS credentials of this process resolve to {actual or 'nobody'} in account "
            f"{caller.get('Account')}, but the stack's AWS provider is {principal} in account "
            f"{account_id}; run `pulumi up` with the provider's credentials in the environment "
            "(for example the stack's ESC environment), not another profile.")


def provider_session(props: dict) -> Any:
    """A boto3 session in the provider's region whose identity was checked against it."""
    import boto3  # type: ignore[import-untyped]  # only in the dynamic provider's process

    session = boto3.Session(region_name=props["region"])
    check_identity(session.client("sts").get_caller_identity(),
                   account_id=props["account_id"], principal=props["principal"])
    return session
