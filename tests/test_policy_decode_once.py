"""The pack decodes each resource once (policy/decode_once.py) instead of once per rule. That is
only a speed-up if every answer stays exactly the SDK's own: here the pack's servicer answers
every Analyze and the AnalyzeStack of the sample stacks (known values and preview unknowns) with
and without it, and the answers must be the same bytes."""

import sys
from collections.abc import Iterator

import pytest
from conftest import POLICY_DIR, stack_config
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from shipyard_preview.analyzer import (
    _options,
    _policy_infos,
    _provider,
    analyzer_resource,
    configure_request,
    resolve_policy_config,
)
from shipyard_preview.engine import Recording, run_program

sys.path.insert(0, str(POLICY_DIR))
import decode_once
from guardrails import ALL_POLICIES


@pytest.fixture(scope="module")
def staging_unknowns() -> Recording:
    """A first preview: values the engine cannot know yet are unknown, so rules are skipped."""
    from conftest import PROJECT
    return run_program(PROJECT, stack_config("staging"), preview_unknowns=True)


@pytest.fixture
def sdk_decoding() -> Iterator[None]:
    was_installed = decode_once.installed()
    decode_once.uninstall()
    yield
    if was_installed:
        decode_once.install()


def answers(recording: Recording, policy_config: dict) -> list[bytes]:
    servicer = _PolicyAnalyzerServicer("shipyard-guardrails", "0.0.1", ALL_POLICIES,
                                       EnforcementLevel.MANDATORY)
    levels, properties = resolve_policy_config(
        _policy_infos(servicer.GetAnalyzerInfo(None, None)), policy_config)
    servicer.Configure(configure_request(levels, properties), None)
    servicer.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
        stack=recording.stack.stack, project=recording.stack.project), None)
    by_urn = recording.by_urn()
    result = []
    # Twice: the second pass is answered from what the first decoded.
    for _ in range(2):
        for r in recording.resources:
            result.append(servicer.Analyze(analyzer_pb2.AnalyzeRequest(
                type=r.type, properties=r.properties, urn=r.urn, name=r.name,
                options=_options(r), provider=_provider(r, by_urn)), None)
                .SerializeToString(deterministic=True))
        result.append(servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(
            resources=[analyzer_resource(r, by_urn) for r in recording.resources]), None)
            .SerializeToString(deterministic=True))
    return result


@pytest.mark.parametrize("which", ["staging", "prod", "staging_unknowns"])
def test_every_answer_is_the_sdks_own(which: str, request: pytest.FixtureRequest,
                                      sdk_decoding: None) -> None:
    recording: Recording = request.getfixturevalue(which)
    # Every rule at its default level, and every rule advisory: both paths of the servicer.
    for policy_config in ({}, {"all": "advisory"}):
        sdk_answers = answers(recording, policy_config)
        assert decode_once.install()
        try:
            assert answers(recording, policy_config) == sdk_answers
        finally:
            decode_once.uninstall()
    assert any(b"can't run policy" in a for a in sdk_answers) == (which == "staging_unknowns")


def test_an_sdk_whose_analyze_was_not_read_keeps_its_own_decoding(
        monkeypatch: pytest.MonkeyPatch, sdk_decoding: None) -> None:
    monkeypatch.setattr(decode_once, "VERSION", "2.0.0")
    assert decode_once.install() is False
    assert not decode_once.installed()
