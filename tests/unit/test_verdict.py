"""The verdict: performance decides retraining (a batch's estimate against the estimate
on the test split, its realized value against the evaluated one), drift only warns,
estimates that cannot be trusted only warn, and every line names its batch or feature."""

from dataclasses import replace

import numpy as np
import pytest
from test_drift import CFG, REFERENCE, SCHEMA, population

from reprolab.monitor.estimation import Estimate, widened
from reprolab.monitor.verdict import estimate_records, monitor_summary, render_markdown


def batch(name, estimated, realized=None):
    found = {"value": estimated, "low": estimated - 0.02, "high": estimated + 0.02}
    return {
        "batch": name,
        "rows": 500,
        "estimated": {"balanced_accuracy": found, "accuracy": found},
        "labelled_rows": 500 if realized is not None else 0,
        "realized": {} if realized is None else {"balanced_accuracy": realized},
    }


def estimates(*batches, unreliable=None, importance=None):
    check = {"estimated": 0.80, "low": 0.78, "high": 0.82, "realized": 0.90}
    return {
        "estimation": {
            "method": "CBPE",
            "metric": "balanced_accuracy",
            "evaluated": 0.90,
            "interval": 0.95,
            "calibration_error": 0.01,
            "test_split_check": {"balanced_accuracy": check, "accuracy": check},
            "unreliable": unreliable,
        },
        "batches": list(batches),
        "importance": importance or {},
    }


def summary_of(found, current=None, cfg=CFG):
    current = population(1000, 4) if current is None else current
    predictions = (REFERENCE["label"].to_numpy(), current["label"].to_numpy())
    return monitor_summary(REFERENCE, current, SCHEMA, predictions, cfg, None, found)


def test_an_estimated_drop_beyond_the_tolerance_recommends_retraining():
    # The test split's estimate is 0.80 (an under-confident model: 0.90 realized); a
    # batch estimated at 0.77 is 3.75% below it: within 5%. At 0.75, 6.25%: retrain.
    result = summary_of(estimates(batch("w1.parquet", 0.77), batch("w2.parquet", 0.75)))
    assert result["verdict"] == "retrain" and result["retrain_recommended"]
    (reason,) = result["reasons"]
    assert reason.startswith("batch w2.parquet: estimated balanced_accuracy 0.7500")
    assert "(0.8000 estimated, 0.9000 evaluated)" in reason
    text = render_markdown(result)
    assert "| w2.parquet | 500 | 0.7500 | 0.7300 - 0.7700 | - |" in text
    assert "Why retrain:" in text


def test_the_tolerance_is_the_configured_one():
    found = estimates(batch("w2.parquet", 0.75))
    assert summary_of(found, cfg=replace(CFG, performance_tolerance=0.1))["verdict"] == "ok"


def test_unreliable_estimates_only_warn_but_realized_drops_retrain():
    note = "the model's expected calibration error on the test split is 0.200"
    result = summary_of(estimates(batch("w2.parquet", 0.70), unreliable=note))
    assert result["verdict"] == "warning" and not result["reasons"]
    assert result["warnings"][0] == f"estimates unreliable: {note}"
    assert result["warnings"][1].startswith("batch w2.parquet: estimated")
    labelled = summary_of(estimates(batch("w3.parquet", 0.80, realized=0.80), unreliable=note))
    assert labelled["verdict"] == "retrain"
    assert labelled["reasons"] == [
        "batch w3.parquet: realized balanced_accuracy 0.8000 on 500 labelled rows is worse "
        "than evaluated 0.9000 by more than 5%"
    ]


def test_drifted_features_are_named_most_important_first():
    from reprolab.monitor.batch import BatchDrift, drifted_batch

    current = drifted_batch(
        REFERENCE, "label", 1000, 7, BatchDrift(shift=[("x", "1.0")], missing=[("y", "0.5")])
    )
    result = summary_of(estimates(importance={"x": 0.01, "y": 0.3, "colour": 0.1}), current)
    assert result["verdict"] == "warning"
    drifted = [w for w in result["warnings"] if w.startswith("feature ")]
    assert drifted[0].startswith("feature y drifted (importance 0.300, rank 1 of 3)")
    assert drifted[1].startswith("feature x drifted (importance 0.010, rank 3 of 3)")
    from reprolab.monitor.verdict import drift_records

    order = [r["feature"] for r in drift_records(result) if r["measure"] == "PSI"]
    assert order == ["y", "colour", "x"]


def test_estimate_records_hold_every_batch_in_order_with_realized_where_labelled():
    result = summary_of(estimates(batch("a.parquet", 0.85), batch("b.parquet", 0.8, 0.79)))
    rows = estimate_records(result)
    assert [(r["batch"], r["position"], r["kind"]) for r in rows if r["metric"] == "accuracy"] == [
        ("a.parquet", 0, "estimated"),
        ("b.parquet", 1, "estimated"),
    ]
    realized = [r for r in rows if r["kind"] == "realized"]
    assert realized == [
        {
            "batch": "b.parquet",
            "position": 1,
            "metric": "balanced_accuracy",
            "kind": "realized",
            "value": 0.79,
            "low": 0.79,
            "high": 0.79,
        }
    ]


@pytest.mark.parametrize("margin", [0.0, 0.01, 0.05])
def test_intervals_are_widened_by_the_estimators_error_in_quadrature(margin):
    found = widened(Estimate(0.8, 0.77, 0.84), margin)
    assert found.value == 0.8
    assert 0.8 - found.low == pytest.approx(np.hypot(0.03, margin))
    assert found.high - 0.8 == pytest.approx(np.hypot(0.04, margin))


def test_an_estimator_off_on_the_test_split_is_named_unreliable():
    from reprolab.monitor.performance import reliability_note

    inside = {"estimated": 0.80, "low": 0.78, "high": 0.82, "realized": 0.81}
    outside = {**inside, "realized": 0.85}
    checks = {"balanced_accuracy": inside}
    assert reliability_note("classification", checks, 0.01, CFG, "balanced_accuracy") is None
    note = reliability_note(
        "classification", {"balanced_accuracy": outside}, 0.01, CFG, "balanced_accuracy"
    )
    assert note.startswith("on the test split the estimated balanced_accuracy is 0.8000")
    assert "outside its interval [0.7800, 0.8200]" in note and "model.calibration" in note
    assert "calibration error" in reliability_note(
        "classification", checks, 0.2, CFG, "balanced_accuracy"
    )
    rmse = {"estimated": 1.0, "low": 0.5, "high": 1.5, "realized": 1.3}
    assert "(23% off > monitor.performance_tolerance" in reliability_note(
        "regression", {"rmse": rmse}, None, CFG, "rmse"
    )


@pytest.mark.parametrize("metric", ["balanced_accuracy", "rmse"])
def test_permutation_importance_finds_the_column_the_model_reads(metric):
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from reprolab.monitor.performance import permutation_importance

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"used": rng.normal(size=600), "ignored": rng.normal(size=600)})
    if metric == "rmse":
        labels = pd.Series(3 * frame["used"] + rng.normal(0, 0.1, 600))
        model = LinearRegression().fit(frame[["used"]].assign(ignored=0.0), labels)
    else:
        labels = pd.Series(np.where(frame["used"] > 0, "yes", "no"))
        model = LogisticRegression().fit(frame.assign(ignored=0.0), labels)
    found = permutation_importance(model, frame, labels, metric, seed=1)
    assert found["used"] > 0.3 and found["ignored"] == 0.0
    assert found == permutation_importance(model, frame, labels, metric, seed=1)
