"""Metrics and plot data for a classifier's predictions on the test split."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from reprolab.core.errors import ReprolabError

# Rounded so that metrics files diff cleanly; six digits is far below any change
# that matters and above floating-point noise between BLAS builds.
DIGITS = 6
# Plot files live in git and are rendered in a browser: their size must not grow with
# the test split. Curves keep at most this many points per class (a line that fine is
# smooth on screen); row-level plots at most this many rows.
MAX_CURVE_POINTS = 200
MAX_PLOT_ROWS = 2000


# The metric every run of a task must have: the task's default primary metric (the
# `ranking` section's `auto`). Undefined, it stops evaluate; any other undefined metric
# is written as null and said in the log.
REQUIRED = {"classification": "balanced_accuracy", "regression": "rmse"}


def undefined_as_null(metrics: dict[str, Any], task: str, test_rows: int) -> list[str]:
    """Replace undefined (NaN, infinite) metrics by None in place and return their names;
    refuse when the task's required metric is one of them, naming why."""
    undefined = [
        name
        for name, value in metrics.items()
        if isinstance(value, float) and not np.isfinite(value)
    ]
    if REQUIRED[task] in undefined:
        raise ReprolabError(
            f"test split: {REQUIRED[task]} undefined on its {test_rows} rows; expected a "
            "larger test split (split.test_size, split.test_from, or more data)"
        )
    for name in undefined:
        metrics[name] = None
    return undefined


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def _curve_classes(y_true: pd.Series, classes: list[Any]) -> list[int]:
    """Which probability columns get a one-vs-rest curve: the positive class when binary;
    never a class with no test rows (or only its rows), whose curve is undefined."""
    columns = [1] if len(classes) == 2 else list(range(len(classes)))
    counts = y_true.value_counts()
    return [k for k in columns if 0 < counts.get(classes[k], 0) < len(y_true)]


def predicted_labels(proba: np.ndarray, classes: list[Any]) -> np.ndarray:
    """The most probable class of each row, as `predict` would return it."""
    return np.asarray(classes, dtype=object)[proba.argmax(axis=1)]


def classification_metrics(
    y_true: pd.Series, proba: np.ndarray, classes: list[Any]
) -> dict[str, Any]:
    """Headline metrics plus precision/recall/F1 for every class."""
    present = set(y_true.unique())
    if len(present) < 2:
        raise ReprolabError(
            f"test split: every one of its {len(y_true)} rows is of class "
            f"{sorted(map(str, present))}; expected rows of at least 2 classes to compare "
            "predictions with (a time split: an earlier split.test_from)"
        )
    # Integer codes: scikit-learn sorts object labels again in every metric (2 s per
    # 250k rows); codes give the same numbers. Labels the model never saw get codes
    # after its classes.
    extra = sorted(present - set(classes), key=str)
    codes = np.asarray(pd.Categorical(y_true, categories=[*classes, *extra]).codes)
    y_pred = proba.argmax(axis=1)
    known = list(range(len(classes)))
    absent = [k for k, cls in enumerate(classes) if cls not in present]
    if len(classes) == 2:
        auc = skm.roc_auc_score(codes == 1, proba[:, 1])
    elif absent:
        # One-vs-rest AUC is undefined for a class with no test rows: the macro average
        # is taken over the classes present (scikit-learn's own average refuses).
        auc = np.mean(
            [skm.roc_auc_score(codes == k, proba[:, k]) for k in known if k not in absent]
        )
    else:
        auc = skm.roc_auc_score(codes, proba, multi_class="ovr", average="macro", labels=known)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        codes, y_pred, labels=known, zero_division=0
    )
    per_class = {
        str(cls): {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
        for cls, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
    }
    # Only said when there are some: the file of a test split with every class keeps
    # its bytes.
    said = {"absent_classes": [str(classes[k]) for k in absent]} if absent else {}
    # The F1 of a class with no test rows is undefined: the macro average leaves it out.
    over = {"labels": [k for k in known if k not in absent]} if absent else {}
    return {
        **said,
        "accuracy": _round(skm.accuracy_score(codes, y_pred)),
        "balanced_accuracy": _round(
            np.mean([recall[k] for k in known if k not in absent])
            if absent  # the mean recall of the classes present (scikit-learn warns)
            else skm.balanced_accuracy_score(codes, y_pred)
        ),
        "f1_macro": _round(skm.f1_score(codes, y_pred, average="macro", zero_division=0, **over)),
        "roc_auc_ovr": _round(auc),
        "log_loss": _round(skm.log_loss(codes, proba, labels=known)),
        "test_rows": len(y_true),
        "per_class": per_class,
    }


def evenly_spaced(count: int, limit: int) -> np.ndarray:
    """At most `limit` evenly spaced indices into `count` items, first and last kept:
    deterministic, so a rebuild writes the same plot bytes."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def confusion_records(y_true: pd.Series, proba: np.ndarray, classes: list[Any]) -> list[dict]:
    """One record per (actual, predicted) cell with its exact count, zeros included: the
    plot shows every count, and the file has classes² records whatever the test size."""
    y_pred = predicted_labels(proba, classes)
    labels = [str(c) for c in classes]
    labels += sorted({str(v) for v in pd.unique(y_true)} - set(labels))
    cells = pd.crosstab(
        pd.Categorical(np.asarray(y_true).astype(str), categories=labels),
        pd.Categorical(y_pred.astype(str), categories=labels),
        dropna=False,
    )
    return [
        {"actual": actual, "predicted": predicted, "count": int(cells.loc[actual, predicted])}
        for actual in labels
        for predicted in labels
    ]


def roc_records(y_true: pd.Series, proba: np.ndarray, classes: list[Any]) -> list[dict]:
    """One-vs-rest ROC curve points, one series per class."""
    records = []
    for column in _curve_classes(y_true, classes):
        fpr, tpr, _ = skm.roc_curve(y_true == classes[column], proba[:, column])
        records += _curve(str(classes[column]), ("fpr", fpr), ("tpr", tpr))
    return records


def precision_recall_records(
    y_true: pd.Series, proba: np.ndarray, classes: list[Any]
) -> list[dict]:
    """One-vs-rest precision-recall curve points, one series per class."""
    records = []
    for column in _curve_classes(y_true, classes):
        precision, recall, _ = skm.precision_recall_curve(
            y_true == classes[column], proba[:, column], drop_intermediate=True
        )
        records += _curve(str(classes[column]), ("recall", recall), ("precision", precision))
    return records


def _curve(label: str, x: tuple[str, np.ndarray], y: tuple[str, np.ndarray]) -> list[dict]:
    """At most MAX_CURVE_POINTS evenly spaced points of one class's curve; `point`
    orders the line (ROC curves have vertical runs at one fpr)."""
    return [
        {"class": label, "point": i, x[0]: _round(x[1][k]), y[0]: _round(y[1][k])}
        for i, k in enumerate(evenly_spaced(len(x[1]), MAX_CURVE_POINTS))
    ]


def label_accuracy(y_true: pd.Series, predicted: np.ndarray) -> float:
    """Share of rows whose predicted label is the true one."""
    return _round((np.asarray(predicted) == y_true.to_numpy()).mean())


def regression_metrics(y_true: pd.Series, predicted: np.ndarray) -> dict[str, Any]:
    """RMSE, MAE and R² of predictions on the test split."""
    y = np.asarray(y_true, dtype="float64")
    return {
        "rmse": _round(np.sqrt(skm.mean_squared_error(y, predicted))),
        "mae": _round(skm.mean_absolute_error(y, predicted)),
        "r2": _round(skm.r2_score(y, predicted)),
        "test_rows": len(y),
    }


def regression_records(y_true: pd.Series, predicted: np.ndarray) -> tuple[list, list]:
    """Predicted-vs-actual points and residuals (actual - predicted), one per test row
    up to MAX_PLOT_ROWS rows, then that many evenly spaced over the test rows."""
    keep = evenly_spaced(len(predicted), MAX_PLOT_ROWS)
    y, predicted = np.asarray(y_true, dtype="float64")[keep], np.asarray(predicted)[keep]
    versus = [
        {"actual": _round(a), "predicted": _round(p)} for a, p in zip(y, predicted, strict=True)
    ]
    residuals = [
        {"predicted": _round(p), "residual": _round(a - p)}
        for a, p in zip(y, predicted, strict=True)
    ]
    return versus, residuals
