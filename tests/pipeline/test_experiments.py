"""Sweeps through the DVC queue and the workspace, the ranked table, and promotion."""

from __future__ import annotations

import json
import sys

import pytest

from .helpers import experiments, ranked_tables, run

pytestmark = pytest.mark.pipeline

GRIDS = """
e2e_queue:
  - model.C=0.1,10,-1
e2e_workspace:
  - model.C=0.5,2
"""


def sweep(repo, *args, check=True):
    return run(repo, sys.executable, "-m", "reprolab.workflow.sweep", *args, check=check)


@pytest.fixture(scope="module", autouse=True)
def baseline(repo):
    with (repo / "conf/sweeps.yaml").open("a") as grids:
        grids.write(GRIDS)
    run(repo, "dvc", "repro")
    # Queued runs see committed files only; the baseline is what a sweep restores.
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "test grids and baseline results")


# Each fixture below acts once and keeps what the tests look at, taken right after
# the act: any test passes alone or in any order (promotion commits, and HEAD's
# experiments are then another commit's).


@pytest.fixture(scope="module")
def queued(repo):
    result = sweep(repo, "--grid", "e2e_queue", "--mode", "queue", "--jobs", "2", check=False)
    return result, [e for e in experiments(repo) if e["name"] != "main"]


@pytest.fixture(scope="module")
def swept(repo, queued):
    result = sweep(repo, "--grid", "e2e_workspace")
    return {
        "result": result,
        "git status": run(repo, "git", "status", "--porcelain").stdout,
        "dvc status": run(repo, "dvc", "status").stdout,
        "runs": [e for e in experiments(repo) if e["name"] != "main"],
        # HEAD's experiments only: the rows `runs` holds too.
        "table": run(
            repo, sys.executable, "-m", "reprolab.workflow.experiments", "--commits", "1"
        ).stdout,
        "shown": json.loads(run(repo, "dvc", "exp", "show", "--json").stdout),
    }


def test_sweep_refuses_untracked_sources(repo):
    before = experiments(repo)
    extra = repo / "src/reprolab/new_features.py"
    extra.write_text("X = 1\n")
    try:
        result = sweep(repo, "--grid", "e2e_workspace", check=False)
    finally:
        extra.unlink()
    assert result.returncode == 1
    assert "untracked files ['src/reprolab/new_features.py']" in result.stderr
    assert experiments(repo) == before  # nothing ran, nothing queued


def test_queued_sweep_finishes_every_experiment_and_reports_failures(queued):
    result, runs = queued
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 of 3 experiments succeeded" in result.stdout
    # The failed run (C must be > 0) is named with the error from `dvc queue logs`.
    assert "failed: " in result.stderr
    assert "train: error: model: The 'C' parameter of LogisticRegression" in result.stderr
    assert sorted(e["params"]["model"]["C"] for e in runs if not e["failed"]) == [0.1, 10]
    assert [e["params"]["model"]["C"] for e in runs if e["failed"]] == [-1]


def test_workspace_sweep_restores_the_workspace(swept):
    assert "2 of 2 experiments succeeded" in swept["result"].stdout
    assert swept["git status"] == ""
    assert "up to date" in swept["dvc status"]
    assert len(swept["runs"]) == 5


def test_ranked_table_puts_the_best_first(swept):
    tables = ranked_tables(swept["table"])
    title, ranked = next(iter(tables.items()))
    assert title.startswith("Ranked: target species, classification, measured on the test rows")
    assert ranked[0][:5] == ["rank", "experiment", "baseline", "balanced_accuracy ↑", "log_loss"]
    assert "model.C" in ranked[0]
    names = [row[1] for row in ranked[1:]]
    by_name = {e["name"]: e["metrics"] for e in swept["runs"]}
    keys = [(-by_name[n]["balanced_accuracy"], by_name[n]["log_loss"]) for n in names]
    assert keys == sorted(keys)
    assert len(names) == 4  # four experiments; the commit is a baseline, not ranked
    assert [row[0] for row in tables["Baseline commits (not ranked):"][1:]] == ["main"]
    assert tables["Failed runs:"][1][2].startswith("Experiment run failed")


def test_promote_writes_the_best_experiment_into_conf(repo, swept):
    best = next(iter(ranked_tables(swept["table"]).values()))[1][1]
    rev = next(
        r["rev"]
        for c in swept["shown"]
        for g in c.get("experiments") or []
        for r in g["revs"]
        if r["name"] == best
    )
    result = run(repo, sys.executable, "-m", "reprolab.workflow.promote", best)
    assert f"promoted {best}" in result.stdout
    # conf/ now composes to exactly the experiment's params.yaml ...
    expected = run(repo, "git", "show", f"{rev}:params.yaml").stdout
    run(repo, sys.executable, "-m", "reprolab.workflow.compose", "--check")
    assert (repo / "params.yaml").read_text() == expected
    # The changed C lives in a new model option that the defaults list selects.
    assert "model: logistic_regression_" in (repo / "conf/config.yaml").read_text()
    assert "\nmodel:" not in (repo / "conf/config.yaml").read_text()
    # ... the experiment's outputs are in place, and a plain `dvc exp run` keeps them.
    assert "up to date" in run(repo, "dvc", "status").stdout
    run(repo, "git", "add", "conf", "params.yaml", "dvc.lock", "metrics", "plots", "reports")
    run(repo, "git", "commit", "-qm", f"promote {best}")
    rerun = run(repo, "dvc", "exp", "run")
    assert "Running stage" not in rerun.stdout
    assert run(repo, "git", "status", "--porcelain").stdout == ""
