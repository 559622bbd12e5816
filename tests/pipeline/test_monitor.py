"""The monitoring loop on the real pipeline: a drifted batch fires the alert, a clean one
clears it, and `dvc metrics diff` shows the change."""

from __future__ import annotations

import json
import sys

import pytest

from .helpers import clean_workspace, run, selected_option, set_conf_value

pytestmark = pytest.mark.pipeline


def simulate(repo, name, *drift):
    run(
        repo,
        sys.executable,
        "-m",
        "reprolab.monitor.batch",
        "--output",
        f"data/production/{name}.parquet",
        "--rows",
        "400",
        "--seed",
        "5",
        *drift,
    )


def verdict(repo):
    return json.loads((repo / "metrics/monitor.json").read_text())


def test_alert_fires_on_drift_and_clears_on_a_clean_batch(repo):
    run(repo, "dvc", "repro")
    assert verdict(repo)["verdict"] == "no production data"
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "baseline", "--allow-empty")

    simulate(repo, "week_1", "--shift", "flipper_length_mm=2", "--missing", "sex=0.5")
    result = run(repo, "dvc", "repro")
    assert "Running stage 'monitor'" in result.stdout
    assert "Running stage 'train'" not in result.stdout
    fired = verdict(repo)
    assert fired["verdict"] in ("warning", "retrain")
    assert set(fired["drifted_features"]) == {"flipper_length_mm", "sex"}
    # Drift warns, naming each feature with its importance to the model; only
    # performance (estimated or realized, per batch) recommends retraining.
    warned = [w for w in fired["warnings"] if w.startswith("feature ")]
    assert {w.split()[1] for w in warned} == {"flipper_length_mm", "sex"}
    assert all("importance" in w and "rank" in w for w in warned)
    assert fired["retrain_recommended"] is bool(fired["reasons"])
    assert all(r.startswith("batch week_1.parquet: ") for r in fired["reasons"])
    report = (repo / "reports/monitor.md").read_text()
    assert f"retraining recommended: **{'yes' if fired['reasons'] else 'no'}**" in report
    assert "drifted_feature_count" in run(repo, "dvc", "metrics", "diff", "--md").stdout
    # The batch's performance, estimated without its labels and realized with them.
    (batch,) = fired["batches"]
    assert (batch["batch"], batch["rows"], batch["labelled_rows"]) == ("week_1.parquet", 400, 400)
    estimation = fired["estimation"]
    assert estimation["method"] == "CBPE" and estimation["metric"] == "balanced_accuracy"
    estimate = batch["estimated"]["balanced_accuracy"]
    assert 0 <= estimate["low"] <= estimate["value"] <= estimate["high"] <= 1
    assert 0 <= batch["realized"]["balanced_accuracy"] <= 1
    assert "| week_1.parquet | 400 |" in report
    # The chart shows each reason: a PSI shift for flipper length, missing values for sex;
    # features by their importance to the model.
    chart = json.loads((repo / "plots/drift.json").read_text())
    drifted = {(r["feature"], r["measure"]) for r in chart if r["status"] == "drifted"}
    assert drifted == {("flipper_length_mm", "PSI"), ("sex", "missing rate increase")}
    ranked = [r["importance"] for r in chart if r["measure"] == "PSI"]
    assert ranked == sorted(ranked, reverse=True) and ranked[0] > 0
    estimates = json.loads((repo / "plots/performance_estimates.json").read_text())
    assert {(r["metric"], r["kind"]) for r in estimates} == {
        (m, k) for m in ("accuracy", "balanced_accuracy") for k in ("estimated", "realized")
    }
    spec = json.loads(run(repo, "dvc", "plots", "show", "--json").stdout)["data"]
    drift_plot = spec["plots/drift.json"][0]["content"]
    assert drift_plot["facet"]["column"]["field"] == "measure"
    import vl_convert

    for plot in ("plots/drift.json", "plots/performance_estimates.json", "plots/reliability.json"):
        content = spec[plot][0]["content"]
        assert content["data"]["values"], plot
        assert vl_convert.vegalite_to_png(vl_spec=content)[:4] == b"\x89PNG"

    (repo / "data/production/week_1.parquet").unlink()
    simulate(repo, "week_2")
    run(repo, "dvc", "repro")
    cleared = verdict(repo)
    # Nothing drifted, nothing to retrain for. (A warning may remain that the estimates
    # are unreliable: that depends on the configured model's calibration.)
    assert cleared["drifted_features"] == {} and cleared["reasons"] == []
    assert all(w.startswith("estimates unreliable") for w in cleared["warnings"])
    assert cleared["verdict"] in ("ok", "warning")
    assert cleared["retrain_recommended"] is False
    assert cleared["performance"]["labelled_rows"] == 400


def test_a_calibrated_model_is_trained_on_held_out_rows_and_rebuilt_to_the_byte(repo):
    clean_workspace(repo)
    option = selected_option(repo, "model")
    set_conf_value(repo, f"conf/model/{option}.yaml", "calibration", "sigmoid")
    try:
        built = run(repo, "dvc", "repro")
        assert "model.calibration sigmoid: fitting on" in built.stderr
        metrics = json.loads((repo / "metrics/evaluate.json").read_text())
        assert 0 <= metrics["expected_calibration_error"] <= 1
        curve = json.loads((repo / "plots/reliability.json").read_text())
        assert sum(point["rows"] for point in curve) == metrics["test_rows"]
        card = json.loads((repo / "reports/model_card.json").read_text())
        target = yaml_value(repo / f"conf/model/{option}.yaml", "_target_")
        assert card["model"]["estimator"] == target.rsplit(".", 1)[1]
        model = (repo / "models/model.skops").read_bytes()
        run(repo, "dvc", "repro", "--force", "--no-run-cache", "--single-item", "train")
        assert (repo / "models/model.skops").read_bytes() == model
    finally:
        clean_workspace(repo)


def yaml_value(path, key):
    import yaml

    return yaml.safe_load(path.read_text())[key]


def test_corrupt_batch_is_one_line_and_empty_batches_are_said(repo):
    for batch in (repo / "data/production").glob("*.parquet"):  # whatever an earlier test left
        batch.unlink()
    run(repo, "dvc", "repro")
    junk = repo / "data/production/junk.parquet"
    junk.write_bytes(b"PAR1 cut short")
    try:
        failed = run(repo, "dvc", "repro", check=False)
        assert failed.returncode != 0
        assert "monitor: error: data/production/junk.parquet: not a readable parquet file" in (
            failed.stderr
        )
        assert "Traceback" not in failed.stderr
    finally:
        junk.unlink()
    import pandas as pd

    pd.DataFrame({"bill_length_mm": pd.Series([], dtype=float)}).to_parquet(
        repo / "data/production/empty.parquet"
    )
    try:
        empty = run(repo, "dvc", "repro", check=False)
        assert "monitor: skipped data/production/empty.parquet: no rows" in empty.stderr
        assert "data/production: every batch is empty" in empty.stderr
    finally:
        (repo / "data/production/empty.parquet").unlink()
    run(repo, "dvc", "repro")


def test_a_batch_of_wrong_types_is_named_and_a_new_class_asks_for_retraining(repo):
    import pandas as pd

    for batch in (repo / "data/production").glob("*.parquet"):  # whatever an earlier test left
        batch.unlink()
    run(repo, "dvc", "repro")
    test = pd.read_parquet(repo / "data/interim/test.parquet")
    committed = (repo / "metrics/monitor.json").read_bytes()
    wrong = repo / "data/production/wrong.parquet"
    test.assign(bill_length_mm="long").to_parquet(wrong)
    try:
        failed = run(repo, "dvc", "repro", check=False)
        assert failed.returncode != 0
        assert "Traceback" not in failed.stderr
        assert (
            "monitor: error: data/production/wrong.parquet: 1 schema check(s) failed:"
            in failed.stderr
        )
        assert "column 'bill_length_mm', check is_number" in failed.stderr
        # DVC removes a stage's outputs before running it: nothing half-written, and the
        # last good summary is in git (metrics are small files in git).
        summary = repo / "metrics/monitor.json"
        assert not summary.exists() or summary.read_bytes() == committed
        run(repo, "git", "checkout", "--", "metrics/monitor.json")
        assert summary.read_bytes() == committed
    finally:
        wrong.unlink()
    # Numbers stored as text are numbers; a class never trained on is reported.
    test["bill_length_mm"] = test["bill_length_mm"].astype("str")
    test.loc[test.index[:5], "species"] = "Emperor"
    test.to_parquet(repo / "data/production/new_class.parquet")
    try:
        run(repo, "dvc", "repro")
        summary = verdict(repo)
        assert summary["performance"]["labels_of_new_classes"] == 5
        assert summary["retrain_recommended"] is True
        assert "5 labelled rows carry a class" in (repo / "reports/monitor.md").read_text()
    finally:
        (repo / "data/production/new_class.parquet").unlink()
    run(repo, "dvc", "repro")
