"""The scan gate's decision, against moto's ECR: a pending scan is waited for, a clean scan
passes, findings over the threshold fail with the worst ones listed, and no verdict in time
fails closed."""

import json

import boto3
import pytest
import requests
from conftest import one
from moto import mock_aws
from shipyard.scan_gate import ScanGateError, Thresholds, judge, wait_for_scan

REGION = "eu-west-1"
REPO = "web-web-repo"


class FakeClock:
    """Time that moves only when the gate sleeps, so timeouts are tested without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName=REPO,
                                 imageScanningConfiguration={"scanOnPush": True})
        yield client


def push(ecr, tag: str = "src-1") -> str:
    manifest = json.dumps({"schemaVersion": 2, "tag": tag,
                           "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {}, "layers": []})
    pushed = ecr.put_image(repositoryName=REPO, imageManifest=manifest, imageTag=tag)
    return pushed["image"]["imageId"]["imageDigest"]


def set_findings(ecr, digest: str, counts: dict, findings: list) -> None:
    """moto's documented hook for a custom scan result of one image."""
    response = {"registryId": "123456789012", "repositoryName": REPO,
                "imageId": {"imageDigest": digest},
                "imageScanStatus": {"status": "COMPLETE", "description": "done"},
                "imageScanFindings": {"findingSeverityCounts": counts, "findings": findings}}
    requests.post("http://motoapi.amazonaws.com/moto-api/static/ecr/scan-finding-results",
                  json={"results": [response], "region": REGION}, timeout=5)


def finding(cve: str, severity: str, package: str, version: str) -> dict:
    return {"name": cve, "severity": severity, "attributes": [
        {"key": "package_name", "value": package}, {"key": "package_version", "value": version}]}


PROD_LIKE = Thresholds(max_critical=0, max_high=2)


def gate(ecr, digest, clock, thresholds=PROD_LIKE, timeout=60, on_sleep=None):
    def sleep(seconds):
        clock.sleep(seconds)
        if on_sleep:
            on_sleep()
    return wait_for_scan(ecr, repository=REPO, digest=digest, thresholds=thresholds,
                         timeout_seconds=timeout, poll_seconds=10, sleep=sleep, clock=clock)


def test_pending_scan_is_waited_for_then_passes(ecr):
    digest = push(ecr)
    clock = FakeClock()
    set_findings(ecr, digest, {"MEDIUM": 3, "HIGH": 1}, [finding("CVE-1", "HIGH", "zlib", "1")])
    started = []

    def start_scan_after_first_wait():
        if not started:
            ecr.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digest})
            started.append(True)

    result = gate(ecr, digest, clock, on_sleep=start_scan_after_first_wait)
    assert result == {"status": "passed", "counts": {"MEDIUM": 3, "HIGH": 1}}
    assert clock.sleeps == [10]


def test_findings_over_threshold_fail_with_the_worst_listed(ecr):
    digest = push(ecr)
    ecr.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digest})
    set_findings(ecr, digest, {"CRITICAL": 1, "HIGH": 3, "LOW": 1}, [
        finding("CVE-LOW", "LOW", "bash", "5.1"),
        finding("CVE-2024-0001", "HIGH", "openssl", "3.0.1"),
        finding("CVE-2024-9999", "CRITICAL", "glibc", "2.36"),
    ])
    with pytest.raises(ScanGateError) as raised:
        gate(ecr, digest, FakeClock())
    assert str(raised.value) == (
        f"image {REPO}@{digest} has 1 CRITICAL and 3 HIGH findings; this stack allows at most 0 "
        "CRITICAL and 2 HIGH. Top findings: CRITICAL CVE-2024-9999 in glibc 2.36; HIGH "
        "CVE-2024-0001 in openssl 3.0.1; LOW CVE-LOW in bash 5.1. Fix the base image or "
        "dependencies and push again.")


def test_high_findings_within_threshold_pass(ecr):
    digest = push(ecr)
    ecr.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digest})
    set_findings(ecr, digest, {"HIGH": 2}, [])
    assert gate(ecr, digest, FakeClock())["status"] == "passed"


def test_no_verdict_in_time_fails_closed(ecr):
    digest = push(ecr)  # never scanned: ECR answers ScanNotFoundException
    clock = FakeClock()
    with pytest.raises(ScanGateError) as raised:
        gate(ecr, digest, clock, timeout=60)
    assert str(raised.value) == (
        f"the scan of {REPO}@{digest} gave no result within 60 s (last status PENDING); not "
        "deploying an unscanned image.")
    assert clock.now == 60 and clock.sleeps == [10] * 6


def test_failed_scan_fails(ecr):
    class FailedScan:
        exceptions = ecr.exceptions

        @staticmethod
        def describe_image_scan_findings(**_):
            return {"imageScanStatus": {"status": "UNSUPPORTED_IMAGE",
                                        "description": "The operating system is not supported."}}

    with pytest.raises(ScanGateError) as raised:
        gate(FailedScan, "sha256:" + "b" * 64, FakeClock())
    assert "ended with status UNSUPPORTED_IMAGE: The operating system is not supported." in \
        str(raised.value)


def test_enhanced_findings_are_described_too():
    response = {"imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 1}, "enhancedFindings": [
        {"severity": "CRITICAL", "packageVulnerabilityDetails": {
            "vulnerabilityId": "CVE-2025-1", "vulnerablePackages": [
                {"name": "libxml2", "version": "2.9.14"}]}}]}}
    with pytest.raises(ScanGateError) as raised:
        judge(response, Thresholds(0, 0), "repo@sha256:x")
    assert "Top findings: CRITICAL CVE-2025-1 in libxml2 2.9.14." in str(raised.value)


def test_gate_sits_between_the_image_and_the_task_definition(staging, prod):
    gate_resource = next(r for r in staging.resources if r.name == "web-web-scan-gate")
    image = next(r for r in staging.resources if r.type == "docker:index/image:Image")
    task = next(r for r in staging.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition")
    assert image.urn in gate_resource.property_dependencies["digest"]
    assert gate_resource.urn in task.dependencies
    props = one(staging, "pulumi-python:dynamic:Resource", "web-web-scan-gate")
    assert (props["max_critical"], props["max_high"], props["timeout_seconds"]) == (0, 10, 900)
    # The provider's region and identity (through the stack's provider), no credential.
    assert (props["region"], props["account_id"], props["principal"]) == (
        REGION, "111122223333", "arn:aws:iam::111122223333:root")
    assert not {"access_key", "secret_key", "token"} & set(props)
    assert props["digest"] == staging.outputs["web_image_digests"]["web"].split("@")[1]
    assert one(prod, "pulumi-python:dynamic:Resource", "web-web-scan-gate")["max_high"] == 2


# --- Enhanced scanning (Amazon Inspector), with responses validated against botocore's model ---

ENHANCED_FINDING = {
    "awsAccountId": "123456789012", "severity": "HIGH", "status": "ACTIVE",
    "title": "CVE-2025-0002 - openssl", "type": "PACKAGE_VULNERABILITY",
    "findingArn": "arn:aws:inspector2:eu-west-1:123456789012:finding/0f1e2d3c",
    "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-2025-0002", "source": "DEBIAN_CVE",
        "vulnerablePackages": [{"name": "openssl", "version": "3.0.11", "arch": "arm64"}]},
}
DIGEST = "sha256:" + "c" * 64


def enhanced_response(status: str, counts: dict, findings: list) -> dict:
    return {"registryId": "123456789012", "repositoryName": REPO,
            "imageId": {"imageDigest": DIGEST},
            "imageScanStatus": {"status": status, "description": "Continuous scan is selected "
                                                                  "for image."},
            "imageScanFindings": {"findingSeverityCounts": counts, "enhancedFindings": findings}}


def stubbed_ecr(*responses: dict):
    """A real boto3 ECR client whose answers botocore's Stubber checks against the ECR model
    (unknown keys, wrong types or enum values fail the test)."""
    from botocore.stub import Stubber
    client = boto3.client("ecr", region_name=REGION, aws_access_key_id="x",
                          aws_secret_access_key="x")
    stubber = Stubber(client)
    for response in responses:
        stubber.add_response("describe_image_scan_findings", response, {
            "registryId": "123456789012", "repositoryName": REPO,
            "imageId": {"imageDigest": DIGEST}})
    stubber.activate()
    return client, stubber


def enhanced_gate(client, thresholds=PROD_LIKE, clock=None):
    clock = clock or FakeClock()
    return wait_for_scan(client, repository=REPO, digest=DIGEST, thresholds=thresholds,
                         timeout_seconds=60, poll_seconds=10, sleep=clock.sleep, clock=clock,
                         registry_id="123456789012")


def test_enhanced_scan_active_within_thresholds_passes():
    client, stubber = stubbed_ecr(
        enhanced_response("PENDING", {}, []),
        enhanced_response("ACTIVE", {"HIGH": 2, "MEDIUM": 4}, [ENHANCED_FINDING]))
    clock = FakeClock()
    assert enhanced_gate(client, clock=clock) == {"status": "passed",
                                                  "counts": {"HIGH": 2, "MEDIUM": 4}}
    assert clock.sleeps == [10]
    stubber.assert_no_pending_responses()


def test_enhanced_scan_active_over_thresholds_fails_with_its_findings():
    critical = {**ENHANCED_FINDING, "severity": "CRITICAL", "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-2025-0001", "vulnerablePackages": [
            {"name": "glibc", "version": "2.36"}]}}
    client, _ = stubbed_ecr(enhanced_response("ACTIVE", {"CRITICAL": 1, "HIGH": 1},
                                              [ENHANCED_FINDING, critical]))
    with pytest.raises(ScanGateError) as raised:
        enhanced_gate(client)
    assert str(raised.value) == (
        f"image {REPO}@{DIGEST} has 1 CRITICAL and 1 HIGH findings; this stack allows at most 0 "
        "CRITICAL and 2 HIGH. Top findings: CRITICAL CVE-2025-0001 in glibc 2.36; HIGH "
        "CVE-2025-0002 in openssl 3.0.11. Fix the base image or dependencies and push again.")


@pytest.mark.parametrize("status", ["SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE",
                                    "LIMIT_EXCEEDED", "IMAGE_ARCHIVED", "IMAGE_SIZE_EXCEEDED",
                                    "FAILED", "UNSUPPORTED_IMAGE"])
def test_every_other_scan_status_refuses(status):
    client, _ = stubbed_ecr({"imageScanStatus": {"status": status, "description": "why"}})
    with pytest.raises(ScanGateError) as raised:
        enhanced_gate(client)
    assert str(raised.value) == (f"the scan of {REPO}@{DIGEST} ended with status {status}: why. "
                                 "An image that cannot be scanned is not deployed.")


def test_the_gate_knows_every_status_of_the_ecr_model():
    """A status AWS adds later is refused until someone decides what it means."""
    import botocore.session
    from shipyard import scan_gate
    statuses = set(botocore.session.get_session().get_service_model("ecr").shape_for(
        "ScanStatus").enum)
    assert set(scan_gate._JUDGED) | set(scan_gate._WAITING) <= statuses
    assert set(scan_gate._JUDGED) == {"COMPLETE", "ACTIVE"}


# --- The provider's region and identity, not boto3's defaults ---

def test_gate_session_uses_the_provider_region_and_identity(monkeypatch):
    from shipyard.aws_session import ProviderIdentityError, provider_session
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # boto3's default: not used
    with mock_aws():
        session = provider_session({"region": "eu-west-1", "account_id": "123456789012",
                                    "principal": "arn:aws:sts::123456789012:user/moto"})
        assert session.region_name == "eu-west-1"
        assert session.client("ecr").meta.region_name == "eu-west-1"
        with pytest.raises(ProviderIdentityError) as raised:
            provider_session({"region": "eu-west-1", "account_id": "111122223333",
                              "principal": "arn:aws:sts::111122223333:assumed-role/deploy"})
    assert str(raised.value) == (
        "the AWS credentials of this process resolve to arn:aws:sts::123456789012:user/moto in "
        "account 123456789012, but the stack's AWS provider is "
        "arn:aws:sts::111122223333:assumed-role/deploy in account 111122223333; run `pulumi up` "
        "with the provider's credentials in the environment (for example the stack's ESC "
        "environment), not another profile.")


@pytest.mark.parametrize(("arn", "principal"), [
    ("arn:aws:sts::111122223333:assumed-role/deploy-staging/pulumi-environments-session",
     "arn:aws:sts::111122223333:assumed-role/deploy-staging"),
    ("arn:aws:iam::111122223333:user/ci", "arn:aws:iam::111122223333:user/ci"),
    ("arn:aws-cn:sts::111122223333:assumed-role/r/s", "arn:aws-cn:sts::111122223333:assumed-role/r"),
])
def test_principal_drops_only_the_session_name(arn, principal):
    from shipyard.aws_session import principal_of
    assert principal_of(arn) == principal
