"""Running the delivery project offline (shipyard_preview.delivery_program), with the published
policy-pack versions Pulumi Cloud would report."""

from pathlib import Path
from typing import Any

import yaml
from conftest import PROJECT

from shipyard_preview.delivery_program import run_delivery, run_with_delivery_mocks
from shipyard_preview.engine import Recording

DELIVERY = PROJECT / "tests" / "fixtures" / "delivery"
"""The delivery project with the frozen example organization (acme-corp): product tests assert
its names, so an organization that fills in delivery/Pulumi.org.yaml keeps a green suite. The
program and its package are the real ones (links); the stacks it delivers are the committed
stack files unless a test names another folder (`app_dir`)."""
ORG_FILE = DELIVERY / "Pulumi.org.yaml"
# The version policy/PulumiPolicy.yaml names, as the policy workflow publishes it.
PACK_VERSION = yaml.safe_load((PROJECT / "policy" / "PulumiPolicy.yaml").read_text())["version"]
PUBLISHED = ["0.1.0", PACK_VERSION]


def delivery_run(published: list[str] | None = None, *, project: Path = DELIVERY,
                 **overrides: Any) -> Recording:
    """The `org` stack of the delivery project, with some `shipyard-delivery:` keys replaced
    (None deletes) and the published pack versions Pulumi Cloud would report."""
    return run_delivery(project, published or PUBLISHED, **overrides)


__all__ = ["DELIVERY", "ORG_FILE", "PACK_VERSION", "PUBLISHED", "delivery_run", "run_with_delivery_mocks"]
