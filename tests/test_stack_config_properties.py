"""Property: no stack file, however malformed, gets a traceback out of `shipyard preview`. Either
the preview runs (exit 0) or it refuses with exit 2 and one line on stderr, as the CLI refuses
bad config. Hypothesis throws arbitrary text, damaged copies of the committed stack file and
committed stacks with values replaced by arbitrary data at any depth."""

import contextlib
import copy
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PROJECT, SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shipyard.errors import ConfigError

from shipyard_preview.cli import main
from shipyard_preview.stack_config import load_stack_config

COMMITTED = (SAMPLE / "Pulumi.staging.yaml").read_text()
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                    st.sampled_from(["maybe", "yes", "0", "-1", "eu-west-9", "ARM64", "web", "",
                                     "arn:aws:acm:us-east-1:1:certificate/x", "{config: x}"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    for name in ("Pulumi.yaml", "__main__.py", "stack_settings.py"):
        shutil.copy(PROJECT / name, root / name)
    shutil.copytree(PROJECT / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def preview(project: Path, text: str) -> tuple[int, str]:
    (project / "Pulumi.staging.yaml").write_text(text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--project-dir", str(project), "preview", "staging", "--no-policy"])
    return code, err.getvalue()


# A refusal names the config key (full path) and the value found there.
NAMES_KEY_AND_VALUE = re.compile(
    r"^error: (?:Pulumi\.[\w.-]+\.yaml(?:: [\w:]+)?|(?:shipyard|aws):[\w\[\].:-]*[\w\]])"
    r": .+ is not valid; ")


def assert_clean_outcome(code: int, err: str) -> None:
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert NAMES_KEY_AND_VALUE.match(err), err
    assert "Traceback" not in err


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_is_loaded_or_refused(project, text):
    (project / "Pulumi.staging.yaml").write_text(text)
    try:
        load_stack_config(project, "staging")
    except ConfigError as error:
        assert "\n" not in str(error)


@st.composite
def damaged_files(draw) -> str:
    """The committed file with a few lines deleted, duplicated, indented or cut."""
    lines = COMMITTED.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "cut", "insert"]))
        if edit == "delete":
            del lines[index]
        elif edit == "duplicate":
            lines.insert(index, lines[index])
        elif edit == "indent":
            lines[index] = "  " + lines[index]
        elif edit == "dedent":
            lines[index] = lines[index].lstrip()
        elif edit == "cut":
            lines[index] = lines[index][:draw(st.integers(0, max(0, len(lines[index]))))]
        else:
            lines.insert(index, draw(st.text(alphabet=" :-[]{}'\"#abc01\t", max_size=20)))
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(SETTINGS, max_examples=25)
@given(damaged_files())
def test_a_damaged_stack_file_previews_or_is_refused(project, text):
    assert_clean_outcome(*preview(project, text))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def mutated_configs(draw) -> str:
    """The committed config with one to three values anywhere replaced by arbitrary data."""
    document = yaml.safe_load(COMMITTED)
    config = document["config"]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(config)[1:]))
        parent = config
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = draw(values)
    return yaml.safe_dump(copy.deepcopy(document), sort_keys=False)


@settings(SETTINGS, max_examples=30)
@given(mutated_configs())
def test_arbitrary_values_anywhere_preview_or_are_refused(project, text):
    assert_clean_outcome(*preview(project, text))


def argument_names(typed_dict: Any) -> list[str]:
    return sorted(getattr(typed_dict, "__annotations__", {}))


@st.composite
def configs_with_any_argument(draw) -> str:
    """Any ContainerService or container argument, present or not in the committed file, set to
    arbitrary data on the service, the shared defaults or the container."""
    from shipyard.spec import ContainerArgs, ContainerServiceArgs
    document = yaml.safe_load(COMMITTED)
    config = document["config"]
    # Taken before anything is replaced: a first draw may replace the service's `containers`
    # (or the service) with arbitrary data, which a second could not index into.
    service = config["shipyard:services"][0]
    targets = {"service": service, "defaults": config["shipyard:service_defaults"],
               "container": service["containers"][0]}
    for _ in range(draw(st.integers(1, 2))):
        where = draw(st.sampled_from(["service", "defaults", "container"]))
        target = targets[where]
        key = draw(st.sampled_from(argument_names(
            ContainerArgs if where == "container" else ContainerServiceArgs)))
        target[key] = draw(values)
    return yaml.safe_dump(document, sort_keys=False)


@settings(SETTINGS, max_examples=30)
@given(configs_with_any_argument())
def test_any_argument_with_any_value_previews_or_is_refused(project, text):
    assert_clean_outcome(*preview(project, text))
