"""Helpers to drive the real git and dvc in a test repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).parent)


def project_env() -> dict[str, str]:
    # PYTHONPATH=src: project commands run the copy's code, as the stages do.
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": "src"}


def start(cwd: Path, *cmd: str) -> subprocess.Popen:
    """A project command running in the background (to signal or kill it mid-way)."""
    return subprocess.Popen(
        cmd, cwd=cwd, env=project_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def predict_file(repo: Path, source: Path, target: Path, *extra: str, check: bool = True):
    """`python -m reprolab.serve.predict --input source --output target ...`."""
    return run(
        repo,
        sys.executable,
        "-m",
        "reprolab.serve.predict",
        "--input",
        str(source),
        "--output",
        str(target),
        *extra,
        check=check,
    )


def run(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    env = project_env()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def exp_run(repo: Path, name: str, *overrides: str) -> subprocess.CompletedProcess:
    """`dvc exp run -n <name> -S <override> ...`, failing the test if it fails."""
    return run(repo, "dvc", "exp", "run", "-n", name, *(a for o in overrides for a in ("-S", o)))


def experiments(repo: Path) -> list[dict]:
    """Flatten `dvc exp show --json` into one dict (name, params, metrics) per commit and
    experiment; the workspace row is left out."""
    rows = []
    for entry in json.loads(run(repo, "dvc", "exp", "show", "--json").stdout):
        revs = [entry, *(rev for exp in entry.get("experiments") or [] for rev in exp["revs"])]
        for rev in revs:
            if rev["rev"] == "workspace":
                continue
            rows.append(
                {
                    "name": rev["name"] or rev["rev"],
                    "failed": bool(rev.get("error")),
                    "params": rev["data"]["params"]["params.yaml"]["data"],
                    "metrics": rev["data"]["metrics"]["metrics/evaluate.json"]["data"],
                }
            )
    return rows


def commit_remote_and_grid(repo: Path, storage: Path, grid: dict) -> Path:
    """The repo with a DVC remote of its own (a local directory) and `grid` added to
    conf/sweeps.yaml, built and committed: a baseline that sweeps on Ray accept."""
    import yaml

    run(repo, "dvc", "remote", "add", "-f", "-d", "local", str(storage))
    grids = yaml.safe_load((repo / "conf/sweeps.yaml").read_text())
    (repo / "conf/sweeps.yaml").write_text(yaml.safe_dump({**grids, **grid}))
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "a remote and a grid for Ray")
    return repo


def ranked_tables(text: str) -> dict[str, list[list[str]]]:
    """`make exps` output as {section title: rows of cells}, the header row first."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|-"):
            tables.setdefault(title, []).append([c.strip() for c in line.strip("|").split("|")])
        elif line and not line.startswith("|"):
            title = line
    return tables


def listed(text: str) -> set[str]:
    """Every cell of every table in `make exps` output."""
    return {cell for rows in ranked_tables(text).values() for row in rows for cell in row}


def selected_option(repo: Path, group: str) -> str:
    """The option of a config group that conf/config.yaml's defaults list selects (a user
    may promote another: tests read it rather than assume it)."""
    import yaml

    defaults = yaml.safe_load((repo / "conf/config.yaml").read_text())["defaults"]
    return next(d[group] for d in defaults if isinstance(d, dict) and group in d)


def set_conf_value(repo: Path, path: str, key: str, value: object) -> object:
    """Set the `key: value` line of a conf/ file (`key` with its indentation: `  - model`,
    `  max_relative_regression`), whatever it held; recompose params.yaml. Returns the
    value it held (parsed)."""
    import re

    import yaml

    conf = repo / path
    text = conf.read_text()
    line = re.search(rf"^{re.escape(key)}: (.*)$", text, flags=re.MULTILINE)
    assert line, f"{path} has no top-level {key}"
    old = yaml.safe_load(line.group(1))
    conf.write_text(text[: line.start()] + f"{key}: {value}" + text[line.end() :])
    run(repo, sys.executable, "-m", "reprolab.workflow.compose")
    return old


def clean_workspace(repo: Path) -> None:
    """HEAD's files and outputs, whatever an earlier test left (a test's first step:
    each passes alone and in any order)."""
    run(repo, "git", "reset", "-q", "--hard")
    run(repo, "dvc", "checkout", "--force")


def wait_for_service(server: subprocess.Popen, url: str, tries: int = 200) -> None:
    """Until the service at `url` answers /health; the test fails if it exits first."""
    import time

    import httpx

    for _ in range(tries):
        try:
            httpx.get(f"{url}/health", timeout=1)
            return
        except httpx.TransportError:
            if server.poll() is not None:
                pytest.fail(f"uvicorn exited: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.1)
    pytest.fail(f"{url}/health: no answer after {tries} tries")
