"""Promotion keeps group values with their group: switching the group afterwards works."""

from __future__ import annotations

import sys

import pytest
import yaml

from reprolab.model.estimators import build_estimator

from .helpers import (
    clean_workspace,
    exp_run,
    listed,
    run,
    selected_option,
    set_conf_value,
    start,
)

pytestmark = pytest.mark.pipeline

CLASSIFIERS = ["logistic_regression", "random_forest", "hist_gradient_boosting"]


@pytest.fixture(scope="module", autouse=True)
def baseline(repo):
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "baseline results", "--allow-empty")


def promote_and_commit(repo, name: str) -> str:
    result = run(repo, sys.executable, "-m", "reprolab.workflow.promote", name)
    run(repo, sys.executable, "-m", "reprolab.workflow.compose", "--check")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", f"promote {name}")
    return result.stdout


def assert_every_model_option_composes_and_builds(repo):
    for option in CLASSIFIERS:
        text = run(
            repo,
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from reprolab.workflow.compose import composed_text;"
            f"sys.stdout.write(composed_text(Path(), ['model={option}']))",
        ).stdout
        model = yaml.safe_load(text)["model"]
        build_estimator(model)  # raises on a key the estimator does not take


# Two promotions in a row, each acted once (a module fixture) and committed; the tests
# look at what each wrote and what can be run after it.


@pytest.fixture(scope="module")
def selected(repo):
    """The logistic regression option conf/ selects (a user may have promoted one: the
    option names below follow it), and its C."""
    option = selected_option(repo, "model")
    if not option.startswith("logistic_regression"):
        set_conf_value(repo, "conf/config.yaml", "  - model", "logistic_regression")
        run(repo, "git", "commit", "-qam", "the logistic regression for these tests")
        option = "logistic_regression"
    return option, yaml.safe_load((repo / "params.yaml").read_text())["model"]["C"]


@pytest.fixture(scope="module")
def promoted_added_key(repo, selected):
    clean_workspace(repo)
    exp_run(repo, "with-tol", "+model.tol=0.001")
    return promote_and_commit(repo, "with-tol")


@pytest.fixture(scope="module")
def promoted_changed_key(repo, selected, promoted_added_key):
    clean_workspace(repo)
    exp_run(repo, "smaller-c", f"model.C={selected[1] / 2}")
    out = promote_and_commit(repo, "smaller-c")
    return out, yaml.safe_load((repo / "params.yaml").read_text())


def test_promoting_an_added_key_then_switching_model(repo, selected, promoted_added_key):
    written = f"conf/model/{selected[0]}_with_tol.yaml"
    assert f"wrote {written}" in promoted_added_key
    option = yaml.safe_load((repo / written).read_text())
    assert option["tol"] == 0.001 and option["random_state"] == "${seed}"
    assert "tol:" not in (repo / "conf/config.yaml").read_text()
    assert_every_model_option_composes_and_builds(repo)
    clean_workspace(repo)
    result = exp_run(repo, "forest-after-promotion", "model=random_forest")
    assert "Running stage 'train'" in result.stdout


def test_promoting_a_changed_key_then_switching_model(repo, selected, promoted_changed_key):
    out, params = promoted_changed_key
    assert f"{selected[0]}_with_tol_smaller_c.yaml" in out
    assert params["model"]["C"] == selected[1] / 2 and params["model"]["tol"] == 0.001
    assert_every_model_option_composes_and_builds(repo)
    clean_workspace(repo)
    result = exp_run(repo, "boosting-after-promotion", "model=hist_gradient_boosting")
    assert "Running stage 'train'" in result.stdout


def test_reset_after_a_failed_run_and_sweep_refuses_until_then(repo):
    clean_workspace(repo)
    committed = run(repo, "git", "show", "HEAD:metrics/evaluate.json").stdout
    failed = run(repo, "dvc", "exp", "run", "-S", "model.C=-1", check=False)
    assert failed.returncode != 0
    assert run(repo, "git", "status", "--porcelain").stdout != ""
    sweep = run(
        repo, sys.executable, "-m", "reprolab.workflow.sweep", "--grid", "default", check=False
    )
    assert sweep.returncode == 1
    assert "sweep: error: uncommitted changes in the pipeline files (" in sweep.stderr
    assert "`make reset`" in sweep.stderr and "Traceback" not in sweep.stderr

    out = run(repo, sys.executable, "-m", "reprolab.workflow.reset").stdout
    assert "saved " in out and "params.yaml" in out
    assert run(repo, "git", "status", "--porcelain").stdout == ""
    assert "up to date" in run(repo, "dvc", "status").stdout
    assert (repo / "metrics/evaluate.json").read_text() == committed
    # Nothing lost: the failed run's params are in the stash.
    stashed = run(repo, "git", "stash", "show", "-p").stdout
    assert "+  C: -1" in stashed
    # A clean workspace has nothing to reset.
    assert "saved" not in run(repo, sys.executable, "-m", "reprolab.workflow.reset").stdout


def test_reset_in_a_clone_without_the_cache_says_to_pull(repo, tmp_path):
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    result = run(clone, sys.executable, "-m", "reprolab.workflow.reset", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not in the DVC cache (" in result.stderr and "run `dvc pull`" in result.stderr


def test_exps_shows_experiments_of_recent_commits_and_says_what_it_hides(
    repo, promoted_changed_key
):
    # with-tol was run on the baseline commit; two promotion commits came after it.
    table = run(repo, sys.executable, "-m", "reprolab.workflow.experiments").stdout
    assert {"with-tol", "smaller-c"} <= listed(table)
    latest = run(repo, sys.executable, "-m", "reprolab.workflow.experiments", "--commits", "1")
    assert "with-tol" not in latest.stdout
    assert "not shown: `make exps ALL=1` shows them" in latest.stderr
    every = run(repo, sys.executable, "-m", "reprolab.workflow.experiments", "--all")
    assert "with-tol" in listed(every.stdout) and "not shown" not in every.stderr


def test_queued_sweep_ends_naming_lost_runs_when_its_worker_dies(repo):
    import signal
    import time

    import psutil

    clean_workspace(repo)
    with (repo / "conf/sweeps.yaml").open("a") as grids:
        grids.write("\nworker_dies:\n  - model.C=0.3,0.4\n")
    run(repo, "git", "commit", "-qam", "a grid whose worker dies")
    sweep = start(
        repo,
        sys.executable,
        "-m",
        "reprolab.workflow.sweep",
        "--grid",
        "worker_dies",
        "--mode",
        "queue",
    )
    deadline = time.monotonic() + 120
    workers = []
    while not workers and time.monotonic() < deadline:
        time.sleep(0.5)
        workers = [  # this repository's workers only
            p
            for p in psutil.process_iter(["cmdline", "cwd"])
            if "queue-worker" in (p.info["cmdline"] or [])
            and (p.info["cwd"] or "").startswith(str(repo.resolve()))
        ]
    assert workers, "no queue worker started"
    for worker in workers:
        for process in [*worker.children(recursive=True), worker]:
            process.send_signal(signal.SIGKILL)
    out, err = sweep.communicate(timeout=180)  # would hang forever before
    assert sweep.returncode == 1, out + err
    assert "no queue worker has been running" in err
    assert "run(s) did not finish" in err and "Traceback" not in err


def test_sigterm_during_a_workspace_sweep_restores_the_workspace(repo):
    import signal
    import time

    clean_workspace(repo)
    with (repo / "conf/sweeps.yaml").open("a") as grids:
        grids.write("\nstopped:\n  - model.C=0.6,0.7\n")
    run(repo, "git", "commit", "-qam", "a grid that is stopped")
    committed = (repo / "params.yaml").read_text()
    sweep = start(repo, sys.executable, "-m", "reprolab.workflow.sweep", "--grid", "stopped")
    deadline = time.monotonic() + 120
    while (repo / "params.yaml").read_text() == committed and time.monotonic() < deadline:
        time.sleep(0.2)  # until the first run has rewritten params.yaml
    time.sleep(1.0)
    sweep.send_signal(signal.SIGTERM)
    sweep.communicate(timeout=120)
    assert sweep.returncode == 128 + signal.SIGTERM
    time.sleep(2)  # nothing of the stopped run may write after the restore
    assert run(repo, "git", "status", "--porcelain").stdout == ""
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_a_run_on_unversioned_files_is_not_promoted_and_nothing_changes(repo):
    from .tables import houses

    def refused(name):
        config = (repo / "conf/config.yaml").read_bytes()
        result = run(repo, sys.executable, "-m", "reprolab.workflow.promote", name, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert (repo / "conf/config.yaml").read_bytes() == config
        assert run(repo, "git", "status", "--porcelain", "--", "conf").stdout == ""
        return result.stderr

    clean_workspace(repo)
    houses(rows=80).to_csv(repo / "data/external/copied.csv", index=False)  # never `dvc add`ed
    data = ["data=csv", "data.path=data/external/copied.csv", "data.target=price", "model=ridge"]
    exp_run(repo, "on-a-copy", *data)
    said = refused("on-a-copy")
    assert "depends on files that neither git nor DVC versions: data/external/copied.csv" in said
    assert "`dvc add data/external/copied.csv`" in said
    (repo / "data/external/copied.csv").unlink()
    clean_workspace(repo)
    exp_run(repo, "before-a-stray", "model.C=0.3")
    (repo / "data/external/stray.csv").write_text("a,b\n1,2\n")  # added after the run
    assert "data/external/stray.csv" in refused("before-a-stray")
    (repo / "data/external/stray.csv").unlink()
    clean_workspace(repo)
