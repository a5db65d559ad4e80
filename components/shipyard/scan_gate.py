"""The scan gate: a resource in the Pulumi graph between the pushed image and the task
definition. Creating it waits for ECR's scan of that exact digest and fails the update when the
findings exceed the stack's thresholds, so `pulumi up` refuses a vulnerable image whoever runs
it (CI, Deployments or a laptop).

Statuses (ECR API reference, ImageScanStatus; botocore's ecr model, ScanStatus): basic scanning
ends in COMPLETE; Amazon Inspector enhanced scanning reports ACTIVE once the image was scanned and
is monitored continuously, with the same findingSeverityCounts and `enhancedFindings` (ECR user
guide, "Retrieving the findings for enhanced scans"). Both are judged; IN_PROGRESS and PENDING
are waited for; every other status (FAILED, UNSUPPORTED_IMAGE, SCAN_ELIGIBILITY_EXPIRED,
FINDINGS_UNAVAILABLE, LIMIT_EXCEEDED, ...) refuses the image.

The judging and polling are plain functions over a boto3 ECR client (tested against moto and
botocore's stubber); the dynamic provider only wires them to the engine, with a session in the
region and identity of the stack's AWS provider (aws_session.py)."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from .aws_session import provider_session

SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED")
FINDINGS_SHOWN = 5
_WAITING = ("IN_PROGRESS", "PENDING")
# COMPLETE: basic scanning. ACTIVE: enhanced (Inspector) scanning, scanned and monitored.
_JUDGED = ("COMPLETE", "ACTIVE")


class ScanGateError(Exception):
    """The image may not be deployed: findings over threshold, a failed scan, or no verdict."""


@dataclass(frozen=True)
class Thresholds:
    max_critical: int = 0
    max_high: int = 5


def _finding_summary(finding: dict) -> tuple[str, str]:
    """(severity, "ID in package version") for a basic or an enhanced finding."""
    if "packageVulnerabilityDetails" in finding:
        details = finding["packageVulnerabilityDetails"]
        packages = details.get("vulnerablePackages") or [{}]
        where = f"{packages[0].get('name', '?')} {packages[0].get('version', '')}".strip()
        return finding.get("severity", "UNDEFINED"), f"{details.get('vulnerabilityId', '?')} in {where}"
    attributes = {a.get("key"): a.get("value") for a in finding.get("attributes", [])}
    where = f"{attributes.get('package_name', '?')} {attributes.get('package_version', '')}".strip()
    return finding.get("severity", "UNDEFINED"), f"{finding.get('name', '?')} in {where}"


def judge(response: dict, thresholds: Thresholds, image: str) -> dict:
    """Pass (return the counts) or raise ScanGateError listing the worst findings."""
    findings = response.get("imageScanFindings") or {}
    counts = {k: int(v) for k, v in (findings.get("findingSeverityCounts") or {}).items()}
    critical, high = counts.get("CRITICAL", 0), counts.get("HIGH", 0)
    if critical <= thresholds.max_critical and high <= thresholds.max_high:
        return {"status": "passed", "counts": counts}
    listed = [_finding_summary(f) for f in
              (findings.get("enhancedFindings") or []) + (findings.get("findings") or [])]
    listed.sort(key=lambda s: SEVERITY_ORDER.index(s[0]) if s[0] in SEVERITY_ORDER else 99)
    top = "; ".join(f"{severity} {what}" for severity, what in listed[:FINDINGS_SHOWN])
    raise ScanGateError(
        f"image {image} has {critical} CRITICAL and {high} HIGH findings; this stack allows at "
        f"most {thresholds.max_critical} CRITICAL and {thresholds.max_high} HIGH. Top findings: "
        f"{top or 'none listed'}. Fix the base image or dependencies and push again.")


def wait_for_scan(ecr: Any, *, repository: str, digest: str, thresholds: Thresholds,
                  timeout_seconds: float, poll_seconds: float = 10.0,
                  registry_id: str | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> dict:
    """Poll ECR until the scan of `digest` completes, then judge it. A scan that has not started
    yet (ScanNotFoundException) or is in progress is waited for, up to `timeout_seconds`."""
    image = f"{repository}@{digest}"
    deadline = clock() + timeout_seconds
    request: dict = {"repositoryName": repository, "imageId": {"imageDigest": digest}}
    if registry_id:
        request["registryId"] = registry_id
    while True:
        try:
            response = ecr.describe_image_scan_findings(**request)
            status = (response.get("imageScanStatus") or {}).get("status", "PENDING")
        except ecr.exceptions.ScanNotFoundException:
            response, status = {}, "PENDING"
        if status in _JUDGED:
            return judge(response, thresholds, image)
        if status not in _WAITING:
            description = (response.get("imageScanStatus") or {}).get("description", "")
            raise ScanGateError(f"the scan of {image} ended with status {status}: {description}. "
                                "An image that cannot be scanned is not deployed.")
        if clock() >= deadline:
            raise ScanGateError(f"the scan of {image} gave no result within {timeout_seconds:g} s "
                                f"(last status {status}); not deploying an unscanned image.")
        sleep(poll_seconds)


class _ScanGateProvider(pulumi.dynamic.ResourceProvider):
    def _evaluate(self, props: dict) -> dict:
        ecr = provider_session(props).client("ecr")
        result = wait_for_scan(
            ecr, repository=props["repository"], digest=props["digest"],
            registry_id=props.get("account_id"),
            thresholds=Thresholds(int(props["max_critical"]), int(props["max_high"])),
            timeout_seconds=float(props["timeout_seconds"]))
        return {**props, "status": result["status"], "counts": result["counts"]}

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=f"{props['repository']}@{props['digest']}",
                                           outs=self._evaluate(props))

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        keys = ("repository", "digest", "region", "max_critical", "max_high")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(changes=bool(changed),
                                         replaces=[k for k in changed
                                                   if k in ("repository", "digest")])

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=self._evaluate(news))


class ScanGate(pulumi.dynamic.Resource):
    status: pulumi.Output[str]
    counts: pulumi.Output[dict]

    def __init__(self, name: str, *, repository: pulumi.Input[str],
                 image_digest: pulumi.Input[str], identity: dict[str, pulumi.Output[str]],
                 thresholds: Thresholds, timeout_seconds: int,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`identity`: region, account_id and principal of the stack's AWS provider
        (aws_session.provider_identity); the repository is read in that account."""
        digest = pulumi.Output.from_input(image_digest).apply(lambda ref: ref.split("@", 1)[-1])
        super().__init__(_ScanGateProvider(), name, {
            "repository": repository, "digest": digest, **identity,
            "max_critical": thresholds.max_critical, "max_high": thresholds.max_high,
            "timeout_seconds": timeout_seconds, "status": None, "counts": None,
        }, opts)
