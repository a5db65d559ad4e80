"""Replays a sequence of `pulumi up`s of the program against what the AWS provider would have
read back from ECS in between, and says exactly which UpdateService request each `up` makes.

The mock runtime answers whatever is asked, so on its own it cannot show a second deployment:
the program always sends the same inputs. Here the provider's side is played from its source
(terraform-provider-aws internal/service/ecs/service.go at the version pulumi-aws 7 wraps):
- the state the next `up` diffs against is what resourceServiceRead stored after the last one:
  ECS's own view, including which target group it now calls primary
  (flattenServiceLoadBalancers);
- the engine passes the resource's ignoreChanges to the bridge, which drops those attributes
  from the diff (pulumi-terraform-bridge pkg/tfbridge/provider.go, Update);
- resourceServiceUpdate sends a field only `if d.HasChange(<field>)`, and always `cluster`,
  `service` and `forceNewDeployment`; set-typed attributes (load_balancer,
  capacity_provider_strategy, network_configuration's subnets and security_groups) compare
  without order.
The request is checked against botocore's ECS model (UpdateService)."""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

import botocore.session
from botocore.validate import ParamValidator

from shipyard_preview.mocks import OfflineMocks

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
# Inputs resourceServiceUpdate never turns into UpdateService fields (tags go through
# TagResource; the rest are provider-side settings).
_NOT_SENT = frozenset({"tags", "waitForSteadyState", "forceNewDeployment", "triggers",
                       "cluster", "name"})


class HarnessGap(AssertionError):
    """A field changed that this replay does not map to UpdateService: extend it, or the change
    is one the scenario did not expect."""


class RevisionMocks(OfflineMocks):
    """Mocks whose task definitions get a new revision whenever their inputs change, as
    RegisterTaskDefinition does (a task definition is replaced, never updated)."""

    registered: ClassVar[dict[str, tuple[str, int]]] = {}

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.typ == TASK_DEFINITION:
            family = args.inputs["family"]
            fingerprint = json.dumps(args.inputs, sort_keys=True, default=str)
            last, revision = type(self).registered.get(family, ("", 0))
            if fingerprint != last:
                revision += 1
                type(self).registered[family] = (fingerprint, revision)
            state = {**state, "arn": state["arn"].rsplit(":", 1)[0] + f":{revision}",
                     "revision": revision}
        return resource_id, state


def _canonical(value: Any) -> Any:
    """Lists compare as sets: every list in the service's inputs is a TF set or order-free."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def changed_fields(state: dict, inputs: dict, ignore_changes: list[str]) -> list[str]:
    """The input properties whose value differs from the provider's state (the bridge's diff
    after ignoreChanges)."""
    return sorted(k for k in inputs if k not in ignore_changes and k not in _NOT_SENT
                  and k != "tags" and _canonical(inputs[k]) != _canonical(state.get(k)))


def _api_load_balancers(value: list[dict]) -> list[dict]:
    return [dict(lb) for lb in value]


_FIELDS = {
    "taskDefinition": ("taskDefinition", lambda v: v),
    "loadBalancers": ("loadBalancers", _api_load_balancers),
    "desiredCount": ("desiredCount", int),
    "platformVersion": ("platformVersion", lambda v: v),
    "healthCheckGracePeriodSeconds": ("healthCheckGracePeriodSeconds", int),
    "enableExecuteCommand": ("enableExecuteCommand", bool),
}


def update_service_request(state: dict, inputs: dict, ignore_changes: list[str]) -> dict | None:
    """The UpdateService request the provider makes for this `up`, or None when the diff is
    empty (no call at all)."""
    changed = changed_fields(state, inputs, ignore_changes)
    if not changed:
        return None
    request: dict[str, Any] = {"cluster": inputs["cluster"], "service": state["id"],
                               "forceNewDeployment": bool(inputs.get("forceNewDeployment"))}
    for key in changed:
        if key not in _FIELDS:
            raise HarnessGap(f"{key} changed: {state.get(key)!r} -> {inputs[key]!r}")
        name, convert = _FIELDS[key]
        request[name] = convert(inputs[key])
    model = botocore.session.get_session().get_service_model("ecs")
    report = ParamValidator().validate(request, model.operation_model("UpdateService").input_shape)
    assert not report.has_errors(), report.generate_report()
    return request


def created_state(inputs: dict, resource_id: str) -> dict:
    """What the provider stores after CreateService and the first deployment."""
    return {**copy.deepcopy(inputs), "id": resource_id}


def after_deployment(state: dict, inputs: dict, ignore_changes: list[str], *,
                     swapped: bool, runs: str | None = None) -> dict:
    """What resourceServiceRead stores once ECS finished the deployment the `up` started:
    the values sent, except what ECS owns: `swapped`, ECS calls the other target group primary
    now (a completed blue/green deployment); `runs`, the revision ECS reports (after a
    rollback, the previous one; None: the one sent)."""
    read = copy.deepcopy(state)
    for key, value in inputs.items():
        if key not in ignore_changes:
            read[key] = copy.deepcopy(value)
    if swapped:
        read["loadBalancers"] = [swap_groups(lb) for lb in read["loadBalancers"]]
    if runs is not None:
        read["taskDefinition"] = runs
    return read


def swap_groups(load_balancer: dict) -> dict:
    """ECS's view after a blue/green deployment: the group that took production is primary."""
    advanced = dict(load_balancer["advancedConfiguration"])
    primary = load_balancer["targetGroupArn"]
    advanced["alternateTargetGroupArn"], primary = primary, advanced["alternateTargetGroupArn"]
    return {**load_balancer, "targetGroupArn": primary, "advancedConfiguration": advanced}
