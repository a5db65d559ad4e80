"""Shared fixtures. Program runs go through shipyard_preview.engine.run_program, the same code path as
`shipyard preview`; each run gets its own event loop and a fresh runtime. Recordings of the
committed stacks are shared read-only within the session because a run takes seconds."""

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from shipyard_preview.analyzer import PackSession, running_pack
from shipyard_preview.engine import RecordedResource, Recording, run_program
from shipyard_preview.plan import clean
from shipyard_preview.stack_config import StackConfig, load_stack_config

PROJECT = Path(__file__).resolve().parents[1]
POLICY_DIR = PROJECT / "policy"
SAMPLE = PROJECT / "tests" / "fixtures" / "sample"
"""The sample stacks as shipped (the `web` service from app/ on 8080), frozen as fixture
configs beside links to the real program, Pulumi.yaml, policy/ and app/, so it is a project the
preview command runs too. Tests that assert the sample's own names and sizes run these, so a
team that replaces the sample in Pulumi.staging.yaml / Pulumi.prod.yaml keeps a green suite.
Tests of the committed stack files (test_shipped_stacks.py) assert only what holds for any
valid config."""


def committed_stack_config(stack: str) -> StackConfig:
    """The stack as committed at the repository root, whatever services it declares."""
    return load_stack_config(PROJECT, stack)


def built_from_source(stack: str, project: Path = PROJECT) -> dict[tuple[str, str], dict]:
    """(service, container) -> {source, architecture} of every container the stack file builds
    from source, in config order, read from the file itself (not through the program or the
    delivery code the tests check), service_defaults merged as the program merges them."""
    config = json.loads(load_stack_config(project, stack).config.get(
        "shipyard:service_defaults", "{}"))
    services = json.loads(load_stack_config(project, stack).config["shipyard:services"])
    built = {}
    for service in services:
        merged = {**config, **service}
        for container in merged.get("containers") or []:
            if container.get("source") is not None:
                built[(merged["name"], container["name"])] = {
                    "source": str(container["source"]).strip("/"),
                    "architecture": merged.get("architecture", "X86_64")}
    return built


def stack_config(stack: str, **overrides: Any) -> StackConfig:
    """The sample stack's config with some fully-qualified keys replaced (None deletes)."""
    config = load_stack_config(SAMPLE, stack)
    values = dict(config.config)
    for key, value in overrides.items():
        key = key.replace("__", ":")
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value if isinstance(value, str) else json.dumps(value)
    return dataclasses.replace(config, config=values)


def run_stack(stack: str, project: Path = PROJECT, **overrides: Any) -> Recording:
    config = (stack_config(stack, **overrides) if project == PROJECT
              else load_stack_config(project, stack))
    return run_program(project, config)


def services_of(stack: str) -> list[dict]:
    """The sample stack's services, to vary."""
    return copy.deepcopy(json.loads(load_stack_config(SAMPLE, stack).config["shipyard:services"]))


def inputs(recording: Recording, type_token: str) -> dict[str, dict]:
    """Logical name -> inputs (camelCase, secrets masked) of every resource of a type."""
    return {r.name: clean(json_format.MessageToDict(r.properties))
            for r in recording.resources if r.type == type_token}


def one(recording: Recording, type_token: str, name: str | None = None) -> dict:
    found = inputs(recording, type_token)
    if name is None:
        assert len(found) == 1, f"expected one {type_token}, found {sorted(found)}"
        return next(iter(found.values()))
    assert name in found, f"no {type_token} named {name}; have {sorted(found)}"
    return found[name]


def resource(recording: Recording, type_token: str, name: str) -> RecordedResource:
    return next(r for r in recording.resources if r.type == type_token and r.name == name)


@pytest.fixture(scope="session")
def staging() -> Recording:
    """The sample staging stack (see SAMPLE)."""
    return run_stack("staging")


@pytest.fixture(scope="session")
def prod() -> Recording:
    """The sample prod stack (see SAMPLE)."""
    return run_stack("prod")


@pytest.fixture(scope="session", params=["staging", "prod"])
def committed(request: pytest.FixtureRequest) -> Recording:
    """Each stack as committed at the repository root."""
    return run_program(PROJECT, committed_stack_config(request.param))


@pytest.fixture(scope="session")
def pack_session() -> Iterator[PackSession]:
    with running_pack(POLICY_DIR) as stub:
        yield PackSession(stub, POLICY_DIR)


@pytest.fixture
def pack(pack_session: PackSession) -> PackSession:
    """The running pack with default levels: every test starts from the same configuration."""
    pack_session.configure({})
    return pack_session


STACK = "urn:pulumi:test::shipyard::"


def recorded(type_token: str, name: str, props: dict, *,
             deps: dict[str, list[RecordedResource]] | None = None) -> RecordedResource:
    """A resource as the engine would send it: properties as a protobuf Struct."""
    struct = struct_pb2.Struct()
    struct.update(props)
    return RecordedResource(
        urn=f"{STACK}{type_token}::{name}", type=type_token, name=name, custom=True, parent="",
        dependencies=[], property_dependencies={k: [r.urn for r in v]
                                                for k, v in (deps or {}).items()},
        protect=False, ignore_changes=[], delete_before_replace=None,
        additional_secret_outputs=[], provider="", properties=struct)
