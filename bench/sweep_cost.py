"""Benchmark: per-experiment cost of a 4-run sweep, by how it is run, vs the bare compute.

    make bench-sweep      # or: PATH=.venv/bin:$PATH python bench/sweep_cost.py

Each mode runs in its own fresh clone of HEAD (so DVC's run cache cannot serve one
mode from another's results). The grid is `forest_size` from conf/sweeps.yaml: it
changes only the model, so each experiment reruns train and evaluate.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = "forest_size"
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": "src"}


def sh(cwd: Path, *cmd: str) -> None:
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, capture_output=True)


def fresh_clone(parent: Path, name: str) -> Path:
    dest = parent / name
    sh(parent, "git", "clone", "-q", str(ROOT), str(dest))
    sh(dest, "git", "config", "user.name", "bench")
    sh(dest, "git", "config", "user.email", "bench@example.invalid")
    sh(dest, "dvc", "repro", "-q")  # the baseline, untimed
    return dest


def bare_compute(repo: Path, combos: list[list[str]]) -> float:
    """train + evaluate run directly for every combination: the floor."""
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415

    total = 0.0
    for combo in combos:
        compose_to(repo / "params.yaml", repo, combo)
        started = time.perf_counter()
        for stage in ("train", "evaluate"):
            sh(repo, sys.executable, "-m", f"reprolab.stages.{stage}")
        total += time.perf_counter() - started
    return total


def timed_sweep(repo: Path, *args: str) -> float:
    started = time.perf_counter()
    sh(repo, sys.executable, "-m", "reprolab.workflow.sweep", "--grid", GRID, *args)
    return time.perf_counter() - started


def ray_sweep(repo: Path, combos: list[list[str]], nodes: int = 0) -> tuple[float, list[dict]]:
    """The sweep on Ray, in-process: a local Ray (all cores) or, with `nodes`, Ray's
    simulated cluster (a head with no CPUs, `nodes` nodes of one CPU each)."""
    from reprolab.workflow.ray_sweep import run_on_ray  # noqa: PLC0415

    address, cluster = None, None
    if nodes:
        from ray.cluster_utils import Cluster  # noqa: PLC0415

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
        for _ in range(nodes):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        address = cluster.address
    cwd = Path.cwd()
    os.chdir(repo)
    try:
        started = time.perf_counter()
        results = run_on_ray(combos, GRID, address)
        return time.perf_counter() - started, results
    finally:
        os.chdir(cwd)
        if cluster is not None:
            cluster.shutdown()


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from reprolab.workflow.sweep import expand, load_grid  # noqa: PLC0415

    combos = expand(load_grid(GRID, ROOT / "conf/sweeps.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        parent = Path(tmp)
        rows = [
            ("bare train+evaluate", bare_compute(fresh_clone(parent, "bare"), combos)),
            (
                "workspace, one after another",
                timed_sweep(fresh_clone(parent, "ws"), "--mode", "workspace"),
            ),
            ("queue -j 1", timed_sweep(fresh_clone(parent, "q1"), "--mode", "queue", "-j", "1")),
            ("queue -j 2", timed_sweep(fresh_clone(parent, "q2"), "--mode", "queue", "-j", "2")),
        ]
        os.environ["RAY_AUTH_MODE"] = "disabled"  # local processes only
        steps = {}
        for name, nodes in (("ray local (all cores)", 0), ("ray, simulated 2 nodes x 1 CPU", 2)):
            total, results = ray_sweep(fresh_clone(parent, f"ray{nodes}"), combos, nodes)
            rows.append((name, total))
            steps[name] = results
    n = len(combos)
    bare = rows[0][1] / n
    print(f"# {n} experiments ({GRID}); {platform.machine()}, {os.cpu_count()} cores")
    print("| mode | total s | per experiment s | overhead per experiment s |")
    print("|---|---|---|---|")
    for name, total in rows:
        print(f"| {name} | {total:.1f} | {total / n:.2f} | {total / n - bare:+.2f} |")
    print("\nWhere a Ray run's time goes (mean seconds per run; the rest of its wall is")
    print("the driver: checks, push, bundle, Ray start-up, fetching refs):")
    print(
        "| cluster | clone + setup | dvc exp run (pull + pipeline) | dvc push | fetch ref | run wall |"
    )
    print("|---|---|---|---|---|---|")
    for name, results in steps.items():
        ok = [r for r in results if r.ok]
        mean = {
            k: sum(r.timings.get(k, 0) for r in ok) / max(len(ok), 1)
            for k in ("clone", "run", "push", "fetch")
        }
        wall = sum(r.duration for r in ok) / max(len(ok), 1)
        cells = " | ".join(f"{value:.2f}" for value in mean.values())
        print(f"| {name} | {cells} | {wall:.2f} |")


if __name__ == "__main__":
    main()
