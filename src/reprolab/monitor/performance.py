"""Performance per production batch: estimated for every batch (monitor/estimation.py),
realized where the batch carries labels; whether the estimates can be trusted (checked
on the test split, labelled rows the model did not fit); and each feature's importance
to the model, which ranks the drifted ones. Pure functions; `stages/monitor.py` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from reprolab.core.errors import ReprolabError
from reprolab.monitor import estimation

if TYPE_CHECKING:
    import pandas as pd

    from reprolab.monitor.verdict import MonitorSettings

IMPORTANCE_REPEATS = 3


def performance_metric(configured: str, task: str) -> str:
    """`monitor.performance_metric`, `auto` resolved: the task's first estimated metric."""
    choices = estimation.ESTIMATED[task]
    metric = choices[0] if configured == "auto" else configured
    if metric not in choices:
        raise ReprolabError(
            f"monitor.performance_metric: found {configured!r} for {task}; expected auto or "
            f"one of {', '.join(choices)} (the metrics estimated without labels)"
        )
    return metric


@dataclass(frozen=True)
class Outputs:
    """The model's outputs on some rows: class probabilities (classification, in the
    model's class order) or predictions (regression)."""

    task: str
    values: np.ndarray
    classes: tuple[Any, ...] = ()

    def predicted(self) -> np.ndarray:
        """Predicted labels (classification: the most probable class) or values."""
        if self.task == "regression":
            return self.values
        return np.asarray(self.classes, dtype=object)[np.argmax(self.values, axis=1)]


@dataclass(frozen=True)
class Estimator:
    """What estimates a batch's performance: CBPE from the probabilities, or DLE's loss
    models; and, per metric, how far off it was on the test split (`margins`), by which
    every interval is widened."""

    task: str
    samples: int
    level: float
    seed: int
    loss_models: estimation.LossModels | None = None
    margins: tuple[tuple[str, float], ...] = ()

    def estimate(self, outputs: Outputs, loss_inputs: np.ndarray | None) -> dict[str, Any]:
        if self.task == "classification":
            found = estimation.cbpe(outputs.values, self.samples, self.level, self.seed)
        else:
            assert self.loss_models is not None and loss_inputs is not None
            found = estimation.dle(
                self.loss_models, loss_inputs, self.samples, self.level, self.seed
            )
        margins = dict(self.margins)
        return {
            metric: estimation.widened(estimate, margins.get(metric, 0.0)).as_dict()
            for metric, estimate in found.items()
        }

    def with_margins(self, check: dict[str, dict[str, float]]) -> Estimator:
        """This estimator, its intervals widened by the errors of `check`."""
        margins = tuple((m, abs(c["estimated"] - c["realized"])) for m, c in check.items())
        return replace(self, margins=margins)


def realized_metrics(labels: pd.Series, outputs: Outputs) -> tuple[dict[str, float], int]:
    """The estimated metrics computed on the rows that carry a label, and their count."""
    labelled = labels.notna().to_numpy()
    if not labelled.any():
        return {}, 0
    if outputs.task == "regression":
        predicted = outputs.values[labelled]
    else:
        predicted = np.argmax(outputs.values[labelled], axis=1)
    found = estimation.realized(
        outputs.task, labels[labelled].to_numpy(), predicted, list(outputs.classes)
    )
    return found, int(labelled.sum())


def batch_record(
    name: str,
    labels: pd.Series | None,
    outputs: Outputs,
    estimator: Estimator,
    loss_inputs: np.ndarray | None,
) -> dict[str, Any]:
    """One batch's line in metrics/monitor.json."""
    record: dict[str, Any] = {
        "batch": name,
        "rows": len(outputs.values),
        "estimated": estimator.estimate(outputs, loss_inputs),
    }
    found, count = realized_metrics(labels, outputs) if labels is not None else ({}, 0)
    record["labelled_rows"] = count
    record["realized"] = found
    return record


def reference_check(
    labels: pd.Series, outputs: Outputs, estimator: Estimator
) -> dict[str, dict[str, float]]:
    """Per metric, the estimate against the realized value on the test split's rows:
    how far the estimator is off where nothing has shifted."""
    found = batch_record("test split", labels, outputs, estimator, None)
    return {
        metric: {**_check(estimate), "realized": found["realized"][metric]}
        for metric, estimate in found["estimated"].items()
    }


def _check(estimate: dict[str, float]) -> dict[str, float]:
    return {"estimated": estimate["value"], "low": estimate["low"], "high": estimate["high"]}


def cross_fitted_check(
    inputs: np.ndarray, errors: np.ndarray, estimator: Estimator
) -> dict[str, dict[str, float]]:
    """DLE on the test split, honestly: loss models fitted on half its rows estimate
    the other half (alternate rows), whose realized value is known."""
    fit, held = slice(0, None, 2), slice(1, None, 2)
    models = estimation.fit_loss_models(inputs[fit], errors[fit], estimator.seed)
    found = estimation.dle(models, inputs[held], estimator.samples, estimator.level, estimator.seed)
    truth = estimation.realized("regression", errors[held], np.zeros(len(errors[held])), [])
    return {
        metric: {**_check(estimate.as_dict()), "realized": truth[metric]}
        for metric, estimate in found.items()
    }


def reliability_note(
    task: str,
    checks: dict[str, dict[str, float]],
    calibration_error: float | None,
    cfg: MonitorSettings,
    metric: str,
) -> str | None:
    """Why the estimates cannot be trusted, or None. On the test split, where the truth
    is known: the realized value outside the estimate's own interval (the estimator is
    off by more than chance explains: over- or under-confident probabilities, loss
    models that miss); for a classifier, a calibration error above
    monitor.max_calibration_error; for loss models, a miss by more than
    monitor.performance_tolerance."""
    check = checks[metric]
    fix = "model.calibration=isotonic" if task == "classification" else "more test rows"
    if not check["low"] <= check["realized"] <= check["high"]:
        return (
            f"on the test split the estimated {metric} is {check['estimated']:.4f} against "
            f"{check['realized']:.4f} realized, outside its interval [{check['low']:.4f}, "
            f"{check['high']:.4f}]: the estimates are biased (try {fix})"
        )
    if task == "classification":
        if calibration_error is not None and calibration_error > cfg.max_calibration_error:
            return (
                f"the model's expected calibration error on the test split is "
                f"{calibration_error:.3f} > monitor.max_calibration_error "
                f"{cfg.max_calibration_error}: its probabilities, and so the estimates, are "
                f"off (try {fix})"
            )
        return None
    off = abs(check["estimated"] - check["realized"]) / max(abs(check["realized"]), 1e-12)
    if off > cfg.performance_tolerance:
        return (
            f"the loss models' {metric} on held-out test rows is {check['estimated']:.4g} "
            f"against {check['realized']:.4g} realized ({off:.0%} off > "
            f"monitor.performance_tolerance {cfg.performance_tolerance})"
        )
    return None


def permutation_importance(
    model: Any, frame: pd.DataFrame, labels: pd.Series, metric: str, seed: int
) -> dict[str, float]:
    """Each input column's importance to the model: how much the metric worsens when the
    column's values are shuffled (labelled test rows; seeded; the mean of
    IMPORTANCE_REPEATS shuffles), clipped at 0. All columns of one repeat are predicted
    in one call: the pipeline's per-call cost, not its per-row cost, dominates small
    samples (scikit-learn's permutation_importance predicts once per column and repeat:
    9 s against about 1 s here for 25 columns on 2,000 rows)."""
    import pandas as pd  # noqa: PLC0415

    labelled = labels.notna().to_numpy()
    if labelled.sum() < 2:
        return dict.fromkeys(frame.columns, 0.0)
    rows = frame[labelled].reset_index(drop=True)
    truth = labels[labelled].to_numpy()
    base = _score(metric, truth, model.predict(rows))
    rng = np.random.default_rng(seed)
    losses = np.zeros(len(rows.columns))
    for _ in range(IMPORTANCE_REPEATS):
        shuffled = []
        for column in rows.columns:
            copy = rows.copy()
            # A Series keeps the column's dtype (categories stay categories).
            copy[column] = rows[column].iloc[rng.permutation(len(rows))].reset_index(drop=True)
            shuffled.append(copy)
        predicted = model.predict(pd.concat(shuffled, ignore_index=True))
        for index, part in enumerate(np.split(np.asarray(predicted), len(rows.columns))):
            losses[index] += base - _score(metric, truth, part)
    return {
        column: round(max(float(loss) / IMPORTANCE_REPEATS, 0.0), 6)
        for column, loss in zip(rows.columns, losses, strict=True)
    }


def _score(metric: str, truth: np.ndarray, predicted: np.ndarray) -> float:
    """The metric, higher is better (errors negated)."""
    from sklearn import metrics  # noqa: PLC0415

    if metric == "rmse":
        return -float(metrics.root_mean_squared_error(truth, predicted))
    if metric == "mae":
        return -float(metrics.mean_absolute_error(truth, predicted))
    if metric == "accuracy":
        return float(metrics.accuracy_score(truth.astype(str), np.asarray(predicted).astype(str)))
    return float(
        metrics.balanced_accuracy_score(truth.astype(str), np.asarray(predicted).astype(str))
    )
