"""The image tag is a function of the service's source: same source, same tag (no rebuild, no
new task definition); any change to what reaches the image, a new tag."""

import shutil
from pathlib import Path

import pytest
from conftest import PROJECT, one, run_stack, services_of
from shipyard.image import source_fingerprint, source_tag


@pytest.fixture
def source(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT / "app", tmp_path / "app")
    return tmp_path / "app"


def tag(path: Path, platform: str = "linux/amd64", **kwargs) -> str:
    return source_tag(source_fingerprint(path, platform=platform, **kwargs))


def test_same_source_same_tag_on_another_checkout(source):
    assert tag(source) == tag(PROJECT / "app")


def test_timestamps_and_litter_do_not_change_the_tag(source):
    before = tag(source)
    (source / "server.py").touch()
    (source / "__pycache__").mkdir(exist_ok=True)
    (source / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"\0")
    (source / ".pytest_cache").mkdir(exist_ok=True)
    assert tag(source) == before


@pytest.mark.parametrize("change", ["code", "dockerfile", "new file", "platform", "build arg",
                                    "executable bit"])
def test_anything_that_reaches_the_image_changes_the_tag(source, change):
    before = tag(source)
    after = before
    if change == "code":
        (source / "server.py").write_text((source / "server.py").read_text() + "\n# change\n")
    elif change == "dockerfile":
        (source / "Dockerfile").write_text((source / "Dockerfile").read_text() + "\n")
    elif change == "new file":
        (source / "static.txt").write_text("x")
    elif change == "executable bit":
        (source / "server.py").chmod(0o755)
    if change == "platform":
        after = tag(source, platform="linux/arm64")
    elif change == "build arg":
        after = tag(source, build_args={"VERSION": "2"})
    else:
        after = tag(source)
    assert after != before and after.startswith("src-") and len(after) == 24


def test_dockerignored_files_do_not_count(source):
    (source / ".dockerignore").write_text("notes/\n")
    before = tag(source)
    (source / "notes").mkdir()
    (source / "notes" / "todo.md").write_text("x")
    assert tag(source) == before


def test_unchanged_source_gives_an_identical_task_definition(staging):
    again = run_stack("staging")
    first = one(staging, "aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"]
    assert one(again, "aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"] == first
    assert one(again, "docker:index/image:Image")["imageName"] == one(
        staging, "docker:index/image:Image")["imageName"]


def test_changed_source_gives_a_new_image_and_task_definition(source, staging):
    (source / "server.py").write_text((source / "server.py").read_text() + "\n# v2\n")
    services = services_of("staging")
    services[0]["containers"][0]["source"] = str(source)
    changed = run_stack("staging", shipyard__services=services)
    old_image = one(staging, "docker:index/image:Image")["imageName"]
    new_image = one(changed, "docker:index/image:Image")["imageName"]
    assert new_image != old_image and new_image.split(":")[-1] == tag(source, "linux/arm64")
    assert one(changed, "aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"] != \
        one(staging, "aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"]


# --- .dockerignore read as Docker reads it: a file that reaches the image always counts ---

@pytest.mark.parametrize(("dockerignore", "path", "counts"), [
    ("*.md\n", "README.md", False),
    ("*.md\n", "docs/guide.md", True),          # '*' stops at '/': Docker sends docs/guide.md
    ("**/*.md\n", "docs/guide.md", False),
    ("docs\n", "docs/guide.md", False),          # a parent folder's match excludes the tree
    ("*\n!server.py\n", "server.py", True),      # re-included by '!': it reaches the image
    ("*\n!server.py\n", "notes.txt", False),
    ("/notes.txt\n", "notes.txt", False),        # leading '/' is the context root
    ("# notes.txt\n", "notes.txt", True),        # a comment excludes nothing
    ("note?.txt\n", "notes.txt", False),
    ("[a-m]otes.txt\n", "notes.txt", True),
    ("[!a-m]otes.txt\n", "notes.txt", False),
])
def test_dockerignore_semantics_decide_what_counts(source, dockerignore, path, counts):
    (source / ".dockerignore").write_text(dockerignore)
    before = tag(source)
    target = source / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((target.read_text() if target.exists() else "") + "\n# changed\n")
    assert (tag(source) != before) is counts


def test_litter_is_ignored_at_any_depth(source):
    before = tag(source)
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    (source / "pkg" / ".DS_Store").write_bytes(b"\0")
    assert tag(source) == before
