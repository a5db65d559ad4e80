"""The offline engine lets the SDK record where each resource was created without loading the
source text of every frame (engine._source_positions_without_source_text). What the SDK sends
with each registration (source position and stack trace) must be exactly what it sends without
that."""

import contextlib
from typing import Any

import pulumi.runtime.resource as sdk_resource
import pytest
from conftest import PROJECT, stack_config
from pulumi.runtime import mocks

from shipyard_preview import engine


def registrations(monkeypatch: pytest.MonkeyPatch, *, shortcut: bool) -> dict[str, Any]:
    sent: dict[str, Any] = {}
    register = mocks.MockMonitor.RegisterResource

    def recording(self: mocks.MockMonitor, request: Any) -> Any:
        sent[request.type + "::" + request.name] = (request.sourcePosition.SerializeToString(),
                                                    request.stackTrace.SerializeToString())
        return register(self, request)

    with monkeypatch.context() as patch:
        patch.setattr(mocks.MockMonitor, "RegisterResource", recording)
        if not shortcut:
            patch.setattr(engine, "_source_positions_without_source_text",
                          contextlib.nullcontext)
        engine.run_program(PROJECT, stack_config("prod"))
    return sent


def test_each_registration_carries_the_sdks_own_source_position_and_stack(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # From one line, so the test's own frame is the same in both stacks.
    with_shortcut, without = (registrations(monkeypatch, shortcut=s) for s in (True, False))
    assert with_shortcut == without
    # The positions are there (the component's or the program's line), not empty messages.
    positions = [position for position, _ in with_shortcut.values()]
    assert sum(b"file://" in position for position in positions) > len(positions) // 2
    assert any(b"/__main__.py" in position for position in positions)
    assert sdk_resource.traceback is engine.traceback  # put back after the run

