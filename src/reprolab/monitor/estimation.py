"""Performance estimated without labels, for every production batch.

Classification, confidence-based performance estimation (CBPE): if the probabilities
are calibrated, row i's true class is k with probability p_ik. Summed over the rows the
model predicts as j, they give the expected confusion matrix, and from it the metric
(accuracy, balanced accuracy). The interval is the spread of the metric over label sets
drawn from those probabilities (seeded Monte Carlo): where the realized value falls
when the probabilities hold.

Regression, direct loss estimation (DLE): a second model, fitted on labelled rows the
model did not fit (the test split), predicts each row's squared and absolute error from
its features and the prediction; the root of the mean of the first estimates RMSE, the
mean of the second MAE. The interval: errors drawn as normal with each row's estimated
variance, around the estimate.

Neither holds when the relation between features and target changes (concept shift) or,
for CBPE, when the class balance moves away from training's with features that do not
show it (label shift): the probabilities are then wrong, and so is the estimate.
Pure functions of numpy arrays; scikit-learn only for the loss model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# What is estimated per task; the first is the default metric of the verdict.
ESTIMATED = {"classification": ("balanced_accuracy", "accuracy"), "regression": ("rmse", "mae")}
MAXIMIZED = ("accuracy", "balanced_accuracy")
# A class counts in balanced accuracy when a batch is expected to hold half a row of it
# (scikit-learn averages over the classes present in the labels).
_PRESENT = 0.5


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": _r(self.value), "low": _r(self.low), "high": _r(self.high)}


def _r(value: float) -> float:
    return round(float(value), 6)


def confusion_metrics(confusion: np.ndarray, present: float = 0.5) -> dict[str, np.ndarray]:
    """Accuracy and balanced accuracy of confusion matrices (..., true, predicted):
    one matrix or a stack of them. A class is averaged over when its support exceeds
    `present` - 1/2 (integer counts: at least one row)."""
    confusion = np.asarray(confusion, dtype=float)
    total = confusion.sum(axis=(-2, -1))
    diagonal = np.diagonal(confusion, axis1=-2, axis2=-1)
    support = confusion.sum(axis=-1)
    counted = support >= present
    recall = np.divide(diagonal, support, out=np.zeros_like(diagonal), where=counted)
    return {
        "accuracy": diagonal.sum(axis=-1) / np.maximum(total, 1e-12),
        "balanced_accuracy": recall.sum(axis=-1) / np.maximum(counted.sum(axis=-1), 1),
    }


def expected_confusion(proba: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """E[count of rows of true class k predicted as j] = sum of p_ik over rows predicted j."""
    classes = proba.shape[1]
    confusion = np.zeros((classes, classes))
    for j in range(classes):
        confusion[:, j] = proba[predicted == j].sum(axis=0)
    return confusion


def sampled_confusions(
    proba: np.ndarray, predicted: np.ndarray, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """`samples` confusion matrices, each from one draw of every row's true class."""
    classes = proba.shape[1]
    cumulative = np.cumsum(proba, axis=1)
    cumulative[:, -1] = np.inf  # rounding: every draw falls in some class
    out = np.empty((samples, classes, classes), dtype=np.int64)
    cell = predicted.astype(np.int64)
    for s in range(samples):
        drawn = (rng.random(len(proba))[:, None] >= cumulative).sum(axis=1)
        counts = np.bincount(drawn * classes + cell, minlength=classes * classes)
        out[s] = counts.reshape(classes, classes)
    return out


def _interval(point: float, draws: np.ndarray, level: float) -> Estimate:
    """The draws' spread, placed around the point estimate."""
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    center = float(np.mean(draws))
    return Estimate(point, point - (center - low), point + (high - center))


def widened(estimate: Estimate, margin: float) -> Estimate:
    """The interval widened by the estimator's own error where the truth is known (on
    the test split): the spread of the draws and that error, added in quadrature. The
    draws alone assume the probabilities (or loss models) are right; they are only as
    right as that check shows."""
    down = float(np.hypot(estimate.value - estimate.low, margin))
    up = float(np.hypot(estimate.high - estimate.value, margin))
    return Estimate(estimate.value, estimate.value - down, estimate.value + up)


def cbpe(proba: np.ndarray, samples: int, level: float, seed: int) -> dict[str, Estimate]:
    """Estimated accuracy and balanced accuracy of a batch from the model's
    probabilities (rows x classes, the model's class order), each with an interval."""
    proba = np.asarray(proba, dtype=float)
    predicted = np.argmax(proba, axis=1)
    point = confusion_metrics(expected_confusion(proba, predicted), present=_PRESENT)
    draws = confusion_metrics(sampled_confusions(proba, predicted, samples, _rng(seed)))
    return {m: _interval(float(point[m]), draws[m], level) for m in ESTIMATED["classification"]}


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


_MIN_LOSS_ROWS = 40


@dataclass(frozen=True)
class LossModels:
    """DLE's two models: each row's squared error, and its absolute error."""

    squared: Any
    absolute: Any


def loss_inputs(features: Any, predicted: np.ndarray) -> np.ndarray:
    """What the loss models read: the model's encoded features and its prediction."""
    if hasattr(features, "toarray"):
        features = features.toarray()
    return np.column_stack([np.asarray(features, dtype=float), np.asarray(predicted, float)])


def fit_loss_models(inputs: np.ndarray, errors: np.ndarray, seed: int) -> LossModels:
    """Fit the loss models on rows the model did not fit. Poisson loss: a mean of
    non-negative values, predicted positive."""
    from sklearn.dummy import DummyRegressor  # noqa: PLC0415
    from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: PLC0415

    def model(target: np.ndarray) -> Any:
        # Too few rows to learn where errors are large, or no error at all (Poisson
        # needs a positive total): every row gets the mean loss.
        if len(target) < _MIN_LOSS_ROWS or not target.sum() > 0:
            return DummyRegressor(strategy="mean").fit(inputs, target)
        regressor = HistGradientBoostingRegressor(loss="poisson", max_iter=100, random_state=seed)
        return regressor.fit(inputs, target)

    errors = np.asarray(errors, dtype=float)
    return LossModels(squared=model(errors**2), absolute=model(np.abs(errors)))


def dle(
    models: LossModels, inputs: np.ndarray, samples: int, level: float, seed: int
) -> dict[str, Estimate]:
    """Estimated RMSE and MAE of a batch from its loss models' inputs, with intervals."""
    squared = np.clip(models.squared.predict(inputs), 0, None)
    absolute = np.clip(models.absolute.predict(inputs), 0, None)
    point = {"rmse": float(np.sqrt(squared.mean())), "mae": float(absolute.mean())}
    rng, scale = _rng(seed), np.sqrt(squared)
    rmse, mae = np.empty(samples), np.empty(samples)
    for s in range(samples):
        drawn = rng.standard_normal(len(scale)) * scale
        rmse[s], mae[s] = np.sqrt(np.mean(drawn**2)), np.mean(np.abs(drawn))
    draws = {"rmse": rmse, "mae": mae}
    return {m: _interval(point[m], draws[m], level) for m in ESTIMATED["regression"]}


def realized(task: str, y_true: np.ndarray, predicted: np.ndarray, classes: list[Any]) -> dict:
    """The estimated metrics, computed from labels (the rows that have one)."""
    y_true, predicted = np.asarray(y_true), np.asarray(predicted)
    if task == "regression":
        errors = y_true.astype(float) - predicted.astype(float)
        return {"rmse": _r(np.sqrt(np.mean(errors**2))), "mae": _r(np.mean(np.abs(errors)))}
    position = {c: i for i, c in enumerate(classes)}
    truth = np.array([position.get(c, -1) for c in y_true.tolist()])
    known = truth >= 0  # a class the model never saw cannot be in its confusion matrix
    k = len(classes)
    confusion = np.zeros((k, k))
    np.add.at(confusion, (truth[known], predicted[known]), 1)
    metrics = confusion_metrics(confusion)
    # Rows of an unknown class are all wrong: they count in accuracy, not in recall.
    correct = np.trace(confusion)
    return {
        "balanced_accuracy": _r(float(metrics["balanced_accuracy"])),
        "accuracy": _r(correct / max(len(truth), 1)),
    }


def worse_by(metric: str, value: float, reference: float) -> float:
    """How much worse `value` is than `reference`, as a fraction of it (> 0: worse)."""
    change = (reference - value) if metric in MAXIMIZED else (value - reference)
    return change / max(abs(reference), 1e-12)
