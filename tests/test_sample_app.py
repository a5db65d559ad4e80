"""The sample service runs as a real process and answers its health endpoint; its Dockerfile
passes hadolint."""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT, SAMPLE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = subprocess.Popen([sys.executable, str(PROJECT / "app" / "server.py")],
                               env={"PORT": str(port), "PATH": "/usr/bin:/bin"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", process
    process.terminate()
    process.wait(timeout=5)


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_endpoint_answers(server):
    base, _ = server
    assert get(f"{base}/healthz") == (200, {"status": "ok"})


def test_unknown_path_is_404(server):
    base, _ = server
    assert get(f"{base}/nope")[0] == 404


def test_stops_cleanly_on_sigterm():
    port = free_port()
    process = subprocess.Popen([sys.executable, str(PROJECT / "app" / "server.py")],
                               env={"PORT": str(port)}, stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert json.loads(process.stdout.readline()) == {"listening": port}
    process.terminate()
    assert process.wait(timeout=5) == 0


def test_health_path_matches_the_sample_stacks():
    import yaml
    for stack in ("staging", "prod"):
        doc = yaml.safe_load((SAMPLE / f"Pulumi.{stack}.yaml").read_text())
        assert doc["config"]["shipyard:services"][0]["health_check_path"] == "/healthz"


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(PROJECT / "app" / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
