"""Benchmark: the whole pipeline on synthetic data of growing size, stage by stage.

    make bench-scale                          # 100k, 1M and 10M rows
    PATH=.venv/bin:$PATH python bench/scale.py --rows 100000 1000000

For each size, a clean copy of the repository (no DVC cache) is composed with
data=synthetic (20 numeric + 5 categorical features), model=hist_gradient_boosting,
and given a production batch of a tenth of the rows for `monitor`. Then every stage
runs as `dvc repro --single-item <stage>`, one after another, so each figure is what
a user waits for: the stage itself plus DVC hashing and caching its outputs. Peak RSS
is the largest process of that run (the stage, or DVC). Prints one table per size and
how time and memory grow with rows (exponent 1.0: linear).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["ingest", "validate", "split", "featurize", "train", "evaluate", "package", "monitor"]
OVERRIDES = ["data=synthetic", "model=hist_gradient_boosting"]
# The project's dvc and python, wherever the benchmark is started from.
ENV = {
    **os.environ,
    "PYTHONPATH": "src",
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
}


def measured(cwd: Path, *cmd: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of the largest process, and stderr of `cmd`."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{text}")
    # Linux reports ru_maxrss in KiB: the peak of the largest waited-for descendant.
    return seconds, usage.ru_maxrss / 1024, text


def run_size(rows: int, parent: Path) -> list[tuple[str, float, float, float]]:
    sys.path.insert(0, str(ROOT / "src"))
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415
    from reprolab.workflow.verify import clean_copy  # noqa: PLC0415

    repo = clean_copy(ROOT, parent / f"rows-{rows}")
    compose_to(repo / "params.yaml", repo, [*OVERRIDES, f"data.source.rows={rows}"])
    batch = ["reprolab.monitor.batch", "--output", "data/production/batch.parquet"]
    measured(repo, sys.executable, "-m", *batch, "--rows", str(max(rows // 10, 1000)))
    results = []
    for stage in STAGES:
        seconds, rss, log = measured(repo, "dvc", "repro", "--single-item", stage)
        # The stage's own time, from its last log line: "<stage>: <summary> (12.3 s)".
        own = re.findall(rf"^{stage}: .*\(([\d.]+) s\)$", log, flags=re.MULTILINE)
        results.append((stage, seconds, float(own[-1]) if own else math.nan, rss))
        print(f"  {rows:>10,} {stage:<10} {seconds:7.1f} s  {rss:7.0f} MiB", file=sys.stderr)
    return results


def sizes_in_scratch(description: str, default: list[int]) -> Iterator[tuple[int, Path]]:
    """The benchmarks' command line (`--rows N ...`): each size with a scratch directory
    beside the repository, after a line naming the machine."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, nargs="+", default=default)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(dir=ROOT.parent) as tmp:
        for rows in args.rows:
            yield rows, Path(tmp)


def exponent(small: tuple[int, float], large: tuple[int, float]) -> float:
    """k in cost ~ rows^k between two sizes."""
    return math.log(large[1] / small[1]) / math.log(large[0] / small[0])


def main() -> None:
    totals = []
    sizes = sizes_in_scratch(__doc__.splitlines()[0], [100_000, 1_000_000, 10_000_000])
    for rows, tmp in sizes:
        results = run_size(rows, tmp)
        wall = sum(r[1] for r in results)
        peak = max(r[3] for r in results)
        totals.append((rows, wall, peak))
        seconds = {stage: wall_s for stage, wall_s, _, _ in results}
        print(f"\n## {rows:,} rows: {wall:.1f} s, peak RSS {peak:.0f} MiB")
        # Issue 18's targets: whole pipeline <= 1.3x train; validate <= 10% of train.
        largest = max(results, key=lambda r: r[3])[0]
        print(
            f"pipeline / train {wall / seconds['train']:.2f}; "
            f"validate / train {seconds['validate'] / seconds['train']:.2f}; "
            f"largest stage: {largest}"
        )
        print("| stage | wall s (dvc repro -s) | stage body s | peak RSS MiB |")
        print("|---|---:|---:|---:|")
        for stage, seconds, own, rss in results:
            print(f"| {stage} | {seconds:.1f} | {own:.1f} | {rss:.0f} |")
    if len(totals) > 1:
        print("\n## Growth with rows (cost ~ rows^k)")
        print("| from | to | time x | k time | peak RSS x | k memory |")
        print("|---|---|---:|---:|---:|---:|")
        for small, large in itertools.pairwise(totals):
            print(
                f"| {small[0]:,} | {large[0]:,} | {large[1] / small[1]:.1f} | "
                f"{exponent(small[:2], large[:2]):.2f} | {large[2] / small[2]:.1f} | "
                f"{exponent((small[0], small[2]), (large[0], large[2])):.2f} |"
            )


if __name__ == "__main__":
    main()
