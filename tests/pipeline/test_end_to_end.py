"""The pipeline as a user meets it: the real git and DVC in a fresh copy of the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pipeline

BIN = str(Path(sys.executable).parent)


def run(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="module")
def repo(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new git repository holding exactly the committed files of this one."""
    dest = tmp_path_factory.mktemp("clone")
    tracked = run(root, "git", "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if (root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    run(dest, "git", "init", "-q", "-b", "main")
    run(dest, "git", "config", "user.name", "Pipeline Test")
    run(dest, "git", "config", "user.email", "pipeline-test@example.invalid")
    run(dest, "git", "add", "-A")
    run(dest, "git", "commit", "-qm", "copy of the repository under test")
    return dest


def _experiments(repo: Path) -> list[dict]:
    """Flatten `dvc exp show --json` into one dict (name, params, metrics) per run."""
    rows = []
    for entry in json.loads(run(repo, "dvc", "exp", "show", "--json").stdout):
        revs = [entry, *(rev for exp in entry.get("experiments") or [] for rev in exp["revs"])]
        for rev in revs:
            rows.append(
                {
                    "name": rev["name"] or rev["rev"],
                    "params": rev["data"]["params"]["params.yaml"]["data"],
                    "metrics": rev["data"]["metrics"]["metrics/evaluate.json"]["data"],
                }
            )
    return rows


def test_repro_reproduces_the_committed_results_to_the_byte(repo):
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


def test_model_param_experiment_reruns_only_train_and_evaluate(repo):
    result = run(repo, "dvc", "exp", "run", "-n", "small-c", "-S", "model.C=0.05")
    ran = [
        line.split("'")[1]
        for line in result.stdout.splitlines()
        if line.startswith("Running stage")
    ]
    assert ran == ["train", "evaluate"]
    exp = next(e for e in _experiments(repo) if e["name"] == "small-c")
    assert exp["params"]["model"]["C"] == 0.05
    baseline = next(e for e in _experiments(repo) if e["name"] == "main")
    assert exp["metrics"]["log_loss"] > baseline["metrics"]["log_loss"]


def test_model_group_experiment_shows_in_exp_show(repo):
    run(
        repo,
        "dvc",
        "exp",
        "run",
        "-n",
        "forest",
        "-S",
        "model=random_forest",
        "-S",
        "model.n_estimators=50",
    )
    exp = next(e for e in _experiments(repo) if e["name"] == "forest")
    assert exp["params"]["model"]["_target_"] == "sklearn.ensemble.RandomForestClassifier"
    assert exp["params"]["model"]["n_estimators"] == 50
    assert 0.9 <= exp["metrics"]["accuracy"] <= 1.0
    # Hydra recomposed params.yaml in the workspace from conf/ plus the overrides.
    assert "RandomForestClassifier" in (repo / "params.yaml").read_text()


def test_unknown_override_key_names_the_key(repo):
    result = run(repo, "dvc", "exp", "run", "-S", "model.no_such_param=3", check=False)
    assert result.returncode != 0
    assert "no_such_param" in result.stderr
