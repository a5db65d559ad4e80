"""Times the offline preview as whole processes (median of several runs) and writes the figures
to benchmarks/results.md and results.json.

    .venv/bin/python benchmarks/run.py [--runs 5]

Measured: the bare import of the SDK classes the program uses (the floor any preview pays), the
preview of each committed stack, and generated stacks with 1 and 20 services (copies of the
staging service) to show how the preview scales.

Besides wall time, each figure records the CPU seconds the command used (its own and its
children's: the preview's pack process), and the report records the load average before and
after: on a shared machine the wall times move with the other users, the CPU times much less."""

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], runs: int, cwd: Path = ROOT) -> dict:
    seconds = []
    cpu = []
    for _ in range(runs):
        cpu_before = _children_cpu()
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - cpu_before)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return {"median_s": round(statistics.median(seconds), 3),
            "min_s": round(min(seconds), 3),
            "cpu_median_s": round(statistics.median(cpu), 3), "runs": runs}


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def generated_project(where: Path, services: int) -> Path:
    """A project with `services` copies of the staging service, sharing one VPC and cluster."""
    for name in ("Pulumi.yaml", "app", "__main__.py", "policy"):
        (where / name).symlink_to(ROOT / name)
    stack = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    template = stack["config"]["shipyard:services"][0]
    copies = []
    for index in range(services):
        service = copy.deepcopy(template)
        service["name"] = f"svc{index:02d}"
        copies.append(service)
    stack["config"]["shipyard:services"] = copies
    stack["config"]["shipyard:policy_config"] = "policy/config.staging.json"
    (where / f"Pulumi.bench{services}.yaml").write_text(yaml.safe_dump(stack))
    return where


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    shipyard = [PYTHON, "-m", "shipyard_preview.cli"]
    load_before = _load()
    bare_import = [PYTHON, str(ROOT / "benchmarks" / "bare_import.py")]
    figures: dict[str, dict] = {
        "bare_import": timed(bare_import, args.runs),
        # The preview skips the interpreter's teardown (cli.run); the stricter comparison
        # takes it out of the floor too.
        "bare_import_without_teardown": timed([*bare_import, "--without-teardown"], args.runs),
        "preview_staging": timed([*shipyard, "preview", "staging"], args.runs),
        "preview_prod": timed([*shipyard, "preview", "prod"], args.runs),
    }
    for services in (1, 20):
        with tempfile.TemporaryDirectory() as tmp:
            project = generated_project(Path(tmp), services)
            figures[f"preview_{services}_services"] = timed(
                [*shipyard, "--project-dir", str(project), "preview", f"bench{services}"],
                args.runs)
    bare = figures["bare_import"]["median_s"]
    ratios = {
        "prod_over_bare_import": round(figures["preview_prod"]["median_s"] / bare, 2),
        "prod_over_bare_import_without_teardown": round(
            figures["preview_prod"]["median_s"]
            / figures["bare_import_without_teardown"]["median_s"], 2),
        "20_services_over_1": round(figures["preview_20_services"]["median_s"]
                                    / figures["preview_1_services"]["median_s"], 2),
    }
    result: dict = {"machine": f"{platform.machine()}, {platform.python_version()}, "
                         f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
              "load_average": {"before": load_before, "after": _load()},
              "figures": figures, "ratios": ratios,
              "targets": {"prod_over_bare_import": 1.5,
                          "prod_over_bare_import_without_teardown": 1.5,
                          "20_services_over_1": 3.0}}
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Offline preview benchmark", "",
             (f"`{' '.join(['.venv/bin/python', 'benchmarks/run.py', '--runs', str(args.runs)])}` "
              f"on {result['machine']}; whole processes, median of {args.runs} runs. Load average "
              f"(1, 5, 15 min) before: {load_before}; after: {result['load_average']['after']}."),
             "", "| what | median (s) | min (s) | CPU median (s) |", "|---|---|---|---|"]
    lines += [f"| {name} | {f['median_s']} | {f['min_s']} | {f['cpu_median_s']} |"
              for name, f in figures.items()]
    lines += ["", "| ratio | measured | target |", "|---|---|---|"]
    lines += [f"| {name} | {value} | <= {result['targets'][name]} |"
              for name, value in ratios.items()]
    (ROOT / "benchmarks" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
