import numpy as np
import pandas as pd
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.model import evaluation

CLASSES = ["a", "b", "c"]


def _proba(predicted: list[str], confidence: float = 0.8) -> np.ndarray:
    rest = (1 - confidence) / 2
    out = np.full((len(predicted), 3), rest)
    for row, label in enumerate(predicted):
        out[row, CLASSES.index(label)] = confidence
    return out


def test_metrics_match_hand_counts():
    y = pd.Series(["a", "a", "b", "b", "c", "c"])
    proba = _proba(["a", "b", "b", "b", "c", "a"])
    m = evaluation.classification_metrics(y, proba, CLASSES)
    assert m["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 1 + 0.5) / 3, abs=1e-6)
    assert m["per_class"]["b"] == {
        "precision": pytest.approx(2 / 3, abs=1e-6),
        "recall": 1.0,
        "f1": pytest.approx(0.8, abs=1e-6),
        "support": 2,
    }
    assert m["log_loss"] == pytest.approx(-np.log(0.8) * 4 / 6 - np.log(0.1) * 2 / 6, abs=1e-6)
    assert m["test_rows"] == 6
    assert 0.5 < m["roc_auc_ovr"] < 1


def test_perfect_predictions_score_one():
    y = pd.Series(CLASSES * 3)
    m = evaluation.classification_metrics(y, _proba(list(y), 0.9), CLASSES)
    assert m["accuracy"] == m["f1_macro"] == m["roc_auc_ovr"] == 1.0


def test_single_class_test_split_is_refused_naming_the_cause():
    with pytest.raises(ReprolabError, match=r"every one of its 2 rows is of class \['a'\]"):
        evaluation.classification_metrics(pd.Series(["a", "a"]), _proba(["a", "a"]), CLASSES)


def test_a_class_absent_from_the_test_split_is_named_and_the_rest_computed():
    """A time split whose test period has no `snow`: metrics over the classes present."""
    import json

    from sklearn import metrics as skm

    y = pd.Series(["a", "a", "b", "b", "b", "a"])
    proba = _proba(["a", "b", "b", "c", "b", "a"])
    m = evaluation.classification_metrics(y, proba, CLASSES)
    assert m["absent_classes"] == ["c"]
    assert evaluation.undefined_as_null(m, "classification", len(y)) == []
    json.dumps(m, allow_nan=False)  # what write_json needs
    per_present = [skm.roc_auc_score(y == c, proba[:, k]) for k, c in enumerate(CLASSES[:2])]
    assert m["roc_auc_ovr"] == pytest.approx(np.mean(per_present), abs=1e-6)
    assert m["balanced_accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert m["per_class"]["c"]["support"] == 0
    # With every class present the file has no such key (its bytes are unchanged).
    assert "absent_classes" not in evaluation.classification_metrics(
        pd.Series(CLASSES * 2), _proba(CLASSES * 2), CLASSES
    )


def test_an_undefined_metric_is_null_unless_it_is_the_required_one():
    metrics = {"rmse": 1.5, "mae": 1.0, "r2": float("nan"), "test_rows": 1}
    assert evaluation.undefined_as_null(metrics, "regression", 1) == ["r2"]
    assert metrics["r2"] is None
    with pytest.raises(ReprolabError, match=r"^test split: rmse undefined on its 1 rows"):
        evaluation.undefined_as_null({"rmse": float("nan")}, "regression", 1)


def test_curves_have_one_series_per_class_and_end_at_corners():
    y = pd.Series(["a", "a", "b", "b", "c", "c"])
    proba = _proba(["a", "b", "b", "b", "c", "a"])
    roc = pd.DataFrame(evaluation.roc_records(y, proba, CLASSES))
    assert sorted(roc["class"].unique()) == CLASSES
    assert (roc.groupby("class")["tpr"].max() == 1.0).all()
    pr = pd.DataFrame(evaluation.precision_recall_records(y, proba, CLASSES))
    assert set(pr.columns) == {"class", "point", "precision", "recall"}
    confusion = evaluation.confusion_records(y, proba, CLASSES)
    assert confusion[1] == {"actual": "a", "predicted": "b", "count": 1}


def test_binary_curves_follow_the_positive_class_only():
    y = pd.Series([0, 1, 0, 1])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    roc = evaluation.roc_records(y, proba, [0, 1])
    assert {r["class"] for r in roc} == {"1"}
    assert evaluation.classification_metrics(y, proba, [0, 1])["roc_auc_ovr"] == 1.0


def _large_test_split(rows: int = 60_000):
    rng = np.random.default_rng(0)
    y = pd.Series(rng.choice(CLASSES, rows, p=[0.7, 0.2, 0.1]))
    proba = rng.dirichlet([1, 1, 1], rows)
    # Informative enough to give curves of many distinct thresholds.
    proba[np.arange(rows), y.map(CLASSES.index)] += 0.5
    return y, proba / proba.sum(axis=1, keepdims=True)


def test_plot_data_size_does_not_grow_with_the_test_split():
    y, proba = _large_test_split()
    confusion = pd.DataFrame(evaluation.confusion_records(y, proba, CLASSES))
    assert len(confusion) == len(CLASSES) ** 2  # one record per cell, with its exact count
    full = pd.crosstab(y, evaluation.predicted_labels(proba, CLASSES))
    kept = confusion.pivot(index="actual", columns="predicted", values="count")
    assert (kept.loc[full.index, full.columns].to_numpy() == full.to_numpy()).all()
    assert confusion["count"].sum() == len(y)
    for records in (
        evaluation.roc_records(y, proba, CLASSES),
        evaluation.precision_recall_records(y, proba, CLASSES),
    ):
        per_class = pd.DataFrame(records).groupby("class")
        assert per_class.size().max() <= evaluation.MAX_CURVE_POINTS
        assert (per_class["point"].diff().dropna() == 1).all()
    roc = pd.DataFrame(evaluation.roc_records(y, proba, CLASSES)).groupby("class")
    # The thinned curve still runs from corner to corner.
    assert (roc.first()[["fpr", "tpr"]] == 0).all().all()
    assert (roc.last()[["fpr", "tpr"]] == 1).all().all()


def test_regression_plots_are_capped_to_evenly_spaced_rows():
    y = pd.Series(np.arange(10_000, dtype="float64"))
    versus, residuals = evaluation.regression_records(y, y.to_numpy() + 1.0)
    assert len(versus) == len(residuals) == evaluation.MAX_PLOT_ROWS
    assert versus[0]["actual"] == 0.0 and versus[-1]["actual"] == 9_999.0
    assert {r["residual"] for r in residuals} == {-1.0}
