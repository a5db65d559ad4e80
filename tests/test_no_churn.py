"""GIVEN a copy of the repository with its own git history WHEN a commit touches no service source
and no config THEN no resource's inputs change (the engine would report zero changes); WHEN a
commit changes a service's source THEN only that service's image and what is built from it
change.

The engine diffs a resource by its inputs (the provider's Diff sees old and new inputs), so equal
inputs per URN under the offline engine mean no update, no replace. The commit must never reach
an input: README "Tags" says how that is guaranteed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PROJECT, built_from_source
from google.protobuf import json_format

from shipyard_preview.engine import Recording, run_program
from shipyard_preview.plan import clean
from shipyard_preview.stack_config import load_stack_config

# What may change when the service's source changes: the image (its tag is the source hash),
# the scan gate that judges that image, and the task definition that runs it by digest. (Under
# the real engine the service then takes the new task definition's ARN: that is the rollout.)
SOURCE_DEPENDENT = {"docker:index/image:Image", "pulumi-python:dynamic:Resource",
                    "aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The project's files as they are now (committed or not, ignored files left out), in a
    fresh repository: the same program and config, its own history."""
    root = tmp_path_factory.mktemp("churn") / "shipyard"
    files = git(PROJECT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for relative in filter(None, files.split("\0")):
        source = PROJECT / relative
        if source.is_file():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / relative)
    git(root, "init", "--quiet")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    return root


def resource_inputs(recording: Recording) -> dict[str, dict]:
    return {r.urn: clean(json_format.MessageToDict(r.properties)) for r in recording.resources}


def run(repo: Path, stack: str) -> dict[str, dict]:
    return resource_inputs(run_program(repo, load_stack_config(repo, stack)))


def changed(before: dict[str, dict], after: dict[str, dict]) -> dict[str, list[str]]:
    """URN -> the input keys that differ (a URN only on one side counts as changed)."""
    result = {}
    for urn in before.keys() | after.keys():
        old, new = before.get(urn), after.get(urn)
        if old is None or new is None:
            result[urn] = ["<added or removed>"]
        elif old != new:
            result[urn] = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return result


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_an_unrelated_commit_changes_no_resource(repo, stack):
    before = run(repo, stack)
    with open(repo / "README.md", "a") as readme:
        readme.write(f"\nA line that changes nothing deployed ({stack}).\n")
    git(repo, "commit", "--quiet", "--all", "-m", "docs only")
    after = run(repo, stack)
    assert len(before) > 30
    assert changed(before, after) == {}


def test_an_unrelated_commit_changes_nothing_in_the_delivery_project(repo):
    # The delivery program asks Pulumi Cloud which pack versions are published.
    from delivery_mocks import delivery_run

    before = resource_inputs(delivery_run(project=repo / "delivery"))
    with open(repo / "README.md", "a") as readme:
        readme.write("\nAnother line that changes nothing deployed.\n")
    git(repo, "commit", "--quiet", "--all", "-m", "docs only")
    after = resource_inputs(delivery_run(project=repo / "delivery"))
    assert len(before) > 10
    assert changed(before, after) == {}


def test_a_source_change_changes_only_the_image_and_what_runs_it(repo):
    # The first folder the committed prod stack builds from (the sample's app/, or an
    # adopting team's own).
    source = next(iter(built_from_source("prod", repo).values()))["source"]
    before = run(repo, "prod")
    with open(repo / source / "VERSION_NOTE.txt", "w") as note:
        note.write("a change the image build context sees\n")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "service source")
    after = run(repo, "prod")
    diff = changed(before, after)
    changed_types = {urn.split("::")[2].split("$")[-1] for urn in diff}
    assert {"docker:index/image:Image", "aws:ecs/taskDefinition:TaskDefinition"} <= changed_types
    assert changed_types <= SOURCE_DEPENDENT, diff
    task = next(keys for urn, keys in diff.items() if "taskDefinition:TaskDefinition" in urn)
    # The new digest, and the source identity recorded on the task definition.
    assert task == ["containerDefinitions", "tags"]
    image_tags = [json.dumps(v) for urn, v in after.items() if "image:Image" in urn]
    assert any("src-" in tag for tag in image_tags)


def test_the_recorded_source_identity_follows_the_folder_not_the_commit(repo, monkeypatch):
    from stack_settings import source_versions
    monkeypatch.chdir(repo)
    tree = git(repo, "rev-parse", "HEAD:app").strip()
    assert source_versions({"web": ["app"]}) == {"web": f"app@{tree}"}
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "an unrelated commit")
    assert source_versions({"web": ["app"]}) == {"web": f"app@{tree}"}
    (repo / "app" / "scratch.txt").write_text("not committed\n")
    try:
        assert source_versions({"web": ["app"]}) == {"web": f"app@{tree}+uncommitted-changes"}
    finally:
        (repo / "app" / "scratch.txt").unlink()
    assert source_versions({"web": []}) == {"web": "prebuilt-images"}
