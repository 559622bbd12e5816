"""Sweeps on a real Ray cluster (a head started with `ray start` on loopback): every run
is an isolated experiment that comes back to the repo, byte-identical to a local run,
promotable from a clean clone through the DVC remote; bad cases are one line and
change nothing."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from .helpers import commit_remote_and_grid, exp_run, listed, run
from .ray_cluster import ray_head

pytestmark = pytest.mark.pipeline

# Model-only changes: each run reruns train, evaluate, package and monitor.
GRID = {"ray_tiny": ["model.C=0.25,-1"]}


@pytest.fixture(scope="module")
def cluster():
    with ray_head(cpus=2) as address:
        yield address


@pytest.fixture(scope="module")
def baseline(repo, tmp_path_factory):
    """The repo with a DVC remote of its own (a local directory) and a 2-run grid, one
    of whose runs fails in the pipeline (C=-1), committed."""
    return commit_remote_and_grid(repo, tmp_path_factory.mktemp("dvc-remote"), GRID)


@pytest.fixture(scope="module")
def swept(baseline, cluster):
    """The grid, run once on the cluster: (the sweep's output, the Ray run's name)."""
    result = _sweep(baseline, cluster)
    refs = run(baseline, "git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    names = [ref.rsplit("/", 1)[-1] for ref in refs if "/ray_tiny-" in ref]
    return result, names


def _sweep(repo, address, *extra, check=False):
    return run(
        repo, sys.executable, "-m", "reprolab.workflow.sweep", "--grid", "ray_tiny",
        "--mode", "ray", "--address", address, *extra, check=check,
    )  # fmt: skip


def _ref(repo, name):
    refs = run(repo, "git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    return next(ref for ref in refs if ref.endswith(f"/{name}"))


def _out_hashes(repo, rev):
    lock = yaml.safe_load(run(repo, "git", "show", f"{rev}:dvc.lock").stdout)
    return {
        out["path"]: out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
    }


def test_a_grid_runs_on_ray_and_every_run_comes_back_as_an_experiment(baseline, swept):
    result, names = swept
    assert len(names) == 1  # the failed run leaves no experiment
    assert result.returncode == 1, result.stderr  # one run fails in the pipeline
    assert "Traceback" not in result.stderr
    assert "1 of 2 experiments succeeded" in result.stdout
    assert "[2/2]" in result.stdout and "failed 1" in result.stdout
    # The failing run is named with its stage's error line.
    assert "failed: model.C=-1: train: error:" in result.stderr
    table = run(baseline, sys.executable, "-m", "reprolab.workflow.experiments").stdout
    name = names[0]
    assert {name, "0.25"} <= listed(table)
    # Parity: the same overrides run here give the same outputs and metrics.
    exp_run(baseline, "local-twin", "model.C=0.25")
    on_ray, local = _ref(baseline, name), _ref(baseline, "local-twin")
    assert _out_hashes(baseline, on_ray) == _out_hashes(baseline, local)
    metrics = [
        run(baseline, "git", "show", f"{r}:metrics/evaluate.json").stdout for r in (on_ray, local)
    ]
    assert json.loads(metrics[0]) == json.loads(metrics[1])
    run(baseline, sys.executable, "-m", "reprolab.workflow.reset")  # the twin's applied run


def test_a_run_made_on_ray_is_promoted_in_a_clean_clone(baseline, swept, tmp_path):
    name = swept[1][0]
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(baseline), str(clone))
    run(clone, "git", "fetch", "-q", "origin", "refs/exps/*:refs/exps/*")
    run(clone, "git", "config", "user.name", "Teammate")
    run(clone, "git", "config", "user.email", "teammate@example.invalid")
    out = run(clone, sys.executable, "-m", "reprolab.workflow.promote", name).stdout
    assert f"fetching {name}'s outputs from the DVC remote" in out
    assert "promoted" in out
    assert "up to date" in run(clone, "dvc", "status").stdout
    expected = _out_hashes(baseline, _ref(baseline, name))["models/model.skops"]
    lock = yaml.safe_load((clone / "dvc.lock").read_text())
    assert lock["stages"]["train"]["outs"][0]["md5"] == expected


def test_bad_cases_are_one_line_and_change_nothing(baseline, cluster):
    before = run(baseline, "git", "for-each-ref", "refs/exps").stdout
    unreachable = _sweep(baseline, "127.0.0.1:9")
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert "sweep: error: RAY_ADDRESS=127.0.0.1:9: cannot connect" in unreachable.stderr
    (baseline / "src/reprolab/extra.py").write_text("X = 1\n")
    untracked = _sweep(baseline, cluster)
    assert (
        untracked.returncode == 1
        and "untracked files ['src/reprolab/extra.py']" in untracked.stderr
    )
    (baseline / "src/reprolab/extra.py").unlink()
    (baseline / "conf/config.yaml").write_text((baseline / "conf/config.yaml").read_text() + "\n")
    changed = _sweep(baseline, cluster)
    assert changed.returncode == 1 and "uncommitted changes in the pipeline files" in changed.stderr
    run(baseline, "git", "checkout", "--", "conf/config.yaml")
    assert run(baseline, "git", "for-each-ref", "refs/exps").stdout == before
    assert run(baseline, "git", "status", "--porcelain").stdout == ""
