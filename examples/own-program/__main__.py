"""A program of one's own: one network and one service from the shipyard component, configured
from this project's own Pulumi.yaml keys. Previewed offline with

    shipyard preview dev --project-dir examples/own-program \\
        --policy-config examples/own-program/policy-config.dev.json

The service is built from ./site (nginx's unprivileged image, see its Dockerfile), or runs the
prebuilt `image` given in config."""

import pulumi
from shipyard import ContainerService, Network

config = pulumi.Config()
image = config.get("image")

network = Network("net", {"az_count": 2, "nat_gateways": "single"})
service = ContainerService("hello", {
    "containers": [{"name": "hello", **({"image": image} if image else {"source": "site"}),
                    "port": 8080, "user": "101:101", "scratch_paths": ["/tmp"]}],
    "desired_count": config.require_int("replicas"), "min_count": 2, "max_count": 4,
    "log_retention_days": 14,
    "vpc_id": network.vpc_id, "public_subnet_ids": network.public_subnet_ids,
    "private_subnet_ids": network.private_subnet_ids,
    "certificate_arn": config.require("certificate_arn"),
})
pulumi.export("url", service.url)
