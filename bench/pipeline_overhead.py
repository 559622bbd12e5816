"""Benchmark: what DVC costs next to the compute, and how fast stages start.

Run from the repository root with the project's environment on PATH:

    make bench        # or: PATH=.venv/bin:$PATH python bench/pipeline_overhead.py

Prints one table (median of several runs). It runs in the workspace: `dvc repro -f`
rewrites every output, byte-identical to what is committed.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

STAGES = ["ingest", "validate", "split", "featurize", "train", "evaluate", "package", "monitor"]
ENV = {**os.environ, "PYTHONPATH": "src"}

IN_PROCESS = f"""
import importlib, logging
logging.basicConfig(level=logging.WARNING)
for stage in {STAGES!r}:
    module = importlib.import_module("reprolab.stages." + stage)
    getattr(module, stage)()
"""


def timed(cmd: list[str], repeat: int) -> float:
    """Median wall time of `cmd` in seconds; fails loudly if the command fails."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, env=ENV, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    if not Path("dvc.yaml").exists():
        sys.exit("run from the repository root")
    rows = [
        ("dvc repro -f (6 stages)", timed(["dvc", "repro", "-f", "-q"], 3)),
        ("same stages, one Python process", timed([sys.executable, "-c", IN_PROCESS], 3)),
        ("no-op dvc repro", timed(["dvc", "repro", "-q"], 5)),
        ("dvc status", timed(["dvc", "status", "-q"], 5)),
    ]
    rows += [
        (
            f"stages.{stage} --help",
            timed([sys.executable, "-m", f"reprolab.stages.{stage}", "--help"], 5),
        )
        for stage in STAGES
    ]
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"| {'measurement':<34} | seconds |")
    print(f"|{'-' * 36}|---------|")
    for name, seconds in rows:
        print(f"| {name:<34} | {seconds:7.2f} |")
    print(f"\noverhead ratio dvc repro -f / in-process: {rows[0][1] / rows[1][1]:.2f}")


if __name__ == "__main__":
    main()
