"""The delivery project (`delivery/`, stack `org`) run offline, for the access report and the
tests: the preview's mocks, plus answers for the data sources the delivery and artifacts programs
read from Pulumi Cloud and ECR (the published policy-pack versions; an artifacts repository the
delivery stack created)."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pulumi

from . import engine
from .engine import Recording, run_program
from .mocks import ACCOUNT_ID, OfflineMocks
from .stack_config import load_stack_config

NAMESPACE = "shipyard-delivery"
POLICY_PACK = "shipyard-guardrails"


def mocks_publishing(published: list[str]) -> type[OfflineMocks]:
    class DeliveryMocks(OfflineMocks):
        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
            if args.token == "pulumiservice:index:getPolicyPacks":
                return {"policyPacks": [{"name": POLICY_PACK, "displayName": "shipyard",
                                         "versionTags": list(published)}]}, []
            if args.token == "aws:ecr/getRepository:getRepository":
                name = args.args.get("name")
                url = f"{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{name}"
                return {"name": name, "registryId": ACCOUNT_ID, "repositoryUrl": url,
                        "arn": f"arn:aws:ecr:{self.region}:{ACCOUNT_ID}:repository/{name}",
                        "imageTagMutability": "IMMUTABLE"}, []
            return super().call(args)
    return DeliveryMocks


def run_with_delivery_mocks(project_dir: Path, config: Any, published: list[str]) -> Recording:
    """`run_program` with the mocks above (the engine builds its mocks from engine.OfflineMocks;
    swapped for this run only)."""
    original = engine.OfflineMocks
    engine.OfflineMocks = mocks_publishing(published)  # type: ignore[misc]
    try:
        return run_program(project_dir, config)
    finally:
        engine.OfflineMocks = original  # type: ignore[misc]


def run_delivery(delivery_dir: Path, published: list[str] | None = None,
                 **overrides: Any) -> Recording:
    """The `org` stack with some `shipyard-delivery:` keys replaced (None deletes). Unless told
    otherwise, Pulumi Cloud is answered as having published the version the stack pins (the
    access report is about who may do what, not about publishing)."""
    config = load_stack_config(delivery_dir, "org")
    values = dict(config.config)
    for key, value in overrides.items():
        full = f"{NAMESPACE}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value if isinstance(value, str) else json.dumps(value)
    pinned = values.get(f"{NAMESPACE}:policy_pack_version", "")
    return run_with_delivery_mocks(delivery_dir, dataclasses.replace(config, config=values),
                                   published if published is not None else [pinned])
