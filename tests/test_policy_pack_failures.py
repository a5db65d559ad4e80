"""When a pack fails an Analyzer call anyway (a pack without the guards, a future SDK), the
driver (shipyard_preview/analyzer.py) reports one line naming what was being judged, and the
preview exits 2 without a traceback, as the CLI stops on a pack error."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE, recorded
from shipyard.errors import ConfigError

from shipyard_preview.analyzer import PackSession, running_pack

BROKEN_PACK = '''
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def validate(args, report):
    raise RuntimeError("this rule has a bug")

PolicyPack(name="broken", enforcement_level=EnforcementLevel.MANDATORY, policies=[
    ResourceValidationPolicy(name="raises", description="raises", validate=validate)])
'''


@pytest.fixture(scope="module")
def broken_pack(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("broken-pack")
    (directory / "__main__.py").write_text(BROKEN_PACK)
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    return directory


def test_a_failed_analyze_call_is_one_error_naming_the_resource(broken_pack):
    with running_pack(broken_pack) as stub:
        session = PackSession(stub, broken_pack)
        session.configure({})
        resource = recorded("aws:kms/key:Key", "key", {"enableKeyRotation": True})
        with pytest.raises(ConfigError) as raised:
            session.analyze_resource(resource, {})
    message = str(raised.value)
    assert message.startswith(f"policy pack: '{resource.urn}' is not valid; the pack failed to "
                              "judge it: ")
    assert "this rule has a bug" in message and "\n" not in message


def test_the_preview_exits_2_with_one_line(broken_pack):
    config = broken_pack / "levels.json"
    config.write_text("{}")
    result = subprocess.run([sys.executable, "-m", "shipyard_preview.cli", "preview", "staging",
                             "--policy-pack", str(broken_pack), "--policy-config", str(config)],
                            cwd=SAMPLE, capture_output=True, text=True, timeout=180)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: policy pack: 'urn:pulumi:staging::"), \
        result.stderr[-2000:]
    assert "Traceback" not in result.stderr
