"""The pipeline as a user meets it: the real git and DVC in a fresh copy of the repository."""

from __future__ import annotations

import json

import pytest

from .helpers import clean_workspace, exp_run, experiments, run

pytestmark = pytest.mark.pipeline


def test_repro_reproduces_the_committed_results_to_the_byte(repo):
    clean_workspace(repo)  # not an experiment another test applied
    # -f: evaluate's outputs are in git, so a plain repro on a clone would skip it.
    result = run(repo, "dvc", "repro", "--force")
    assert "Running stage 'evaluate'" in result.stdout
    # dvc.lock (the hash of every output), metrics/, plots/ and reports/ are unchanged.
    assert run(repo, "git", "status", "--porcelain").stdout == ""
    assert "Data and pipelines are up to date" in run(repo, "dvc", "repro").stdout
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert set(metrics) >= {
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "roc_auc_ovr",
        "log_loss",
        "per_class",
    }
    assert set(metrics["per_class"]) == {"Adelie", "Chinstrap", "Gentoo"}


def test_model_param_experiment_reruns_only_the_stages_after_the_model(repo):
    result = run(repo, "dvc", "exp", "run", "-n", "small-c", "-S", "model.C=0.05")
    ran = [
        line.split("'")[1]
        for line in result.stdout.splitlines()
        if line.startswith("Running stage")
    ]
    assert ran == ["train", "evaluate", "package", "monitor"]  # monitor: the model's predictions
    # -S is the documented way to experiment: no note that params.yaml differs from conf/.
    assert "not the composition of conf/" not in result.stdout + result.stderr
    exp = next(e for e in experiments(repo) if e["name"] == "small-c")
    assert exp["params"]["model"]["C"] == 0.05
    baseline = next(e for e in experiments(repo) if e["name"] == "main")
    # Another model: other probabilities (which way depends on the model's calibration).
    assert exp["metrics"]["log_loss"] != baseline["metrics"]["log_loss"]


def test_model_group_experiment_shows_in_exp_show(repo):
    exp_run(repo, "forest", "model=random_forest", "model.n_estimators=50")
    exp = next(e for e in experiments(repo) if e["name"] == "forest")
    assert exp["params"]["model"]["_target_"] == "sklearn.ensemble.RandomForestClassifier"
    assert exp["params"]["model"]["n_estimators"] == 50
    assert 0.9 <= exp["metrics"]["accuracy"] <= 1.0
    # Hydra recomposed params.yaml in the workspace from conf/ plus the overrides.
    assert "RandomForestClassifier" in (repo / "params.yaml").read_text()
    # The card names the forest, not its template tree (DecisionTreeClassifier).
    card = (repo / "reports/model_card.md").read_text()
    assert card.startswith("# Model card: RandomForestClassifier (classification")


def test_unknown_override_key_names_the_key(repo):
    result = run(repo, "dvc", "exp", "run", "-S", "model.no_such_param=3", check=False)
    assert result.returncode != 0
    assert "no_such_param" in result.stderr
