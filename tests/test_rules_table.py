"""policy/RULES.md is what the running pack says about itself; it cannot drift."""

import subprocess
import sys

from conftest import POLICY_DIR, PROJECT


def test_rules_table_is_generated_from_the_pack():
    result = subprocess.run([sys.executable, "-m", "shipyard_preview.cli", "rules"], cwd=PROJECT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (POLICY_DIR / "RULES.md").read_text() == result.stdout, (
        "policy/RULES.md is stale: run `./dev rules > policy/RULES.md`")


def test_every_control_id_from_the_brief_is_a_rule():
    # controls.md ids, with `ecs-no-host-pid / network` split into two rules.
    table = (POLICY_DIR / "RULES.md").read_text()
    for rule in ("image-no-latest", "iam-no-wildcard-ecr-resource", "ecr-tag-immutable",
                 "ecr-scan-on-push", "ecr-lifecycle-policy", "ecr-kms",
                 "ecr-repo-policy-not-public", "ecs-non-privileged", "ecs-readonly-rootfs",
                 "ecs-no-host-pid", "ecs-awsvpc-network", "ecs-non-root-user",
                 "ecs-log-configuration", "ecs-no-secrets-in-env", "ecs-task-role-separate",
                 "ecs-service-no-public-ip", "ecs-fargate-platform-latest",
                 "ecs-container-insights", "ecs-deployment-safety", "alb-access-logs",
                 "alb-deletion-protection", "alb-drop-invalid-headers", "alb-desync-mitigation",
                 "alb-multi-az", "http-redirects-to-https", "listener-https-tls13", "alb-waf",
                 "sg-public-ingress-80-443-only", "sg-service-from-alb-only", "sg-descriptions",
                 "iam-no-admin", "iam-no-service-wildcard-action", "iam-kms-decrypt-scoped",
                 "iam-trust-scoped", "secret-rotation", "secret-kms", "log-retention", "log-kms",
                 "kms-rotation", "s3-log-bucket-hardened", "iam-no-wildcard-resource",
                 "vpc-flow-logs", "http-listener-rules-redirect"):
        assert f"`{rule}`" in table, rule


def test_every_rule_row_says_why_and_which_controls():
    import sys
    sys.path.insert(0, str(POLICY_DIR))
    from guardrails import ALL_POLICIES
    rows = [line for line in (POLICY_DIR / "RULES.md").read_text().splitlines()
            if line.startswith("| <a id=")]
    assert len(rows) == len(ALL_POLICIES)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 8, row
        rule, why, controls = cells[0], cells[5], cells[6]
        assert why and why != "None", rule
        assert controls, rule
        # FSBP-backed rules link to their control's anchor on AWS's Security Hub pages.
        fsbp = [c for c in controls.split(", ") if c.split(".")[0].isalpha() and "." in c
                and not c.startswith(("CKV", "AwsSolutions"))]
        if fsbp:
            service, number = fsbp[0].split(".")
            assert (f"(https://docs.aws.amazon.com/securityhub/latest/userguide/"
                    f"{service.lower()}-controls.html#{service.lower()}-{number})") in rule, rule
        else:
            assert "(https://docs.aws.amazon.com/" in rule, rule


def test_every_rule_says_what_it_reads():
    import sys
    sys.path.insert(0, str(POLICY_DIR))
    from guardrails import ALL_POLICIES
    from guardrails.normalize import READINGS
    table = (POLICY_DIR / "RULES.md").read_text()
    for policy in ALL_POLICIES:
        reads = ", ".join(f"`{key}`" for key in policy.reads) or "as given"
        assert f"| [`{policy.name}`](#{policy.name}) | {reads} |" in table, policy.name
    for key, description in READINGS.items():
        if any(key in p.reads for p in ALL_POLICIES):
            assert f"| `{key}` | {description} |" in table, key


def test_out_of_scope_is_listed():
    table = (POLICY_DIR / "RULES.md").read_text()
    assert "## Deliberately out of scope" in table
    assert "any wildcard character" in table
