"""The drift check in the shipped stacks: whatever services they hold, each ECS service waits
for its drift check, which looks in the service's cluster for its family and name with the
images its task definition runs (the check itself: test_day_two_drift_check.py)."""

import json

from conftest import inputs, resource

from shipyard_preview.plan import UNKNOWN


def test_every_service_of_the_shipped_stacks_waits_for_its_drift_check(committed):
    """Whatever the stack holds: each ECS service depends on a drift check that looks in its
    cluster, for its family and name, with the images its task definition runs."""



    services = inputs(committed, "aws:ecs/service:Service")
    checks = inputs(committed, "pulumi-python:dynamic:Resource")
    definitions = inputs(committed, "aws:ecs/taskDefinition:TaskDefinition")
    assert services
    for logical, service in services.items():
        name = logical.removesuffix("-service")
        check_props = checks[f"{name}-drift"]
        family = definitions[f"{name}-task"]["family"]
        images = {c["name"]: c["image"]
                  for c in json.loads(definitions[f"{name}-task"]["containerDefinitions"])}
        assert (check_props["cluster"], check_props["family"], check_props["service_prefix"],
                check_props["service"]) == (service["cluster"], family, f"{name}-service-", name)
        assert check_props["images"] == images and UNKNOWN not in images.values()
        drift_urn = resource(committed, "pulumi-python:dynamic:Resource", f"{name}-drift").urn
        assert drift_urn in resource(committed, "aws:ecs/service:Service", logical).dependencies
