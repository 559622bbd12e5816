"""Benchmark: where the test suite's CPU time goes, by kind of process and by test module.

    make bench-suite                              # the non-Ray tests, 2 workers
    .venv/bin/python bench/suite_cpu.py -- -m ray  # any pytest arguments after --

Every Python process of the project's environment (pytest workers, `dvc`, the stages
that `dvc` runs, `gto`, the CLIs) appends its own user+system CPU time, its wall time,
the test that was running (PYTEST_CURRENT_TEST, inherited by the processes a test
starts) and its command line to a log when it exits: a `.pth` file put in the
environment's site-packages for the run, and removed after it. Processes that do not
exit normally (killed on purpose, Ray's workers) and programs that are not Python
(git, the S3 server, the browser) are not counted: the total printed beside pytest's
own CPU time (of it and everything it waited for) tells how much that is.

Prints pytest's wall and CPU time, then tables: CPU by kind of process (the stage,
the `dvc` subcommand, or the program), and by test module with its three largest kinds.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in every Python process of the environment (a .pth line is executed at start).
RECORDER = """import atexit, os, sys, time, resource
_log = os.environ.get("REPROLAB_CPU_LOG")
if _log:
    _started = time.monotonic()
    def _record():
        try:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            test = os.environ.get("PYTEST_CURRENT_TEST", "-").split(" ")[0]
            command = " ".join(sys.argv)[:300].replace("\\t", " ")
            with open(_log, "a") as log:
                log.write(f"{usage.ru_utime + usage.ru_stime:.3f}\\t"
                          f"{time.monotonic() - _started:.3f}\\t{test}\\t{command}\\n")
        except Exception:
            pass  # a process at its file-size limit (a test sets one) records nothing
    atexit.register(_record)
"""
RECORDER_MODULE = "_reprolab_cpu_recorder"


def kind_of(command: str) -> str:
    """The stage, `dvc <subcommand>`, or the program a command line runs."""
    words = command.split()
    if not words:
        return "python -c"
    program = Path(words[0]).name
    if program == "dvc":  # `dvc exp run`, `dvc repro`, `dvc` alone
        return " ".join(["dvc", *words[1 : 3 if words[1:2] == ["exp"] else 2]])
    if "/stages/" in words[0] or "/serve/" in words[0] or "/workflow/" in words[0]:
        return f"{Path(words[0]).parent.name}/{program}"
    if program == "__main__.py" and "pytest" in words[0]:
        return "pytest (main)"
    return "pytest worker (python -c)" if program == "-c" else program


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's arguments")
    args = parser.parse_args()
    pytest_args = args.pytest_args or ["-m", "not ray"]
    site = Path(sysconfig.get_paths()["purelib"])
    hook = site / "zz_reprolab_cpu_recorder.pth"
    module = site / f"{RECORDER_MODULE}.py"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "cpu.log"
        module.write_text(RECORDER)
        hook.write_text(f"import {RECORDER_MODULE}\n")
        env = {**os.environ, "REPROLAB_CPU_LOG": str(log)}
        command = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-q",
                   "-p", "no:cacheprovider", *pytest_args]  # fmt: skip
        print(f"# {' '.join(command[1:])}", flush=True)
        started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            subprocess.run(command, cwd=ROOT, env=env, check=False)
        finally:
            hook.unlink(missing_ok=True)
            module.unlink(missing_ok=True)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        records = [line.rstrip("\n").split("\t", 3) for line in log.read_text().splitlines()]
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report(records, wall, total)


def report(records: list[list[str]], wall: float, total: float) -> None:
    by_kind: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for cpu, _wall, test, command in records:
        kind = kind_of(command)
        by_kind[kind][0] += 1
        by_kind[kind][1] += float(cpu)
        by_module[test.split("::")[0]][kind] += float(cpu)
    recorded = sum(cpu for _, cpu in by_kind.values())
    print(f"\npytest: {wall:.0f} s wall, {total:.0f} CPU-s ({total / wall:.2f} cores); "
          f"recorded by Python processes: {recorded:.0f} CPU-s")  # fmt: skip
    print("\n| kind of process | processes | CPU-s | CPU-s each |")
    print("|---|---:|---:|---:|")
    for kind, (count, cpu) in sorted(by_kind.items(), key=lambda item: -item[1][1])[:25]:
        print(f"| {kind} | {count:.0f} | {cpu:.1f} | {cpu / count:.2f} |")
    print("\n| test module | CPU-s of the processes its tests started | largest kinds |")
    print("|---|---:|---|")
    modules = sorted(by_module.items(), key=lambda item: -sum(item[1].values()))
    for name, kinds in modules:
        if name == "-":
            continue  # the pytest workers themselves, outside any test
        largest = ", ".join(f"{kind} {cpu:.0f}" for kind, cpu in kinds.most_common(3))
        print(f"| {name} | {sum(kinds.values()):.1f} | {largest} |")


if __name__ == "__main__":
    main()
