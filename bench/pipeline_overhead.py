"""Benchmark: what DVC costs next to the compute, for a whole build and an experiment turn.

    make bench        # or: .venv/bin/python bench/pipeline_overhead.py
    .venv/bin/python bench/pipeline_overhead.py --synthetic-rows 1000000

Everything runs in a clean copy of the repository (default data, or synthetic data of
the given size with histogram gradient boosting), built once untimed. Prints one table
of medians and the ratios of issue 18, each measured in this one run:

- a whole build: `dvc repro -f` / the same stage functions back to back in one process;
- an experiment turn: `dvc exp run -S model.C=<c>` (a new value each time: train,
  evaluate, package and monitor rerun) / the same four stages in one process;
- no-op `dvc repro` / DVC's floor, a no-op `dvc repro` in a one-stage repository.
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

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["ingest", "validate", "split", "featurize", "train", "evaluate", "package", "monitor"]
# What `-S model.C=...` reruns: model params (train, package) and the model's consumers.
TURN = ["train", "evaluate", "package", "monitor"]
# The project's dvc and python, wherever the benchmark is started from.
ENV = {
    **os.environ,
    "PYTHONPATH": "src",
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
}

IN_PROCESS = """
import importlib, logging, sys
logging.basicConfig(level=logging.WARNING)
for stage in sys.argv[1:]:
    module = importlib.import_module("reprolab.stages." + stage)
    getattr(module, stage)()
"""


def run(cmd: list[str], cwd: Path) -> float:
    """Wall seconds of `cmd`; stops the benchmark with its output if it fails."""
    started = time.perf_counter()
    result = subprocess.run(cmd, env=ENV, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def median(cmds: list[list[str]], cwd: Path, before=None) -> float:
    """Median wall time over `cmds` (one run each), `before(i)` untimed before run i."""
    times = []
    for i, cmd in enumerate(cmds):
        if before:
            before(i)
        times.append(run(cmd, cwd))
    return statistics.median(times)


def built_copy(parent: Path, overrides: list[str]) -> Path:
    """A clean copy composed with `overrides`, built once (untimed) to fill its cache."""
    sys.path.insert(0, str(ROOT / "src"))
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415
    from reprolab.workflow.verify import clean_copy  # noqa: PLC0415

    repo = clean_copy(ROOT, parent / "copy")
    for key, value in (("user.name", "Bench"), ("user.email", "bench@example.invalid")):
        run(["git", "config", key, value], repo)
    if overrides:
        compose_to(repo / "params.yaml", repo, overrides)
        run(["git", "commit", "-qam", "bench data"], repo)
    run(["dvc", "repro", "-q"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "built", "--allow-empty"], repo)
    return repo


def one_stage_repo(parent: Path) -> Path:
    """DVC's floor: a repository whose whole pipeline is one tiny stage."""
    repo = parent / "floor"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    run(["dvc", "init", "-q"], repo)
    (repo / "dvc.yaml").write_text(
        "stages:\n  one:\n    cmd: echo one > out.txt\n    outs:\n      - out.txt\n"
    )
    run(["dvc", "repro", "-q"], repo)
    return repo


def composer(repo: Path, overrides: list[str]):
    """A function that writes params.yaml composed with `overrides` + one more."""
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415

    return lambda extra: compose_to(repo / "params.yaml", repo, [*overrides, extra])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    overrides = []
    if args.synthetic_rows:
        overrides = [
            "data=synthetic",
            f"data.source.rows={args.synthetic_rows}",
            "model=hist_gradient_boosting",
        ]
    n = args.repeat
    with tempfile.TemporaryDirectory(dir=ROOT.parent) as tmp:
        repo, floor = built_copy(Path(tmp), overrides), one_stage_repo(Path(tmp))
        print("built the copy; measuring", file=sys.stderr)
        python = [sys.executable, "-c", IN_PROCESS]
        full = median([["dvc", "repro", "-f", "-q"]] * n, repo)
        full_in = median([python + STAGES] * n, repo)
        # The histogram model has no C: its turn changes the learning rate instead.
        key = "model.learning_rate" if args.synthetic_rows else "model.C"
        values = [0.05 + i / 100 for i in range(2 * n)]
        turn = median([["dvc", "exp", "run", "-q", "-S", f"{key}={v}"] for v in values[:n]], repo)
        compose = composer(repo, overrides)
        turn_in = median([python + TURN] * n, repo, lambda i: compose(f"{key}={values[n + i]}"))
        run(["git", "checkout", "-q", "params.yaml"], repo)
        run(["dvc", "checkout", "-q", "-f"], repo)
        noop = median([["dvc", "repro", "-q"]] * (2 * n + 1), repo)
        noop_floor = median([["dvc", "repro", "-q"]] * (2 * n + 1), floor)
        status = median([["dvc", "status", "-q"]] * (2 * n + 1), repo)
    data = f"synthetic {args.synthetic_rows:,} rows" if args.synthetic_rows else "default data"
    print(
        f"# {data}; {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rows = [
        (f"dvc repro -f ({len(STAGES)} stages)", full),
        ("the same stages, one Python process", full_in),
        (f"dvc exp run -S {key}=<new>", turn),
        (f"{', '.join(TURN)}: one process", turn_in),
        ("no-op dvc repro", noop),
        ("no-op dvc repro, one-stage repository", noop_floor),
        ("dvc status", status),
    ]
    print(f"| {'measurement (median)':<44} | seconds |")
    print(f"|{'-' * 46}|--------:|")
    for name, seconds in rows:
        print(f"| {name:<44} | {seconds:7.2f} |")
    print()
    print(f"| {'ratio':<44} |  value | target |")
    print(f"|{'-' * 46}|-------:|-------:|")
    for name, value, target in (
        ("whole build: dvc repro -f / one process", full / full_in, "-"),
        ("experiment turn: dvc exp run / one process", turn / turn_in, "<= 2"),
        ("no-op dvc repro / one-stage floor", noop / noop_floor, "<= 1.5"),
    ):
        print(f"| {name:<44} | {value:6.2f} | {target:>6} |")


if __name__ == "__main__":
    main()
