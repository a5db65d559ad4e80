"""The release's evidence, read from Pulumi Cloud rather than from GitHub (whose deployment
statuses any repository writer can create through the API): the latest successful update of the
staging stack at the released commit, and the image digests that update exported. Prints the
digests as JSON (`{service: {container: image@sha256:...}}`) for the prod deployment, which
refuses to deploy any other (artifact_images.require_released).

Pulumi Cloud REST API: GET /api/stacks/{org}/{project}/{stack}/updates (each update's `version`,
`info.result` and `info.environment`, where the CLI records `git.head`), and
GET .../export/{version} (the checkpoint of that version: the root stack's outputs). Standard
library only, like run_deployment.py.

Usage: promote.py <org> <project> <staging-stack> <commit>   (token in PULUMI_ACCESS_TOKEN)"""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from run_deployment import _COMMIT, _NAME, API, Call, http_call

PAGE_SIZE = 100
CONTEXT_FILE = Path(__file__).resolve().parent / "deployment-context.json"
Same = Callable[[str, str], bool]


def git_same_deployment(paths: list[str]) -> Same:
    """Whether `deployed` is `commit` or an ancestor of it that differs in none of `paths` (the
    paths that change what a stack deploys): a commit outside the merge workflow's path filter,
    or one whose run was superseded, is released with the update that already deployed its
    content."""
    def same(deployed: str, commit: str) -> bool:
        if deployed == commit:
            return True
        ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", deployed, commit],
                                  capture_output=True, check=False).returncode == 0
        return ancestor and subprocess.run(
            ["git", "diff", "--quiet", deployed, commit, "--", *paths],
            capture_output=True, check=False).returncode == 0
    return same


def staging_update_at(call: Call, base: str, commit: str, same: Same) -> int | None:
    """The version of the latest succeeded update that deployed `commit`'s content, or None."""
    listing = call("GET", f"{base}/updates?output-type=service&pageSize={PAGE_SIZE}&page=1",
                   None)
    for update in listing.get("updates") or []:
        info = update.get("info") or {}
        head = str((info.get("environment") or {}).get("git.head") or "")
        if info.get("result") == "succeeded" and _COMMIT.match(head) and same(head, commit):
            return int(update.get("version") or info.get("version"))
    return None


def released_digests(checkpoint: dict) -> dict[str, dict[str, str]]:
    """`services.<name>.image_digests` of the root stack's outputs."""
    resources = (checkpoint.get("deployment") or {}).get("resources") or []
    root = next((r for r in resources if r.get("type") == "pulumi:pulumi:Stack"), {})
    services = (root.get("outputs") or {}).get("services") or {}
    return {name: dict(service.get("image_digests") or {}) for name, service in services.items()
            if isinstance(service, dict)}


def run(call: Call, org: str, project: str, stack: str, commit: str, out: Any = sys.stdout,
        err: Any = sys.stderr, same: Same | None = None) -> int:
    for label, value, pattern in (("org", org, _NAME), ("project", project, _NAME),
                                  ("stack", stack, _NAME), ("commit", commit, _COMMIT)):
        if not pattern.match(value):
            print(f"refused: {label} {value!r} is not valid", file=err)
            return 2
    base = f"{API}/stacks/{org}/{project}/{stack}"
    if same is None:
        same = git_same_deployment(json.loads(CONTEXT_FILE.read_text())[stack]["paths"])
    version = staging_update_at(call, base, commit, same)
    if version is None:
        print(f"refused: {stack} has no succeeded update at {commit}; merge it to main and let "
              "the merge workflow deploy it first", file=err)
        return 1
    digests = released_digests(call("GET", f"{base}/export/{version}", None))
    if not any(digests.values()):
        print(f"refused: {stack} update {version} exported no image digests", file=err)
        return 1
    print(json.dumps(digests, sort_keys=True), file=out)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 4 or not os.environ.get("PULUMI_ACCESS_TOKEN"):
        print(__doc__, file=sys.stderr)
        return 2
    return run(http_call(os.environ["PULUMI_ACCESS_TOKEN"]), *argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
