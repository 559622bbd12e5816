"""Benchmark: what DVC costs next to the compute, and how fast stages start.

    make bench        # or: PATH=.venv/bin:$PATH python bench/pipeline_overhead.py
    PATH=.venv/bin:$PATH python bench/pipeline_overhead.py --synthetic-rows 1000000

Prints one table (median of several runs). By default it runs in the workspace on
the default data: `dvc repro -f` rewrites every output, byte-identical to what is
committed. With --synthetic-rows it runs in a clean copy on synthetic data of that
size (histogram gradient boosting), where the compute, not start-up, dominates.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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


def timed(cmd: list[str], repeat: int, cwd: Path | None = None) -> float:
    """Median wall time of `cmd` in seconds; fails loudly if the command fails."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, env=ENV, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def synthetic_copy(rows: int, parent: Path) -> Path:
    """A clean copy composed for synthetic data, built once (untimed) to fill its cache."""
    sys.path.insert(0, "src")
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415
    from reprolab.workflow.verify import clean_copy  # noqa: PLC0415

    repo = clean_copy(Path.cwd(), parent)
    overrides = ["data=synthetic", f"data.source.rows={rows}", "model=hist_gradient_boosting"]
    compose_to(repo / "params.yaml", repo, overrides)
    subprocess.run(["dvc", "repro", "-q"], cwd=repo, env=ENV, check=True, capture_output=True)
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-rows", type=int, default=None)
    args = parser.parse_args()
    if not Path("dvc.yaml").exists():
        sys.exit("run from the repository root")
    with tempfile.TemporaryDirectory(dir="..") as tmp:
        repo, repeat = Path.cwd(), 3
        if args.synthetic_rows:
            repo, repeat = synthetic_copy(args.synthetic_rows, Path(tmp)), 1
        rows = [
            (
                f"dvc repro -f ({len(STAGES)} stages)",
                timed(["dvc", "repro", "-f", "-q"], repeat, repo),
            ),
            (
                "same stages, one Python process",
                timed([sys.executable, "-c", IN_PROCESS], repeat, repo),
            ),
            ("no-op dvc repro", timed(["dvc", "repro", "-q"], 5, repo)),
            ("dvc status", timed(["dvc", "status", "-q"], 5, repo)),
        ]
    rows += [
        (
            f"stages.{stage} --help",
            timed([sys.executable, "-m", f"reprolab.stages.{stage}", "--help"], 5),
        )
        for stage in STAGES
    ]
    data = f"synthetic {args.synthetic_rows:,} rows" if args.synthetic_rows else "default data"
    print(
        f"# {data}; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"| {'measurement':<34} | seconds |")
    print(f"|{'-' * 36}|---------|")
    for name, seconds in rows:
        print(f"| {name:<34} | {seconds:7.2f} |")
    print(f"\noverhead ratio dvc repro -f / in-process: {rows[0][1] / rows[1][1]:.2f}")


if __name__ == "__main__":
    main()
