"""Optuna search on the default data with real `dvc exp run --temp` trials: each trial
an experiment, a summary with charts, resume after a kill without re-running finished
trials, bad input refused before any trial."""

from __future__ import annotations

import shutil
import signal
import sys
import time

import pytest

from .helpers import listed, run, start

pytestmark = pytest.mark.pipeline


def _search(repo, *args, check=False):
    return run(repo, sys.executable, "-m", "reprolab.workflow.search", *args, check=check)


def _experiments(repo, prefix=""):
    refs = run(repo, "git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    names = [ref.rsplit("/", 1)[-1] for ref in refs]
    return sorted(n for n in names if not prefix or n.startswith(f"{prefix}-"))


@pytest.fixture(scope="module", autouse=True)
def built(repo):
    """The baseline's outputs in the cache, so trials rerun only what they change."""
    run(repo, "dvc", "repro")
    assert run(repo, "git", "status", "--porcelain").stdout == ""


def _fresh_study(repo):
    shutil.rmtree(repo / "reports/search/logistic", ignore_errors=True)
    return set(_experiments(repo, "logistic"))


def test_a_killed_search_resumes_and_every_trial_is_an_experiment_in_the_summary(repo):
    """One search, killed after two trials and resumed (each full trial is a pipeline
    run: one search for both checks keeps the suite short)."""
    before = _fresh_study(repo)
    search = start(repo, sys.executable, "-m", "reprolab.workflow.search", "--space", "logistic",
                   "--trials", "4")  # fmt: skip
    deadline = time.monotonic() + 300
    while len(set(_experiments(repo, "logistic")) - before) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    search.send_signal(signal.SIGTERM)
    first, _ = search.communicate(timeout=120)
    assert "search 'logistic': 0 trial(s) done, 4 to run" in first
    done = set(_experiments(repo, "logistic")) - before
    assert 2 <= len(done) < 4
    resumed = _search(repo, "--space", "logistic", "--trials", "4", check=True)
    # A trial whose run had finished when the kill came is told from its experiment.
    assert f"{len(done)} trial(s) done, {4 - len(done)} to run" in resumed.stdout
    made = set(_experiments(repo, "logistic")) - before
    assert len(made) == 4 and done <= made
    ran_again = [line for line in resumed.stdout.splitlines() if line.startswith("trial ")]
    assert len(ran_again) == 4 - len(done)
    # Every trial is an experiment of the table; the summary names the best, with charts.
    table = run(repo, sys.executable, "-m", "reprolab.workflow.experiments").stdout
    assert made <= listed(table)
    folder = repo / "reports/search/logistic"
    summary = (folder / "summary.md").read_text()
    assert "**Best: trial " in summary and "make promote EXP=logistic-" in summary
    for image in ("history.png", "slices.png"):
        assert f"]({image})" in summary
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run(repo, "git", "status", "--porcelain").stdout == ""  # reports/search is ignored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--space", "nope"], "search: error: conf/search/nope.yaml: no search space 'nope'"),
        (["--space", "logistic", "--trials", "0"], "conf/search/logistic.yaml: trials: found 0"),
    ],
)
def test_bad_input_is_one_line_and_starts_no_trial(repo, args, message):
    before = _experiments(repo)
    result = _search(repo, *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert _experiments(repo) == before


def test_a_metric_the_pipeline_does_not_write_is_refused(repo):
    space = repo / "conf/search/logistic.yaml"
    original = space.read_text()
    space.write_text(original + "metric: auc_typo\n")
    try:
        result = _search(repo, "--space", "logistic")
    finally:
        space.write_text(original)
    assert result.returncode == 1
    assert "metric: 'auc_typo' is not written by the pipeline" in result.stderr
