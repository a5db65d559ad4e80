"""Which AWS regions exist, from botocore's partitions data (botocore/data/partitions.json, the
same file the AWS SDKs resolve endpoints from), not from a hand-written list.

The file is read directly: importing botocore costs about a second, this costs under a
millisecond, and program start-up time matters (benchmarks/run.py)."""

import functools
import importlib.util
import json
from pathlib import Path

from .errors import ConfigError


@functools.cache
def _partitions() -> dict[str, str]:
    """Region -> partition id, for every region botocore knows (pseudo-regions excluded)."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed; it is a dependency of this project")
    data = json.loads((Path(spec.submodule_search_locations[0]) / "data" /
                       "partitions.json").read_text())
    return {region: partition["id"] for partition in data["partitions"]
            for region in partition["regions"] if not region.endswith("-global")}


def known_regions() -> list[str]:
    return sorted(_partitions())


def partition_of(region: object, setting: str = "aws:region") -> str:
    """The partition of a region botocore knows; a clear refusal for anything else."""
    if not isinstance(region, str) or region not in _partitions():
        raise ConfigError(setting, region,
                          "a region AWS publishes (botocore's partitions data), e.g. eu-west-1")
    return _partitions()[region]


def arn_region(arn: str) -> str:
    """The region field of an ARN (empty for global services)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


# How many Availability Zones an account can use per region. botocore's endpoint and partition
# data carry no zones, so this is the npm dataset `aws-regions` 2.3.1 (jsonmaur/aws-regions,
# regions.json: `zones`, lowered to `zone_limit` where an account sees fewer, as in us-west-1);
# every other region gets the floor AWS documents: "Each Region has at least three Availability
# Zones" (AWS Regions and Availability Zones, "AWS Availability Zones"). A region's real zones
# for an account come from DescribeAvailabilityZones, which only a real account answers.
ZONE_SOURCE = "npm aws-regions 2.3.1, else AWS's documented floor of three"
_DOCUMENTED_FLOOR = 3
_USABLE_ZONES = {
    "af-south-1": 3, "ap-east-1": 3, "ap-northeast-1": 3, "ap-northeast-2": 4,
    "ap-northeast-3": 3, "ap-south-1": 3, "ap-southeast-1": 3, "ap-southeast-2": 3,
    "ap-southeast-3": 3, "ca-central-1": 4, "cn-north-1": 3, "cn-northwest-1": 3,
    "eu-central-1": 3, "eu-north-1": 3, "eu-south-1": 3, "eu-west-1": 3, "eu-west-2": 3,
    "eu-west-3": 3, "me-south-1": 3, "sa-east-1": 2, "us-east-1": 6, "us-east-2": 3,
    "us-gov-east-1": 3, "us-gov-west-1": 3, "us-west-1": 2, "us-west-2": 4,
}


def usable_zone_count(region: str) -> int:
    return _USABLE_ZONES.get(region, _DOCUMENTED_FLOOR)
