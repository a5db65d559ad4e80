"""ECR repository names: the one place they are computed. The component names each repository it
creates, the artifacts stack names its own, and the delivery project's IAM names the exact ARNs
of both from the same functions, so no policy needs a wildcard in an ECR resource."""

import re

from .errors import ConfigError

# ECR's RepositoryName shape (botocore data/ecr/2015-09-21/service-2.json): 2 to 256 characters
# of lower-case letters and digits in '/'-separated parts, joined inside a part by '.', '_',
# '__' or runs of '-'. Checked by tests/test_repository_names.py against the installed model.
NAME_MIN_LENGTH, NAME_MAX_LENGTH = 2, 256
NAME_PATTERN = re.compile(
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
ALLOWED = ("lower-case letters and digits, each part starting and ending with one, joined by "
           "'.', '_', '__' or '-' (ECR repository names, 2 to 256 characters)")


def _part(setting: str, value: str) -> str:
    """One '/'-separated part of a repository name, refused with the setting it came from."""
    if not isinstance(value, str) or "/" in value or not NAME_PATTERN.fullmatch(value):
        raise ConfigError(setting, value, ALLOWED)
    return value


def checked_repository_name(name: str, setting: str) -> str:
    """`name` when ECR accepts it as a repository name; ConfigError naming `setting` otherwise."""
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(setting, name, ALLOWED)
    return name


def repository_name(project: str, stack: str, service: str, container: str, *,
                    setting: str | None = None) -> str:
    """The repository a ContainerService creates for a container built from source:
    `<project>/<stack>/<service>/<container>`. The stack is part of the name so two stacks in
    one account never share a repository (or the IAM that names it). `setting` is where the
    service is configured (default: its name), for the error."""
    where = setting or service
    name = "/".join((_part("the Pulumi project name", project),
                     _part("the Pulumi stack name", stack),
                     _part(f"{where}.name", service),
                     _part(f"{where}.containers.{container}.name", container)))
    return checked_repository_name(name, f"{where}.containers.{container}")


def artifact_repository_name(project: str, service: str, container: str, *,
                             setting: str | None = None) -> str:
    """The artifacts stack's repository of one service container: `<project>/<service>/
    <container>` (three parts, so it never equals a stack's four-part name)."""
    where = setting or service
    name = "/".join((_part("the Pulumi project name", project),
                     _part(f"{where}.name", service),
                     _part(f"{where}.containers.{container}.name", container)))
    return checked_repository_name(name, f"{where}.containers.{container}")


def repository_arn(*, partition: str = "aws", region: str, account: str, name: str) -> str:
    """IAM's ECR repository ARN (`arn:${Partition}:ecr:${Region}:${Account}:repository/
    ${RepositoryName}`, Service Authorization Reference for Amazon ECR)."""
    return f"arn:{partition}:ecr:{region}:{account}:repository/{name}"
