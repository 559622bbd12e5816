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
    n = len(combos)
    bare = rows[0][1] / n
    print(f"# {n} experiments ({GRID}); {platform.machine()}, {os.cpu_count()} cores")
    print("| mode | total s | per experiment s | overhead per experiment s |")
    print("|---|---|---|---|")
    for name, total in rows:
        print(f"| {name} | {total:.1f} | {total / n:.2f} | {total / n - bare:+.2f} |")


if __name__ == "__main__":
    main()
