"""IAM policy evaluation by a maintained simulator, `@cloud-copilot/iam-simulate` (npm), run with
the machine's node from `iam-simulator/` (installed by `./dev` from its package-lock.json).

It models AWS's documented evaluation logic, including what our own evaluator does not: permissions
boundaries (an action the boundary does not allow is implicitly denied, whatever the identity
policy says), SCPs/RCPs, and wildcard matching as IAM does it (a trailing `*` spans ARN segments).
Every seam test that asks "may this role make this call?" asks it here, with the role's identity
policies and its boundary together.

One node process answers a whole batch of requests, so thousands of generated requests cost about
as much as one. A case the simulator cannot evaluate (an invalid policy, an unknown action) comes
back as `Decision.ERROR` with its message, never as a verdict: callers fail closed."""

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

SIMULATOR_DIR = Path(__file__).resolve().parent.parent / "iam-simulator"
"""The npm project holding the simulator (package.json, package-lock.json, simulate.mjs)."""
_SCRIPT = SIMULATOR_DIR / "simulate.mjs"
_PACKAGE = SIMULATOR_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"


class Decision(Enum):
    ALLOWED = "Allowed"
    IMPLICITLY_DENIED = "ImplicitlyDenied"
    EXPLICITLY_DENIED = "ExplicitlyDenied"
    ERROR = "Error"


class SimulatorUnavailable(RuntimeError):
    """node or the simulator package is missing: run `./dev test` (or `./dev` anything), which
    installs it with `npm ci`."""


@dataclass(frozen=True)
class Case:
    """One request, with every policy that applies to it."""
    action: str
    """`service:Action`, as AWS authorizes it."""
    resource: str
    """The ARN the call acts on (`*` for an action with no resource-level permissions)."""
    principal: str
    """The calling identity's ARN (a role ARN), or a service principal for resource policies."""
    identity_policies: Sequence[Mapping[str, Any]] = ()
    boundary_policies: Sequence[Mapping[str, Any]] = ()
    """Permissions boundaries: the identity's effective permissions are the intersection."""
    resource_policy: Mapping[str, Any] | None = None
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    """Condition keys of the request (`aws:SourceAccount`, `aws:ResourceTag/environment`, ...).
    The simulator takes strings or lists of strings, as IAM's request context holds them."""
    resource_account: str | None = None
    """The account owning the resource; default: the ARN's account, else the principal's."""

    def as_json(self) -> dict[str, Any]:
        account = self.resource_account or _account_of(self.resource) or _account_of(
            self.principal) or ""
        return {"action": self.action, "resource": self.resource, "principal": self.principal,
                "resourceAccount": account,
                "context": {k: (list(v) if not isinstance(v, str) else v)
                            for k, v in self.context.items()},
                "identityPolicies": list(self.identity_policies),
                "boundaryPolicies": list(self.boundary_policies),
                **({"resourcePolicy": self.resource_policy} if self.resource_policy else {})}


@dataclass(frozen=True)
class Result:
    decision: Decision
    errors: str | None = None

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() and len(parts[4]) == 12 else None


def available() -> bool:
    return shutil.which("node") is not None and _PACKAGE.is_file() and _SCRIPT.is_file()


def version() -> str:
    """The installed simulator's version, as its package.json states it."""
    return str(json.loads(_PACKAGE.read_text())["version"])


def simulate(cases: Sequence[Case], *, timeout_seconds: float = 300) -> list[Result]:
    """Evaluate every case in one node process; results in the order of the cases."""
    if not cases:
        return []
    node = shutil.which("node")
    if node is None or not _PACKAGE.is_file():
        raise SimulatorUnavailable(
            f"the IAM simulator is not installed (node: {node or 'not found'}; package: "
            f"{_PACKAGE}): run `./dev test`, or `npm ci --prefix {SIMULATOR_DIR}`")
    completed = subprocess.run(
        [node, str(_SCRIPT)], input=json.dumps([c.as_json() for c in cases]),
        capture_output=True, text=True, timeout=timeout_seconds, cwd=SIMULATOR_DIR,
        env={**os.environ, "NODE_NO_WARNINGS": "1"}, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"iam-simulate exited {completed.returncode}: "
                           f"{completed.stderr.strip()[-2000:]}")
    raw = json.loads(completed.stdout)
    if len(raw) != len(cases):
        raise RuntimeError(f"iam-simulate answered {len(raw)} of {len(cases)} cases")
    return [Result(Decision(r["decision"]), r.get("errors")) for r in raw]


def simulate_one(case: Case) -> Result:
    return simulate([case])[0]
