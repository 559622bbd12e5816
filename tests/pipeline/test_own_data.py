"""A user's own file through the real pipeline: regression and classification, pinning
the inferred schema, comparison and the gate, and byte-reproducibility (make verify).
Rows with no target and date columns: test_own_data_columns.py."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
import yaml

from .helpers import exp_run, experiments, ranked_tables, run
from .tables import HOUSE_DATA, add_own_files

pytestmark = pytest.mark.pipeline

HOUSES = [arg for override in HOUSE_DATA for arg in ("-S", override)]


@pytest.fixture(scope="module", autouse=True)
def own_files(repo):
    add_own_files(repo)


@pytest.fixture(scope="module")
def houses_ridge(repo):
    """The houses-ridge experiment, run once; the workspace as it left it (another test
    may apply another run since)."""
    exp_run(repo, "houses-ridge", *HOUSE_DATA, "model=ridge")


def test_regression_on_a_csv_infers_roles_and_reports_regression_metrics(repo, houses_ridge):
    run(repo, "dvc", "exp", "apply", "houses-ridge")
    run(repo, "dvc", "checkout", "-q", "--force")
    schema = yaml.safe_load((repo / "reports/schema.yaml").read_text())
    assert schema["task"] == "regression"
    assert schema["numeric"] == ["area_m2", "rooms"]
    assert schema["categorical"] == ["city", "has_garden"]
    assert schema["excluded"]["listing_id"].startswith("id-like")
    assert schema["excluded"]["listed_on"].startswith("datetime")
    assert schema["excluded"]["description"].startswith("free text")
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert set(metrics) == {"rmse", "mae", "r2", "test_rows"}
    assert metrics["r2"] > 0.5
    assert json.loads((repo / "plots/roc.json").read_text()) == []
    points = json.loads((repo / "plots/predicted_vs_actual.json").read_text())
    assert len(points) == metrics["test_rows"]
    assert {"predicted", "residual"} == set(
        json.loads((repo / "plots/residuals.json").read_text())[0]
    )
    assert json.loads((repo / "plots/reliability.json").read_text()) == []
    # Regression's performance without labels: loss models fitted on the test split
    # estimate the batch's RMSE (DLE), next to the realized value from its labels.
    batch = repo / "data/production/houses.parquet"
    module = "reprolab.monitor.batch"
    run(repo, sys.executable, "-m", module, "--output", str(batch), "--rows", "150", "--seed", "3")
    try:
        run(repo, "dvc", "repro")
        summary = json.loads((repo / "metrics/monitor.json").read_text())
        assert (summary["estimation"]["method"], summary["estimation"]["metric"]) == ("DLE", "rmse")
        check = summary["estimation"]["test_split_check"]["rmse"]
        assert check["estimated"] > 0 and check["realized"] > 0
        (found,) = summary["batches"]
        assert set(found["estimated"]) == set(found["realized"]) == {"rmse", "mae"}
        estimate = found["estimated"]["rmse"]
        assert 0 < estimate["low"] <= estimate["value"] <= estimate["high"]
    finally:
        batch.unlink()


def test_classifier_on_a_regression_target_is_refused_with_the_fix(repo):
    result = run(repo, "dvc", "exp", "run", *HOUSES, check=False)
    assert result.returncode != 0
    assert (
        "train: error: model._target_: 'sklearn.linear_model.LogisticRegression' is not a "
        "regressor but the task is regression"
    ) in result.stderr


def test_regression_ranking_and_gate_prefer_lower_rmse(repo, houses_ridge):
    exp_run(
        repo, "houses-forest", *HOUSE_DATA, "model=random_forest_regressor", "model.n_estimators=50"
    )
    rmse = {
        e["name"]: e["metrics"]["rmse"]
        for e in experiments(repo)
        if e["name"].startswith("houses-")
    }
    text = run(repo, sys.executable, "-m", "reprolab.workflow.experiments").stdout
    # Another target and task than HEAD's penguins: ranked apart, among themselves.
    title, rows = next(
        (t, rows) for t, rows in ranked_tables(text).items() if "other target: price" in t
    )
    assert "other task: regression" in title and "rmse ↓" in rows[0]
    ranked = [row[1] for row in rows[1:] if row[1].startswith("houses-")]
    assert ranked == sorted(rmse, key=rmse.get)
    # Gate: the workspace holds houses-forest; compare with houses-ridge's commit.
    ridge_rev = next(
        r["rev"]
        for c in json.loads(run(repo, "dvc", "exp", "show", "--json").stdout)
        for g in c.get("experiments") or []
        for r in g["revs"]
        if r["name"] == "houses-ridge"
    )
    verdict = run(
        repo,
        sys.executable,
        "-m",
        "reprolab.workflow.report",
        "--base",
        ridge_rev,
        "--gate-only",
        check=False,
    )
    better = rmse["houses-forest"] <= rmse["houses-ridge"]
    assert verdict.returncode == (0 if better else 1)
    assert verdict.stdout.startswith(
        f"{'PASS' if better else 'FAIL'} rmse: "
        f"{rmse['houses-forest']:.4f} vs {rmse['houses-ridge']:.4f}"
    )


def test_binary_integer_labels_from_parquet(repo):
    exp_run(
        repo, "churn", "data=csv", "data.path=data/external/churn.parquet", "data.target=churned"
    )
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert set(metrics["per_class"]) == {"0", "1"}
    assert metrics["balanced_accuracy"] > 0.6
    assert {r["class"] for r in json.loads((repo / "plots/roc.json").read_text())} == {"1"}


def test_pinned_schema_is_enforced(repo):
    run(repo, "dvc", "exp", "run", *HOUSES, "-S", "model=ridge")
    pinned = yaml.safe_load((repo / "reports/schema.yaml").read_text())
    pinned["schema"]["categories"]["city"] = ["Lyon", "Paris"]  # Nantes no longer allowed
    (repo / "schemas/houses.yaml").write_text(yaml.safe_dump(pinned, sort_keys=False))
    run(repo, "git", "add", "schemas/houses.yaml")
    result = run(
        repo,
        "dvc",
        "exp",
        "run",
        *HOUSES,
        "-S",
        "model=ridge",
        "-S",
        "data.schema_file=schemas/houses.yaml",
        check=False,
    )
    assert result.returncode != 0
    assert "validate: schema pinned by schemas/houses.yaml" in result.stderr
    assert "column 'city', check isin(['Lyon', 'Paris'])" in result.stderr


def test_make_verify_rebuilds_twice_identically(repo):
    """On the user's own table (the committed default's rebuild is checked against
    dvc.lock's bytes by test_end_to_end, and with other n_jobs by test_synthetic)."""
    run(repo, "git", "checkout", "-q", "--", ".")
    shutil.rmtree(repo / "schemas/houses.yaml", ignore_errors=True)
    overrides = [
        "data=csv",
        "data.path=data/external/houses.csv",
        "data.target=price",
        "model=ridge",
    ]
    result = run(repo, sys.executable, "-m", "reprolab.workflow.verify",
                 *(arg for override in overrides for arg in ("-S", override)))  # fmt: skip
    assert "verify: two clean builds produced identical outputs" in result.stdout
    assert "models/model.skops" in result.stdout
