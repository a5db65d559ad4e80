"""Seam test "every example starts": GIVEN every committed stack and example (the root stacks,
the sample fixtures, examples/own-program) WHEN its program runs THEN each container of each
rendered task definition can start under the component's hardening (non-root user, read-only
root filesystem) as its image documents it:

- the user is one the image supports;
- the declared port is the port the image listens on (and a port another container proxies to,
  or health-checks, is one some container of the task listens on);
- every path the image writes is a task volume (scratch_paths) that the user may write: Fargate
  mounts a task volume owned by root with mode 0755 unless the image declares the same path as
  a VOLUME, whose ownership and mode it then copies (ECS developer guide, "Use bind mounts with
  Amazon ECS", considerations);
- every awslogs and FireLens destination is a log group of the same stack, in its region, and
  the FireLens router's role (the task role) may write to it (IAM simulator).

What an image needs comes from tests/image_needs.yaml (one entry per image, with its
documentation) and, for an image built from a folder, from its Dockerfile and the config it
copies in. An image that file does not describe fails this test: add it with its documentation
first (docs/adoption.md). The sample app is also run as a real process on each port the stacks
give it."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT, SAMPLE, committed_stack_config, inputs

from shipyard_preview.engine import Recording, run_program
from shipyard_preview.iam_simulator import Case, simulate
from shipyard_preview.stack_config import load_stack_config

TD = "aws:ecs/taskDefinition:TaskDefinition"
EXAMPLE = PROJECT / "examples" / "own-program"


@dataclass(frozen=True)
class ImageNeeds:
    """What an image needs to start, as its documentation says (tests/image_needs.yaml)."""
    doc: str
    user: str | None = None
    listens: dict | str | None = None
    default_port: int | None = None
    writes: tuple[str, ...] = ()
    world_writable: tuple[str, ...] = ()
    volumes: dict[str, str] = field(default_factory=dict)
    platform: str | None = None


def image_table() -> dict[str, ImageNeeds]:
    entries = yaml.safe_load((Path(__file__).parent / "image_needs.yaml").read_text())["images"]
    return {key: ImageNeeds(**{**entry, "writes": tuple(entry.get("writes", ())),
                               "world_writable": tuple(entry.get("world_writable", ()))})
            for key, entry in entries.items()}


IMAGES = image_table()


@dataclass
class Dockerfile:
    """The instructions of a folder's Dockerfile that decide how it starts."""
    base: str
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)
    """Path -> uid from `RUN chown <uid>[:<gid>] <path>`."""
    copies: dict[str, str] = field(default_factory=dict)
    """Destination -> source file (COPY)."""

    @classmethod
    def read(cls, folder: Path) -> "Dockerfile":
        parsed: Dockerfile | None = None
        text = re.sub(r"\\\n", " ", (folder / "Dockerfile").read_text())
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            instruction, rest = words[0].upper(), words[1:]
            if instruction == "FROM":
                parsed = cls(base=rest[0])
                continue
            assert parsed is not None, f"{folder}: an instruction before FROM"
            if instruction == "USER":
                parsed.user = rest[0]
            elif instruction == "ENV":
                for pair in rest:
                    if "=" in pair:
                        key, _, value = pair.partition("=")
                        parsed.env[key] = value
            elif instruction == "VOLUME":
                parsed.volumes += json.loads(" ".join(rest))
            elif instruction == "RUN":
                for owner, path in re.findall(r"chown\s+(?:-R\s+)?(\S+)\s+(/\S*)",
                                              " ".join(rest)):
                    parsed.owners[path] = owner.split(":")[0]
            elif instruction == "COPY":
                parsed.copies[rest[-1]] = rest[0]
        assert parsed is not None, f"{folder}: no FROM"
        return parsed


def nginx_conf(dockerfile: "Dockerfile") -> str | None:
    """The server block a Dockerfile copies into nginx's conf.d, if any."""
    return next((src for dst, src in dockerfile.copies.items()
                 if dst.startswith("/etc/nginx/conf.d/")), None)


def nginx_listen_port(conf: Path) -> int:
    ports = [int(p) for p in re.findall(r"^\s*listen\s+(\d+)\s*;", conf.read_text(), re.MULTILINE)]
    assert len(ports) == 1, f"{conf}: expected one listen directive, found {ports}"
    return ports[0]


def nginx_upstream_ports(conf: Path) -> list[int]:
    return [int(p) for p in re.findall(r"proxy_pass\s+http://(?:127\.0\.0\.1|localhost):(\d+)",
                                       conf.read_text())]


# --- the stacks and examples, each run once --------------------------------------------------

STACKS = [("root", "staging"), ("root", "prod"), ("root", "fullstack"), ("sample", "staging"),
          ("sample", "prod"), ("own-program", "dev")]
ROOTS = {"root": PROJECT, "sample": SAMPLE, "own-program": EXAMPLE}


class Recordings:
    """Each stack run once, when a test first asks for it; a root stack whose config equals
    the sample fixture's is the sample's recording (conftest's session run)."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._runs: dict[tuple[str, str], Recording] = {}

    def __getitem__(self, key: tuple[str, str]) -> Recording:
        if key not in self._runs:
            where, stack = key
            if where == "own-program":
                self._runs[key] = run_program(EXAMPLE, load_stack_config(EXAMPLE, stack))
            elif where == "sample" or (stack in ("staging", "prod") and committed_stack_config(
                    stack).config == load_stack_config(SAMPLE, stack).config):
                self._runs[key] = self._request.getfixturevalue(stack)
            else:
                self._runs[key] = run_program(PROJECT, committed_stack_config(stack))
        return self._runs[key]


@pytest.fixture(scope="module")
def recordings(request: pytest.FixtureRequest) -> Recordings:
    return Recordings(request)


def containers_of(recording: Recording, root: Path) -> list[tuple[str, dict, dict, dict]]:
    """(task, rendered definition, the container's config, the task definition) per container,
    the config read back from the stack file or example program (source folders)."""
    found = []
    sources = configured_sources(recording, root)
    for task_name, task in inputs(recording, TD).items():
        for definition in json.loads(task["containerDefinitions"]):
            found.append((task_name, definition,
                          {"source": sources.get((task_name, definition["name"]))}, task))
    return found


def configured_sources(recording: Recording, root: Path) -> dict[tuple[str, str], Path]:
    """(task definition name, container) -> the folder it is built from."""
    services = recording.stack.config.get("shipyard:services")
    if services is None:  # the own program builds ./site when no image is configured
        return {} if recording.stack.config.get("own-program:image") else {
            ("hello-task", "hello"): root / "site"}
    return {(f"{service['name']}-task", container["name"]): root / container["source"]
            for service in json.loads(services) for container in service["containers"]
            if container.get("source")}


def needs_of(definition: dict, source: Path | None,
             root: Path = PROJECT) -> tuple[ImageNeeds, Dockerfile | None]:
    if source is not None:
        key = source.resolve().relative_to(PROJECT.resolve()).as_posix()
        assert key in IMAGES, (f"{source}: the image built from {key} is not described in "
                               "tests/image_needs.yaml; add what it needs with its documentation")
        return IMAGES[key], Dockerfile.read(source)
    repository, _, digest = definition["image"].partition("@")
    key = f"{re.sub(r':[^/:]+$', '', repository)}@{digest}"
    assert key in IMAGES, (f"{definition['name']}: image {definition['image']} is not described "
                           "in tests/image_needs.yaml; add what it needs with its documentation")
    return IMAGES[key], None


def uid(user: str) -> str:
    return user.split(":")[0]


def listening_port(definition: dict, needs: ImageNeeds, dockerfile: Dockerfile | None,
                   source: Path | None) -> int | None:
    if needs.listens == "nginx-conf":
        assert dockerfile is not None and source is not None
        conf = nginx_conf(dockerfile)
        return nginx_listen_port(source / conf) if conf else needs.default_port
    if isinstance(needs.listens, dict) and "port" in needs.listens:
        return int(needs.listens["port"])
    if isinstance(needs.listens, dict) and "env" in needs.listens:
        variable = needs.listens["env"]
        environment = {e["name"]: e["value"] for e in definition.get("environment", [])}
        default = dockerfile.env.get(variable) if dockerfile else None
        port = environment.get(variable, default)
        return int(port) if port is not None else None
    return None


def every_container():
    return [pytest.param(where, stack, id=f"{where}-{stack}") for where, stack in STACKS]


@pytest.mark.parametrize(("where", "stack"), every_container())
def test_every_container_runs_as_a_user_its_image_supports(recordings, where, stack):
    for task, definition, config, _ in containers_of(recordings[(where, stack)], ROOTS[where]):
        needs, dockerfile = needs_of(definition, config["source"])
        user = definition["user"]
        where_ = f"{where}/{stack}/{task}/{definition['name']}"
        assert uid(user).isdigit() and int(uid(user)) != 0, where_
        if dockerfile is not None and dockerfile.user is not None:
            assert uid(dockerfile.user) == uid(user), (
                f"{where_}: the task runs as {user}, the image's files are for "
                f"{dockerfile.user}")
        if needs.user is not None:
            assert uid(user) == needs.user, f"{where_}: {needs.doc}"


@pytest.mark.parametrize(("where", "stack"), every_container())
def test_a_digest_of_one_platform_runs_on_that_platform(recordings, where, stack):
    for task, definition, config, task_definition in containers_of(
            recordings[(where, stack)], ROOTS[where]):
        needs, _ = needs_of(definition, config["source"])
        if needs.platform is not None:
            assert task_definition["runtimePlatform"]["cpuArchitecture"] == needs.platform, (
                f"{where}/{stack}/{task}/{definition['name']}: {definition['image']} is the "
                f"{needs.platform} image")


@pytest.mark.parametrize(("where", "stack"), every_container())
def test_the_declared_port_is_the_port_the_image_listens_on(recordings, where, stack):
    tasks: dict[str, dict[str, int | None]] = {}
    upstreams: dict[str, list[int]] = {}
    for task, definition, config, _ in containers_of(recordings[(where, stack)], ROOTS[where]):
        needs, dockerfile = needs_of(definition, config["source"])
        port = listening_port(definition, needs, dockerfile, config["source"])
        tasks.setdefault(task, {})[definition["name"]] = port
        declared = [m["containerPort"] for m in definition.get("portMappings", [])]
        where_ = f"{where}/{stack}/{task}/{definition['name']}"
        assert declared in ([], [port]), f"{where_}: declares {declared}, listens on {port}"
        if declared:
            assert port is not None, where_
        if needs.listens == "nginx-conf" and dockerfile is not None and nginx_conf(dockerfile):
            upstreams.setdefault(task, []).extend(
                nginx_upstream_ports(config["source"] / nginx_conf(dockerfile)))
        check = (definition.get("healthCheck") or {}).get("command", [])
        for checked in re.findall(r"localhost:(\d+)", " ".join(check)):
            assert int(checked) == port, f"{where_}: health check on {checked}, listens {port}"
    for task, ports in upstreams.items():
        for upstream in ports:
            assert upstream in tasks[task].values(), (
                f"{where}/{stack}/{task}: the proxy passes to {upstream}; the task's containers "
                f"listen on {tasks[task]}")


@pytest.mark.parametrize(("where", "stack"), every_container())
def test_every_path_the_image_writes_is_a_volume_its_user_may_write(recordings, where, stack):
    for task, definition, config, _ in containers_of(recordings[(where, stack)], ROOTS[where]):
        needs, dockerfile = needs_of(definition, config["source"])
        where_ = f"{where}/{stack}/{task}/{definition['name']}"
        assert definition["readonlyRootFilesystem"] is True, where_
        mounts = {m["containerPath"] for m in definition.get("mountPoints", [])
                  if m.get("readOnly") is False}
        for path in needs.writes:
            assert any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts), (
                f"{where_}: the image writes {path} ({needs.doc}); add it to scratch_paths")
        for mount in mounts:
            # Fargate copies a VOLUME's ownership; any other task volume is root's, mode 0755.
            volumes = dockerfile.volumes if dockerfile else list(needs.volumes)
            assert mount in volumes, (
                f"{where_}: {mount} is a task volume the image does not declare as a VOLUME, "
                "so Fargate mounts it owned by root (0755) and the user cannot write it")
            owner = dockerfile.owners.get(mount) if dockerfile else needs.volumes.get(mount)
            assert owner in (uid(definition["user"]), "any") \
                or mount in needs.world_writable, (
                f"{where_}: {mount} is owned by {owner or 'root'} in the image, the task "
                f"runs as {definition['user']}")


def log_groups(recording: Recording) -> set[str]:
    return {service["log_group_name"] for service in recording.outputs.get(
        "services", {}).values()} or {r.name for r in recording.resources
                                       if r.type == "aws:cloudwatch/logGroup:LogGroup"}


def region_of(recording: Recording) -> str:
    return recording.stack.config["aws:region"]


@pytest.mark.parametrize(("where", "stack"), every_container())
def test_every_log_destination_exists_in_the_same_stack(recordings, where, stack):
    recording = recordings[(where, stack)]
    groups = log_groups(recording) if recording.outputs.get("services") else None
    for task, definition, _, _ in containers_of(recording, ROOTS[where]):
        where_ = f"{where}/{stack}/{task}/{definition['name']}"
        config = definition["logConfiguration"]
        options = config["options"]
        if config["logDriver"] == "awslogs":
            group, region = options["awslogs-group"], options["awslogs-region"]
        else:
            assert config["logDriver"] == "awsfirelens", where_
            assert options["Name"] == "cloudwatch_logs", (
                f"{where_}: FireLens output {options['Name']} is a destination this test "
                "cannot see exists; route to the service's log group (cloudwatch_logs)")
            group, region = options["log_group_name"], options["region"]
            assert options["auto_create_group"] == "false", where_
        assert region == region_of(recording), where_
        if groups is not None:
            assert group in groups, f"{where_}: {group} is no log group of this stack"
        else:  # a program of one's own exports no services map: its one service's group
            assert re.fullmatch(r"hello-logs-[0-9a-f]{7}", group), where_


def test_every_firelens_destination_is_writable_by_the_router_and_nothing_else(recordings):
    """The router writes with the task role; the simulator evaluates the role's policy."""
    recording = recordings[("root", "fullstack")]
    policies = inputs(recording, "aws:iam/rolePolicy:RolePolicy")
    cases, expected = [], []
    for service, output in recording.outputs["services"].items():
        definitions = json.loads(inputs(recording, TD)[f"{service}-task"]["containerDefinitions"])
        if not any(d["logConfiguration"]["logDriver"] == "awsfirelens" for d in definitions):
            continue
        policy = json.loads(policies[f"{service}-task"]["policy"])
        group = f"arn:aws:logs:{region_of(recording)}:111122223333:log-group:" \
                f"{output['log_group_name']}"
        other = f"arn:aws:logs:{region_of(recording)}:111122223333:log-group:other"
        role = output["task_role_arn"]
        for action, resource, allowed in (
                ("logs:CreateLogStream", f"{group}:log-stream:app-x", True),
                ("logs:PutLogEvents", f"{group}:log-stream:nginx-x", True),
                ("logs:PutLogEvents", f"{other}:log-stream:x", False),
                ("logs:CreateLogGroup", group, False),
                ("logs:DeleteLogGroup", group, False)):
            cases.append(Case(action, resource, role, identity_policies=[policy]))
            expected.append((service, action, resource, allowed))
    assert cases, "the full-stack example routes no logs through FireLens"
    decided = [(s, a, r, result.allowed) for (s, a, r, _), result in
               zip(expected, simulate(cases), strict=True)]
    assert decided == expected


# --- the sample app, run as a real process on each port the stacks give it -----------------

def app_ports(recordings) -> set[int]:
    ports = set()
    for where, stack in STACKS:
        for _, definition, config, _ in containers_of(recordings[(where, stack)], ROOTS[where]):
            if config["source"] is not None and config["source"].resolve() == (
                    PROJECT / "app").resolve():
                needs, dockerfile = needs_of(definition, config["source"])
                ports.add(listening_port(definition, needs, dockerfile, config["source"]))
    return ports


def test_the_sample_app_answers_on_every_port_the_stacks_give_it_and_writes_nothing(
        recordings, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(PROJECT / "app", app, ignore=shutil.ignore_patterns("__pycache__"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dockerfile = Dockerfile.read(PROJECT / "app")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    ports = app_ports(recordings)
    assert ports == {8080, 8081}
    for port in sorted(ports):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip(f"port {port} is taken on this machine")
        process = subprocess.Popen(
            [sys.executable, str(app / "server.py")], cwd=app, stdout=subprocess.PIPE,
            env={**dockerfile.env, "PORT": str(port), "TMPDIR": str(scratch),
                 "HOME": str(scratch), "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=1) as response:
                        assert response.status == 200
                        break
                except OSError:
                    assert time.monotonic() < deadline, f"the app never answered on {port}"
                    time.sleep(0.05)
        finally:
            process.terminate()
            process.wait(timeout=5)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
