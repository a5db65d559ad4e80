"""The pack's data files stay what their sources say: the consumer shapes equal the installed
botocore models, every allow-listed AWS-managed policy is re-judged by the running pack, and the
ELB protocol table is internally consistent with AWS's naming."""

import json
import sys

import pytest
from conftest import POLICY_DIR
from policy_helpers import messages

sys.path.insert(0, str(POLICY_DIR))
from guardrails import consumer

DATASETS = POLICY_DIR / "guardrails" / "datasets"
MANAGED = json.loads((DATASETS / "managed_policies.json").read_text())["policies"]


def test_consumer_shapes_match_botocore():
    assert json.loads(consumer.SHAPES_FILE.read_text()) == consumer.build_shapes(), (
        "regenerate policy/guardrails/datasets/consumer_shapes.json from consumer.build_shapes()")


@pytest.mark.parametrize("name", sorted(MANAGED))
def test_allow_listed_managed_policy_is_verified(pack, name):
    # How each entry was verified: its default version's document, copied with its version from
    # the AWS Managed Policy Reference page named in `source`, judged here by the same rule that
    # judges inline documents. A new version of the policy must be re-copied and re-judged.
    record = MANAGED[name]
    assert record["arn"] == f"arn:aws:iam::aws:policy/{name}"
    assert record["source"] == ("https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
                                f"{name.rsplit('/', 1)[-1]}.html")
    assert record["version"].startswith("v") and record["retrieved"]
    assert messages(pack, "iam-no-wildcard-ecr-resource", "aws:iam/policy:Policy",
                    {"policy": json.dumps(record["document"])}) == []


def test_tls_table_protocols_follow_the_policy_names():
    table = json.loads((DATASETS / "elb_security_policies.json").read_text())
    assert table["source"][0].startswith("https://docs.aws.amazon.com/elasticloadbalancing/")
    for name, protocols in table["policies"].items():
        if "-TLS13-1-3-" in name:
            assert protocols == ["TLSv1.3"], name
        elif "-TLS13-1-2-" in name:
            assert protocols == ["TLSv1.2", "TLSv1.3"], name
        assert ("TLSv1.3" in protocols) == ("TLS13" in name), name
