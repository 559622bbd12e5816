"""Search spaces are checked before any trial; the ask-and-tell loop proposes the same
trials for the same seed, tells failures as failures, and resumes from its journal
without running finished trials again (a fake runner stands in for dvc exp run; the
pipeline tests run real ones)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from reprolab.core.errors import ReprolabError
from reprolab.workflow.ranking import Ranking
from reprolab.workflow.runs import RunResult
from reprolab.workflow.search import counted, open_study, recover_interrupted, search, trial_rows
from reprolab.workflow.search_space import load_space

GOOD = {
    "trials": 4,
    "fixed": ["model=random_forest"],
    "params": {
        "model.n_estimators": {"type": "int", "low": 10, "high": 100, "step": 10},
        "model.max_features": {"type": "categorical", "choices": ["sqrt", "log2"]},
        "model.ccp_alpha": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    },
}


def _space(tmp_path: Path, body: dict, name: str = "s") -> Path:
    (tmp_path / "conf/search").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf/model").mkdir(parents=True, exist_ok=True)
    for option in ("random_forest", "hist_gradient_boosting"):
        (tmp_path / f"conf/model/{option}.yaml").write_text("{}\n")
    (tmp_path / f"conf/search/{name}.yaml").write_text(yaml.safe_dump(body))
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda b: b.update(bogus=1), r"unknown key\(s\) \['bogus'\]"),
        (
            lambda b: b["params"].update(x={"type": "float", "low": 2, "high": 1}),
            r"params\.x: low=2, high=1",
        ),
        (
            lambda b: b["params"].update(x={"type": "float", "low": 0, "high": 1, "log": True}),
            r"params\.x: log scale with low=0",
        ),
        (
            lambda b: b["params"].update(x={"type": "categorical", "choices": []}),
            r"params\.x\.choices: found \[\]",
        ),
        (
            lambda b: b["params"].update(
                model={"type": "categorical", "choices": ["random_forest", "svm"]}
            ),
            r"params\.model\.choices: \['svm'\] not option",
        ),
        (
            lambda b: b["params"].update(x={"type": "int", "low": 1, "high": 5, "bogus": 1}),
            r"params\.x: unknown key",
        ),
        (lambda b: b["params"].update(x={"type": "normal"}), r"params\.x: found"),
        (lambda b: b.update(trials=0), r"trials: found 0"),
        (lambda b: b.update(params={}), r"params: found \{\}"),
    ],
)
def test_a_bad_space_is_one_line_naming_the_file_and_key(tmp_path, edit, named):
    body = yaml.safe_load(yaml.safe_dump(GOOD))
    edit(body)
    root = _space(tmp_path, body)
    with pytest.raises(ReprolabError, match=rf"conf/search/s\.yaml: .*{named}"):
        load_space("s", root=root)


def test_an_unknown_space_names_the_known_ones(tmp_path):
    with pytest.raises(ReprolabError, match=r"no search space 'nope'; expected one of \['s'\]"):
        load_space("nope", root=_space(tmp_path, GOOD))


class FakeRunner:
    """Scores a trial by a known function of its overrides; fails n_estimators=30."""

    def __init__(self) -> None:
        self.pending, self.ran = [], []

    def submit(self, name, overrides):
        self.pending.append((name, overrides))

    def next_result(self):
        name, overrides = self.pending.pop(0)
        self.ran.append(overrides)
        values = dict(o.split("=", 1) for o in overrides)
        if values["model.n_estimators"] == "30":
            return RunResult(name, tuple(overrides), "failed", "train: error: boom")
        score = 1 - abs(int(values["model.n_estimators"]) - 70) / 100
        return RunResult(name, tuple(overrides), "ok", metrics={"m": score})

    def close(self):
        pass


@pytest.fixture
def in_git_repo(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(_space(tmp_path, GOOD))
    return tmp_path


def _run(folder, trials, seed=42):
    space = load_space("s", trials)
    study = open_study(space, "maximize", seed, folder)
    recover_interrupted(study, "m")
    runner = FakeRunner()
    search(space, runner, study, "m", parallel=1)
    return study, runner


def test_same_seed_same_trials_in_the_same_order(in_git_repo):
    first = _run(in_git_repo / "a", 6)[1].ran
    second = _run(in_git_repo / "b", 6)[1].ran
    assert first == second and len(first) == 6
    assert _run(in_git_repo / "c", 6, seed=7)[1].ran != first


def test_failures_are_told_and_a_resumed_search_runs_only_the_rest(in_git_repo):
    folder = in_git_repo / "study"
    study, runner = _run(folder, 4)
    assert counted(study) == 4 and len(runner.ran) == 4
    study, runner = _run(folder, 7)  # resumes from the journal
    assert len(runner.ran) == 3 and counted(study) == 7
    rows = trial_rows(study)
    assert [r["number"] for r in rows] == list(range(7))
    assert all(r["experiment"] == f"s-{r['number']}" for r in rows)
    for row in rows:
        if row["state"] == "fail":
            assert (
                row["error"] == "train: error: boom" and row["params"]["model.n_estimators"] == 30
            )


def test_a_trial_interrupted_by_a_kill_is_run_again_with_its_parameters(in_git_repo):
    folder = in_git_repo / "study"
    space = load_space("s", 2)
    study = open_study(space, "maximize", 42, folder)
    killed = study.ask()  # asked, never told: what a killed search leaves
    from reprolab.workflow.search_space import suggest

    overrides = suggest(killed, space)
    study, runner = _run(folder, 2)
    assert runner.ran[0] == overrides  # the interrupted trial's parameters, first
    assert counted(study) == 2 and trial_rows(study)[0]["state"] == "interrupted"


def test_the_summary_names_the_best_trial_and_every_failure(tmp_path):
    from reprolab.workflow.search_report import summary_markdown, write_report

    rows = [
        {"number": 0, "experiment": "s-0", "state": "complete", "value": 0.8,
         "params": {"model.C": 0.1}, "overrides": ["model.C=0.1"], "error": None},
        {"number": 1, "experiment": "s-1", "state": "fail", "value": None,
         "params": {"model.C": 5.0}, "overrides": ["model.C=5.0"], "error": "train: error: x"},
        {"number": 2, "experiment": "s-2", "state": "complete", "value": 0.9,
         "params": {"model.C": 1.0}, "overrides": ["model.C=1.0"], "error": None},
    ]  # fmt: skip
    up, down = Ranking("m", "maximize"), Ranking("m", "minimize")
    text = summary_markdown("s", rows, up, [])
    assert "**Best: trial 2, experiment `s-2`, m = 0.9**" in text
    assert "| 1 | s-1 | fail | - | 5 | train: error: x |" in text
    assert "**Best: trial 0, experiment `s-0`" in summary_markdown("s", rows, down, [])
    summary = write_report(tmp_path, "s", rows, {"model.C": {"type": "float", "log": True}}, up)
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
    assert "](slices.png)" in summary.read_text()


def test_a_trial_whose_run_finished_before_the_kill_is_told_from_its_experiment(in_git_repo):
    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=in_git_repo, check=True, capture_output=True, text=True
        ).stdout

    (in_git_repo / "metrics").mkdir()
    (in_git_repo / "metrics/evaluate.json").write_text('{"m": 0.75}')
    git("add", "metrics")
    git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "run")
    head = git("rev-parse", "HEAD").strip()
    git("update-ref", f"refs/exps/{head[:2]}/{head[2:]}/s-0", head)
    folder = in_git_repo / "study"
    study = open_study(load_space("s", 1), "maximize", 42, folder)
    study.ask().set_user_attr("experiment", "s-0")  # its run finished; the tell never came
    study, runner = _run(folder, 1)
    assert runner.ran == [] and counted(study) == 1
    assert trial_rows(study)[0]["value"] == 0.75


def test_a_tie_on_the_objective_is_broken_as_make_exps_breaks_it():
    from reprolab.workflow.experiment_table import Experiment, rank
    from reprolab.workflow.search_report import summary_markdown

    def row(number, loss):
        return {"number": number, "experiment": f"s-{number}", "state": "complete",
                "value": 0.9, "metrics": {"m": 0.9, "log_loss": loss}, "params": {},
                "overrides": [], "error": None}  # fmt: skip

    rows = [row(0, 0.5), row(1, 0.2), row(2, 0.4)]
    rules = Ranking("m", "maximize", "log_loss", "minimize")
    assert "**Best: trial 1, experiment `s-1`" in summary_markdown("s", rows, rules, [])
    runs = [Experiment(r["experiment"], "", "main", metrics=r["metrics"]) for r in rows]
    assert rank(runs, rules)[0].name == "s-1"


def test_a_resumed_search_never_repeats_a_finished_parameter_set(in_git_repo):
    folder = in_git_repo / "study"
    first = _run(folder, 4)[1].ran
    later = _run(folder, 6)[1].ran
    assert len(later) == 2
    assert not [overrides for overrides in later if overrides in first]
    rows = trial_rows(_run(folder, 6)[0])
    assert len(rows) == 6 and len({tuple(r["overrides"]) for r in rows}) == 6
