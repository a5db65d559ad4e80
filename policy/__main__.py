"""Assembles the pack. Rules live in `guardrails/`, importable without starting a server."""

from guardrails import ALL_POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="shipyard-guardrails",
    description="Guardrails for container services on ECS Fargate.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
