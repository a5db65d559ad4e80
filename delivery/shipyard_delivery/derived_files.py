"""The committed files that follow the stack files or the lock file, and only them: the merge
workflow's path filter and its architecture matrix (`.github/workflows/main.yml`: GitHub reads
them before any code runs, so they cannot be computed at run time),
`delivery/deployment-context.json` (what run_deployment.py and promote.py, standard library
only, send and compare with) and the pack's pinned `policy/requirements.txt`
(pack_requirements.py).

`shipyard delivery-files` rewrites them from the stack files and `delivery/Pulumi.org.yaml`;
`shipyard delivery-files --check` (and the tests) lists what differs and what to change, so
nothing here is a list someone keeps in step by hand."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from shipyard.errors import ConfigError

from . import deployments
from .app_stacks import APP_DIR, AppStack, deploy_paths, read_app_stack
from .artifacts import RUNNERS, STACK_NAMES
from .pack_requirements import REQUIREMENTS, requirements_text
from .settings import NAMESPACE, DeliverySettings, parse_delivery_settings

WORKFLOW = Path(".github") / "workflows" / "main.yml"
CONTEXT_FILE = Path("delivery") / "deployment-context.json"
ORG_FILE = Path("delivery") / "Pulumi.org.yaml"
# Besides what the stacks deploy, a merge must run when what builds or starts the deployment
# changes: the artifacts program, the delivery package it imports, the deployment starter and
# its context, and this workflow.
DELIVERY_PATHS = ("artifacts/**", "delivery/shipyard_delivery/**", "delivery/run_deployment.py",
                  "delivery/deployment-context.json", ".github/workflows/main.yml")
COMMAND = "./dev delivery-files"


def read_delivery_settings(project_dir: Path = APP_DIR) -> DeliverySettings:
    """The delivery project's `org` stack settings, read from its stack file."""
    config = (yaml.safe_load((project_dir / ORG_FILE).read_text()) or {}).get("config") or {}
    return parse_delivery_settings({key.split(":", 1)[1]: value for key, value in config.items()
                                    if key.startswith(f"{NAMESPACE}:")})


def merge_paths(apps: list[AppStack]) -> list[str]:
    """The merge workflow's `on.push.paths`."""
    return list(dict.fromkeys([*deploy_paths(apps), *DELIVERY_PATHS]))


def architecture_matrix(apps: list[AppStack]) -> list[dict[str, str]]:
    """The artifacts job's matrix: one native runner per architecture the stacks run."""
    return [{"architecture": STACK_NAMES[a], "runner": RUNNERS[a]}
            for a in sorted({app.architecture for app in apps})]


def request_contexts(settings: DeliverySettings, apps: Mapping[str, AppStack]) -> dict:
    return {s.name: deployments.request_contexts(settings, s, apps[s.name])
            for s in settings.stacks}


def _list_block(lines: list[str], key: str, items: list[str]) -> list[str]:
    """`lines` with the YAML block list under the line `<indent>key:` replaced by `items`
    (lines of the list, each starting `- ` or continuing an item)."""
    at = next((i for i, line in enumerate(lines) if line.strip() == f"{key}:"), None)
    if at is None:
        raise ConfigError(str(WORKFLOW), f"{key}:", f"a workflow with its `{key}:` block list, "
                          "as committed (the command rewrites that list only)")
    indent = len(lines[at]) - len(lines[at].lstrip()) + 2
    end = at + 1
    while end < len(lines) and (lines[end].startswith(" " * indent + "- ")
                                or lines[end].startswith(" " * (indent + 2))):
        end += 1
    return [*lines[:at + 1], *(" " * indent + item for item in items), *lines[end:]]


def workflow_text(text: str, paths: list[str], matrix: list[dict[str, str]]) -> str:
    """main.yml with its push paths and architecture matrix replaced (everything else, comments
    included, as it was)."""
    lines = _list_block(text.splitlines(), "paths", [f"- {path}" for path in paths])
    entries = [f"{'- ' if index == 0 else '  '}{key}: {value}" for entry in matrix
               for index, (key, value) in enumerate(entry.items())]
    return "\n".join(_list_block(lines, "include", entries)) + "\n"


@dataclass(frozen=True)
class DerivedFile:
    path: Path
    text: str


def derived_files(project_dir: Path = APP_DIR) -> list[DerivedFile]:
    """What each derived file must contain for the stack files as they are now."""
    settings = read_delivery_settings(project_dir)
    apps = {s.name: read_app_stack(s.name, project_dir) for s in settings.stacks}
    workflow = (project_dir / WORKFLOW).read_text()
    return [
        DerivedFile(WORKFLOW, workflow_text(workflow, merge_paths(list(apps.values())),
                                            architecture_matrix(list(apps.values())))),
        DerivedFile(CONTEXT_FILE, json.dumps(request_contexts(settings, apps), indent=2,
                                             sort_keys=True) + "\n"),
        DerivedFile(REQUIREMENTS, requirements_text(project_dir)),
    ]


def differences(project_dir: Path = APP_DIR) -> list[str]:
    """One line per derived file that differs from what the stack files make it, saying what to
    change; empty when all are in step."""
    problems = []
    for derived in derived_files(project_dir):
        current = (project_dir / derived.path).read_text()
        if current == derived.text:
            continue
        if derived.path == WORKFLOW:
            have = yaml.safe_load(current)[True]["push"]["paths"]
            want = yaml.safe_load(derived.text)[True]["push"]["paths"]
            detail = (f"on.push.paths: add {[p for p in want if p not in have]}, remove "
                      f"{[p for p in have if p not in want]}" if have != want
                      else "the artifacts job's matrix.include follows the stacks' architectures")
        elif derived.path == REQUIREMENTS:
            detail = "the versions and hashes uv.lock holds for the pack's dependencies"
        else:
            detail = "the stacks' deployment contexts and deploy paths"
        source = "uv.lock" if derived.path == REQUIREMENTS else "the stack files"
        problems.append(f"{derived.path} is out of step with {source} ({detail}): run "
                        f"`{COMMAND}`, which rewrites it")
    return problems


def write(project_dir: Path = APP_DIR) -> list[Path]:
    """Rewrite every derived file that differs; the paths written."""
    written = []
    for derived in derived_files(project_dir):
        target = project_dir / derived.path
        if target.read_text() != derived.text:
            target.write_text(derived.text)
            written.append(derived.path)
    return written

