"""Ordering at the seam between IAM and the services that use our roles: ECS uses the execution,
task, load-balancer and smoke-test roles the moment CreateService or a deployment starts, and the
provider retries CreateService only for the legacy service-role message ("verify that the ECS
service role being passed has the proper permissions"; terraform-provider-aws
internal/service/ecs/service.go, retryServiceCreate), not for an infrastructure role whose
policy does not exist yet. A task definition or service names a role, not its policy, so
nothing orders them unless the program says so. Asserted on the dependency edges the engine
receives, for every service and every role it uses, in every stack of tests/role_stacks.py."""

import pytest
from conftest import inputs
from role_stacks import COMMITTED, EVERY_ROLE_KIND, recording
from workload_roles import owner, role_arn, workload_roles

from shipyard_preview.engine import Recording

STACKS = (*COMMITTED, EVERY_ROLE_KIND)
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy",
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def policy_urns(recording: Recording) -> dict[str, list[str]]:
    """Role ARN -> the URNs of every policy resource that attaches to it."""
    roles = {r.id: role_arn(r) for r in recording.resources if r.type == "aws:iam/role:Role"}
    found: dict[str, list[str]] = {arn: [] for arn in roles.values()}
    for resource in recording.resources:
        if resource.type in POLICY_TYPES:
            role = inputs(recording, resource.type)[resource.name]["role"]
            found[roles[role]].append(resource.urn)
    return found


def waits(recording: Recording, type_token: str, kinds: set[str]) -> list[tuple[str, str, str]]:
    """(resource, role, policy) for every policy of a role of one of `kinds`, serving the same
    component, that a resource of the type does not depend on."""
    policies = policy_urns(recording)
    roles = [r for r in workload_roles(recording) if r.kind in kinds]
    missing, checked = [], 0
    for resource in (r for r in recording.resources if r.type == type_token):
        for role in (r for r in roles if r.service == owner(recording, resource)):
            for urn in policies[role.arn]:  # a task role without grants has none
                checked += 1
                if urn not in resource.dependencies:
                    missing.append((resource.name, role.name, urn.rsplit("::", 1)[-1]))
    assert checked, f"no {type_token} uses a role of {sorted(kinds)}: the check proves nothing"
    return missing


@pytest.mark.parametrize("stack", STACKS)
def test_each_service_waits_for_the_policies_of_every_role_it_uses(stack):
    assert waits(recording(stack), "aws:ecs/service:Service",
                 {"execution", "task", "infrastructure", "smoke-test"}) == []


@pytest.mark.parametrize("stack", ["prod", EVERY_ROLE_KIND])
def test_the_flow_log_waits_for_its_role_policy(stack):
    assert waits(recording(stack), "aws:ec2/flowLog:FlowLog", {"flow-log"}) == []
