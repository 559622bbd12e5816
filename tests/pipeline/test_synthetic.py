"""Synthetic data through the real pipeline: histogram gradient boosting on category
codes, capped plot files, byte-identical rebuilds whatever n_jobs, and generated
production batches that the monitor stage judges."""

from __future__ import annotations

import hashlib
import json
import sys

import pytest
import yaml

from reprolab.model.evaluation import MAX_CURVE_POINTS

from .helpers import exp_run, run

pytestmark = pytest.mark.pipeline

SYNTHETIC = [
    "data=synthetic",
    "data.source.rows=20000",
    "model=hist_gradient_boosting",
    "model.max_iter=50",
]
OUTS = [
    "data/raw/dataset.parquet",
    "data/interim/train.parquet",
    "data/processed/train_features.parquet",
    "models/preprocessor.skops",
    "models/model.skops",
    "metrics/evaluate.json",
    "plots/confusion_matrix.json",
    "plots/roc.json",
    "reports/model_card.json",
]


def digests(repo):
    return {path: hashlib.md5((repo / path).read_bytes()).hexdigest() for path in OUTS}


@pytest.fixture(scope="module")
def synthetic_run(repo):
    result = exp_run(repo, "synthetic-hgb", *SYNTHETIC)
    return repo, result


def applied(repo, name="synthetic-hgb"):
    """The workspace as the experiment left it, whatever a later run applied since."""
    run(repo, "dvc", "exp", "apply", name)
    run(repo, "dvc", "checkout", "-q", "--force")


def test_pipeline_trains_on_category_codes_and_caps_plot_files(synthetic_run):
    repo, result = synthetic_run
    applied(repo)
    assert "ingest: generated 20000 rows, 27 columns (data.source.seed 0)" in result.stderr
    assert "featurize: 25 columns -> 25 float32 features (categories: ordinal)" in result.stderr
    schema = yaml.safe_load((repo / "reports/schema.yaml").read_text())
    assert len(schema["numeric"]) == 20 and len(schema["categorical"]) == 5
    assert schema["schema"]["classes"] == ["class_0", "class_1", "class_2"]
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert metrics["test_rows"] == 5000
    assert metrics["balanced_accuracy"] > 0.6

    from reprolab.model.persistence import load_model

    model = load_model(repo / "models/model.skops").named_steps["model"]
    # The configured model, inside its calibration where model.calibration is set.
    model = getattr(model, "estimator", model)
    assert model.is_categorical_.tolist() == [False] * 20 + [True] * 5
    confusion = json.loads((repo / "plots/confusion_matrix.json").read_text())
    assert len(confusion) == 9 and sum(cell["count"] for cell in confusion) == 5000
    roc = json.loads((repo / "plots/roc.json").read_text())
    assert len(roc) <= 3 * MAX_CURVE_POINTS


def test_rebuild_is_byte_identical_whatever_n_jobs(synthetic_run):
    repo, _ = synthetic_run
    applied(repo)
    before = digests(repo)
    result = exp_run(repo, "synthetic-1-core", *SYNTHETIC, "n_jobs=1")
    assert "Running stage 'train'" in result.stdout
    assert digests(repo) == before
    run(repo, "dvc", "repro", "--force")
    assert digests(repo) == before


def test_generated_batches_fire_and_clear_the_drift_alert(synthetic_run):
    repo, _ = synthetic_run
    applied(repo)

    def batch(*drift):
        run(
            repo,
            sys.executable,
            "-m",
            "reprolab.monitor.batch",
            "--output",
            "data/production/batch.parquet",
            "--rows",
            "5000",
            "--seed",
            "7",
            *drift,
        )
        run(repo, "dvc", "repro", "monitor")
        return json.loads((repo / "metrics/monitor.json").read_text())

    drifted = batch("--shift", "num_03=1.5", "--mix", "cat_01=never_seen:0.5")
    assert drifted["verdict"] in ("warning", "retrain")
    assert set(drifted["drifted_features"]) == {"num_03", "cat_01"}
    warned = {w.split()[1] for w in drifted["warnings"] if w.startswith("feature ")}
    assert warned == {"num_03", "cat_01"}
    (found,) = drifted["batches"]
    assert set(found["estimated"]) == set(found["realized"]) == {"accuracy", "balanced_accuracy"}
    assert drifted["retrain_recommended"] is bool(drifted["reasons"])
    clean = batch()
    assert clean["drifted_features"] == {} and clean["reasons"] == []
    assert all(w.startswith("estimates unreliable") for w in clean["warnings"])


def test_wide_one_hot_stays_sparse_and_scores_as_dense(synthetic_run):
    repo, _ = synthetic_run
    linear = [*SYNTHETIC[:2], "model=logistic_regression"]
    exp_run(repo, "linear-dense", *linear)
    dense = json.loads((repo / "metrics/evaluate.json").read_text())
    # 15,000 train rows x 108 one-hot and numeric columns x 4 bytes = 6.2 MiB dense.
    result = exp_run(repo, "linear-sparse", *linear, "features.max_dense_mib=1")
    assert "-> 108 float32 features (categories: onehot, sparse: encoded by train)" in result.stderr
    sparse = json.loads((repo / "metrics/evaluate.json").read_text())
    # The same model up to the solver's tolerance: a test row or two (of 5,000) on the
    # decision boundary may fall the other way.
    assert sparse["log_loss"] == pytest.approx(dense["log_loss"], abs=1e-4)
    for metric in ("accuracy", "balanced_accuracy"):
        assert sparse[metric] == pytest.approx(dense[metric], abs=2 / 5000), metric


def test_batch_command_refuses_non_synthetic_data_by_key(repo, tmp_path):
    run(repo, "git", "checkout", "--", "params.yaml")  # the default: penguins
    result = run(
        repo,
        sys.executable,
        "-m",
        "reprolab.monitor.batch",
        "--from",
        "synthetic",
        "--output",
        str(tmp_path / "b.parquet"),
        check=False,
    )
    assert result.returncode == 1
    assert (
        "batch: error: data.source.kind: found 'palmerpenguins'; expected 'synthetic'"
        in result.stderr
    )
    assert not (tmp_path / "b.parquet").exists()
