"""The day-two commands as a user sees them: `shipyard status` and `shipyard logs --follow`
run in a real terminal (a tmux pane, 100 columns), ended with Ctrl-C where they follow, and the
screen compared line by line with the examples in docs/day-two.md, so the documentation shows
real output. AWS answers: tests/day_two_terminal/scenario.py (validated by botocore)."""

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from conftest import PROJECT
from day_two_stubs import write_outputs

SCENARIO = PROJECT / "tests" / "day_two_terminal" / "scenario.py"
DOCS = PROJECT / "docs" / "day-two.md"
COLUMNS, ROWS = 100, 50


def _tmux() -> str | None:
    found = shutil.which("tmux")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        # tmux is a Debian package: installed only here, for this test, when missing.
        subprocess.run(["apt-get", "install", "-y", "-q", "tmux"], capture_output=True,
                       timeout=300, check=False)
        found = shutil.which("tmux")
    return found


@pytest.fixture(scope="module")
def tmux():
    found = _tmux()
    if found is None:
        pytest.skip("tmux (the Debian package tmux) is not installed and could not be "
                    "installed: the terminal captures of status and logs --follow are not "
                    "checked")
    return found


class Pane:
    def __init__(self, tmux: str, command: list[str], folder) -> None:
        self.tmux, self.socket = tmux, f"shipyard-test-{uuid.uuid4().hex[:12]}"
        # The pane keeps its screen after the command ends (Ctrl-C also ends the shell).
        config = folder / "tmux.conf"
        config.write_text("set -g remain-on-exit on\n")
        self._run("-f", str(config), "new-session", "-d", "-s", "t", "-x", str(COLUMNS),
                  "-y", str(ROWS), " ".join(command))

    def _run(self, *args: str) -> str:
        return subprocess.run([self.tmux, "-L", self.socket, *args], capture_output=True,
                              text=True, check=True, timeout=30).stdout

    def screen(self) -> list[str]:
        lines = [line.rstrip() for line in self._run("capture-pane", "-p", "-t", "t")
                 .splitlines() if not line.startswith("Pane is dead")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def wait_for(self, text: str, seconds: float = 90.0) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if any(text in line for line in screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n" + "\n".join(screen))

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", "t", *keys)

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True,
                       check=False, timeout=30)


def documented(name: str) -> list[str]:
    """The example block after `<!-- capture: <name> -->` in docs/day-two.md, without its
    first line (the command as typed)."""
    text = DOCS.read_text()
    start = text.index(f"<!-- capture: {name} -->")
    opening = text.index("```text\n", start) + len("```text\n")
    block = text[opening:text.index("\n```", opening)]
    return block.splitlines()[1:]


def test_status_on_screen_is_the_documented_example(tmux, tmp_path):
    pane = Pane(tmux, [sys.executable, str(SCENARIO), "status", write_outputs(tmp_path)],
                tmp_path)
    try:
        screen = pane.wait_for("[exit ")
    finally:
        pane.close()
    assert screen == [*documented("status"), "[exit 1]"]
    assert max(len(line) for line in screen) <= COLUMNS


def test_logs_follow_prints_as_events_arrive_and_ends_on_ctrl_c(tmux, tmp_path):
    pane = Pane(tmux, [sys.executable, str(SCENARIO), "logs-follow", write_outputs(tmp_path)],
                tmp_path)
    try:
        pane.wait_for("POST /orders")
        pane.keys("C-c")
        screen = pane.wait_for("[exit ")
    finally:
        pane.close()
    # The terminal echoes Ctrl-C as ^C where the cursor is; the docs show that line as ^C.
    assert screen == [*documented("logs --follow")[:-1], "^C[exit 130]"]
    assert documented("logs --follow")[-1] == "^C"
