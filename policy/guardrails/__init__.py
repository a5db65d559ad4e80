"""All rules of the pack, grouped by AWS service. Importing this starts nothing."""

from . import data, ecr, ecs, iam, images, loadbalancing, network

ALL_POLICIES = [
    *images.POLICIES, *iam.POLICIES, *ecr.POLICIES, *ecs.POLICIES, *loadbalancing.POLICIES,
    *network.POLICIES, *data.POLICIES,
]
