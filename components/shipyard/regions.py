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
