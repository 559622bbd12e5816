"""The monitoring loop on the real pipeline: a drifted batch fires the alert, a clean one
clears it, and `dvc metrics diff` shows the change."""

from __future__ import annotations

import json
import sys

import pytest

from .helpers import run

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
    assert fired["retrain_recommended"] is True
    assert set(fired["drifted_features"]) == {"flipper_length_mm", "sex"}
    assert "retraining recommended: **yes**" in (repo / "reports/monitor.md").read_text()
    assert "drifted_feature_count" in run(repo, "dvc", "metrics", "diff", "--md").stdout
    # The chart shows each reason: a PSI shift for flipper length, missing values for sex.
    chart = json.loads((repo / "plots/drift.json").read_text())
    drifted = {(r["feature"], r["measure"]) for r in chart if r["status"] == "drifted"}
    assert drifted == {("flipper_length_mm", "PSI"), ("sex", "missing rate increase")}
    spec = json.loads(run(repo, "dvc", "plots", "show", "--json").stdout)["data"]
    drift_plot = spec["plots/drift.json"][0]["content"]
    assert drift_plot["facet"]["column"]["field"] == "measure"
    import vl_convert

    assert vl_convert.vegalite_to_png(vl_spec=drift_plot)[:4] == b"\x89PNG"

    (repo / "data/production/week_1.parquet").unlink()
    simulate(repo, "week_2")
    run(repo, "dvc", "repro")
    cleared = verdict(repo)
    assert cleared["verdict"] == "ok", cleared["drifted_features"]
    assert cleared["retrain_recommended"] is False
    assert cleared["performance"]["labelled_rows"] == 400


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
