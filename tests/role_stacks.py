"""The stacks whose roles the seam tests evaluate, each with the workload boundary the delivery
code builds for it from its stack file: the committed stacks, and prod with one of every kind of
role and every way a stack file names what a role reaches beyond the program's own resources
(a smoke-test function, ECS Exec, a secret by ARN under its own key, a prebuilt image in another
ECR repository, declared task-role statements, one with a condition). Cached per process: the
effective-permission, ordering and evaluator cross-check tests read the same runs."""

import copy
import dataclasses
import json
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

import yaml
from conftest import PROJECT, committed_stack_config, inputs
from delivery_mocks import ORG_FILE, delivery_run
from shipyard_delivery.app_stacks import read_app_stack
from shipyard_delivery.boundary import boundary_arn, workload_boundary
from shipyard_delivery.settings import parse_delivery_settings

from shipyard_preview.engine import Recording, run_program
from shipyard_preview.mocks import ACCOUNT_ID
from shipyard_preview.stack_config import StackConfig

COMMITTED = ("staging", "prod", "fullstack")
EVERY_ROLE_KIND = "prod-every-role-kind"
ORG_CONFIG = yaml.safe_load(ORG_FILE.read_text())["config"]
ORG_STACKS = ORG_CONFIG["shipyard-delivery:stacks"]

SMOKE_TEST = f"arn:aws:lambda:eu-west-1:{ACCOUNT_ID}:function:web-smoke-test"
EXISTING_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:db-credentials-Ab12Cd"
EXISTING_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/5f0e8a2b-1111-4222-8333-944455556666"
PREBUILT = (f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tools/metrics-agent@sha256:"
            + "ab" * 32)
DECLARED = [
    {"Effect": "Allow", "Action": ["s3:GetObject"],
     "Resource": ["arn:aws:s3:::shipyard-assets/web/*"]},
    {"Effect": "Allow", "Action": "sqs:ReceiveMessage",
     "Resource": f"arn:aws:sqs:eu-west-1:{ACCOUNT_ID}:web-jobs",
     "Condition": {"StringEquals": {"aws:ResourceTag/team": "web"}}},
    {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::shipyard-assets/*"},
]


def _every_role_kind_config() -> StackConfig:
    config = committed_stack_config("prod")
    values = dict(config.config)
    defaults = json.loads(values["shipyard:service_defaults"])
    services = json.loads(values["shipyard:services"])
    web = copy.deepcopy(services[0])
    web["enable_execute_command"] = True
    web["deployment"] = {**defaults["deployment"], "smoke_test_lambda_arn": SMOKE_TEST}
    web["task_role_statements"] = DECLARED
    web["containers"][0]["secrets"] = {**web["containers"][0].get("secrets", {}), "DB_PASSWORD": {
        "arn": EXISTING_SECRET, "json_key": "password", "kms_key_arn": EXISTING_KEY}}
    web["containers"].append({"name": "metrics", "image": PREBUILT, "essential": False,
                              "scratch_paths": ["/tmp"]})
    # ECS Exec's agent writes there on a read-only root filesystem (the component refuses it
    # otherwise).
    for container in web["containers"]:
        container["scratch_paths"] = [*container.get("scratch_paths", []),
                                      "/var/lib/amazon/ssm", "/var/log/amazon/ssm"]
    values["shipyard:services"] = json.dumps([web, *services[1:]])
    return dataclasses.replace(config, config=values)


@cache
def recording(stack: str) -> Recording:
    if stack == EVERY_ROLE_KIND:
        return run_program(PROJECT, _every_role_kind_config())
    return run_program(PROJECT, committed_stack_config(stack))


def top_level_names(app: Recording) -> list[str]:
    """The logical names of the program's own top-level resources: every name Pulumi derives
    for what the program creates starts with one (what delivery's deploy roles and boundary are
    scoped to: shipyard_delivery.app_stacks, resource_prefixes)."""
    return sorted({r.name for r in app.resources
                   if r.parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]
                   and not r.type.startswith("pulumi:providers:")})


def _stack_file(config: StackConfig, directory: Path) -> None:
    """The stack file a config came from, as the delivery code reads it."""
    def value(text: str) -> object:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    (directory / f"Pulumi.{config.stack}.yaml").write_text(yaml.safe_dump(
        {"config": {k: value(v) for k, v in config.config.items()}}))


def _offline(document: dict, account: str) -> dict:
    """A boundary the delivery code builds for `account`, as the offline run of a stack sees it:
    every stack runs under the mock's account (shipyard_preview.mocks.ACCOUNT_ID), so the
    document's own account moves there; the other accounts it names (the delivery account's
    artifacts repositories) stay."""
    return json.loads(json.dumps(document).replace(f":{account}:", f":{ACCOUNT_ID}:"))


# A stack delivered on its own is a production stack, so it gets an account of its own.
OWN_ACCOUNT = {"push_to_deploy": False, "branch": "main", "production": True,
               "aws_account_id": "444455556666",
               "bootstrap_role_name": "OrganizationAccountAccessRole",
               "pulumi_stack_id": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"}


@cache
def boundaries(stack: str) -> dict[str, dict]:
    """Boundary ARN (as the stack file names it) -> document, as the delivery code builds them
    for this stack, in the mock's account: the delivery program of the org stack for the stacks
    it delivers, the program with a config delivering this stack alone for the other committed
    ones, and delivery's boundary function over the stack file for the variant (in prod's
    account)."""
    raw = {k.split(":", 1)[1]: v for k, v in ORG_CONFIG.items()
           if k.startswith("shipyard-delivery:")}
    settings = parse_delivery_settings(raw)
    if stack in ORG_STACKS or stack in COMMITTED:
        delivered = delivery_run() if stack in ORG_STACKS else delivery_run(
            stacks={stack: OWN_ACCOUNT})
        found = {}
        for name, policy in inputs(delivered, "aws:iam/policy:Policy").items():
            if name.startswith("workload-boundary"):
                account = name.removeprefix("workload-boundary-") if name != \
                    "workload-boundary" else settings.aws_account_id
                named = account if stack in ORG_STACKS else ACCOUNT_ID
                found[f"arn:aws:iam::{named}:policy/{policy['name']}"] = _offline(
                    json.loads(policy["policy"]), account)
        return found
    config = _every_role_kind_config()
    prod = next(s for s in settings.stacks if s.production)
    settings = dataclasses.replace(settings, stacks=(dataclasses.replace(prod,
                                                                         name=config.stack),))
    with TemporaryDirectory() as directory:
        _stack_file(config, Path(directory))
        app = read_app_stack(config.stack, app_dir=Path(directory))
    return {boundary_arn(settings, prod.aws_account_id): _offline(
        workload_boundary(settings, prod.aws_account_id, {config.stack: app}),
        prod.aws_account_id)}
