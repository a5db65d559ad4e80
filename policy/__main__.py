"""Assembles the pack. Rules live in `guardrails/`, importable without starting a server."""

import sys
from pathlib import Path

# The rules are a sibling package; make that true however the CLI launches the pack.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import decode_once
import sdk_guard
from guardrails import ALL_POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

sdk_guard.install()
decode_once.install()

PolicyPack(
    name="shipyard-guardrails",
    description="Guardrails for container services on ECS Fargate.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
