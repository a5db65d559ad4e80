"""What a stack file declares that its workload roles reach beyond the resources the program
creates under the project's prefixes: the statements each service grants its task role, the
smoke-test functions ECS invokes, the secrets named by ARN with the keys that encrypt them, and
the prebuilt images in ECR repositories. The workload boundary (boundary.py) includes exactly
these, so a grant the stack file declares is never cut by the boundary; `pulumi up -s org` after
changing one, before the merge that deploys it (as for a new repository or DNS record).

Read from the stack file as the program reads it (service_defaults merged into each service),
with the component's own rules for each value, and refused with the setting's name when a value
cannot be put into a policy."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.errors import ConfigError
from shipyard.iam import secret_arn_for_iam
from shipyard.image import ecr_repository_arn
from shipyard.topology import LAMBDA_ARN_RE

_STATEMENT = "an IAM statement with Effect Allow or Deny, Action and Resource (strings or lists)"


@dataclass(frozen=True)
class WorkloadGrants:
    task_statements: tuple[dict, ...] = ()
    """Every Allow statement of every service's `task_role_statements`, as declared."""
    smoke_test_functions: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    """Secrets named by ARN, as IAM matches them (shipyard.iam.secret_arn_for_iam)."""
    secret_keys: tuple[str, ...] = ()
    """The customer managed keys those secrets name (`kms_key_arn`)."""
    repositories: tuple[str, ...] = ()
    """ECR repositories of prebuilt images (`image:` in a private ECR registry)."""


def _strings(value: object) -> list[str] | None:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        return None
    return list(values)


def _statement(raw: object, setting: str) -> dict | None:
    """The statement if it is an Allow the boundary must include; None for a Deny."""
    if (not isinstance(raw, Mapping) or raw.get("Effect") not in ("Allow", "Deny")
            or _strings(raw.get("Action")) is None or _strings(raw.get("Resource")) is None
            or not set(raw) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
            or not isinstance(raw.get("Condition", {}), Mapping)):
        raise ConfigError(setting, raw, _STATEMENT)
    return dict(raw) if raw["Effect"] == "Allow" else None


def workload_grants(services: Sequence[Mapping[str, Any]], where: str) -> WorkloadGrants:
    """`services`: the stack file's services, service_defaults merged; `where`: the setting
    they come from (`Pulumi.prod.yaml: shipyard:services`)."""
    statements: list[dict] = []
    functions: list[str] = []
    secrets: list[str] = []
    keys: list[str] = []
    repositories: list[str] = []
    for index, service in enumerate(services):
        setting = f"{where}[{index}]"
        declared = service.get("task_role_statements") or []
        if not isinstance(declared, list):
            raise ConfigError(f"{setting}.task_role_statements", declared, "a list of IAM "
                              "statements")
        for number, raw in enumerate(declared):
            statement = _statement(raw, f"{setting}.task_role_statements[{number}]")
            statements += [statement] if statement is not None else []
        deployment = service.get("deployment") or {}
        function = deployment.get("smoke_test_lambda_arn") if isinstance(deployment,
                                                                         Mapping) else None
        if function is not None:
            if not isinstance(function, str) or not LAMBDA_ARN_RE.match(function):
                raise ConfigError(f"{setting}.deployment.smoke_test_lambda_arn", function,
                                  "arn:aws:lambda:<region>:<account>:function:<name>")
            functions.append(function)
        for container in service.get("containers") or []:
            image = container.get("image") if isinstance(container, Mapping) else None
            repository = ecr_repository_arn(image) if isinstance(image, str) else None
            repositories += [repository] if repository else []
            declared_secrets = container.get("secrets") if isinstance(container, Mapping) else None
            for name, secret in (declared_secrets or {}).items() if isinstance(
                    declared_secrets, Mapping) else ():
                if not isinstance(secret, Mapping) or not isinstance(secret.get("arn"), str):
                    continue  # a config secret: the program stores it under the prefixes
                if ":secret:" not in secret["arn"]:
                    raise ConfigError(f"{setting}.containers.secrets.{name}.arn", secret["arn"],
                                      "a Secrets Manager secret ARN")
                secrets.append(secret_arn_for_iam(secret["arn"]))
                if isinstance(secret.get("kms_key_arn"), str):
                    keys.append(secret["kms_key_arn"])
    return WorkloadGrants(
        task_statements=tuple(statements), smoke_test_functions=tuple(dict.fromkeys(functions)),
        secrets=tuple(dict.fromkeys(secrets)), secret_keys=tuple(dict.fromkeys(keys)),
        repositories=tuple(dict.fromkeys(repositories)))
