"""Running the delivery project offline: the preview's mocks plus answers for the Pulumi Cloud
data sources the delivery program reads (the published policy-pack versions)."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pulumi
import yaml
from conftest import PROJECT

from shipyard_preview import engine
from shipyard_preview.engine import Recording, run_program
from shipyard_preview.mocks import OfflineMocks
from shipyard_preview.stack_config import load_stack_config

DELIVERY = PROJECT / "delivery"
# The version policy/PulumiPolicy.yaml names, as the policy workflow publishes it.
PACK_VERSION = yaml.safe_load((PROJECT / "policy" / "PulumiPolicy.yaml").read_text())["version"]
PUBLISHED = ["0.1.0", PACK_VERSION]


class DeliveryMocks(OfflineMocks):
    published: list[str] = PUBLISHED

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        if args.token == "pulumiservice:index:getPolicyPacks":
            return {"policyPacks": [{"name": "shipyard-guardrails", "displayName": "shipyard",
                                     "versionTags": list(self.published)}]}, []
        return super().call(args)


def delivery_run(published: list[str] | None = None, *, project: Path = DELIVERY,
                 **overrides: Any) -> Recording:
    """The `org` stack of the delivery project, with some `shipyard-delivery:` keys replaced
    (None deletes) and the published pack versions Pulumi Cloud would report."""
    config = load_stack_config(project, "org")
    values = dict(config.config)
    for key, value in overrides.items():
        full = f"shipyard-delivery:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value if isinstance(value, str) else json.dumps(value)
    mocks = type("Mocks", (DeliveryMocks,), {"published": published or PUBLISHED})
    original = engine.OfflineMocks
    engine.OfflineMocks = mocks  # type: ignore[misc]
    try:
        return run_program(project, dataclasses.replace(config, config=values))
    finally:
        engine.OfflineMocks = original  # type: ignore[misc]
