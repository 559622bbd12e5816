"""Calibrated probabilities: a classifier calibrated on training rows it did not fit
(`model.calibration`: none | isotonic | sigmoid), and how well a model's probabilities
are calibrated (expected calibration error and the reliability curve).

Estimating performance without labels (monitor/estimation.py) takes the probabilities
at their word: a model that says 0.9 must be right nine times in ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reprolab.core.errors import ReprolabError

METHODS = ("none", "isotonic", "sigmoid")
# The `model` keys that configure calibration, not the estimator's own arguments.
CALIBRATION_KEYS = ("calibration", "calibration_holdout")
DEFAULT_HOLDOUT = 0.2
# Equal-width confidence bins of the reliability curve and of the calibration error.
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationSettings:
    """`model.calibration` and `model.calibration_holdout` (the share of training rows
    held out of the fit to calibrate on), checked."""

    method: str
    holdout: float

    @property
    def enabled(self) -> bool:
        return self.method != "none"

    @classmethod
    def from_model(cls, model: dict[str, Any], task: str) -> CalibrationSettings:
        method = model.get("calibration", "none")
        if method is None:
            method = "none"
        if method not in METHODS:
            raise ReprolabError(
                f"model.calibration: found {method!r}; expected one of {', '.join(METHODS)}"
            )
        if method != "none" and task == "regression":
            raise ReprolabError(
                f"model.calibration: found {method!r} but the task is regression; expected "
                "none (calibration is of a classifier's probabilities)"
            )
        holdout = model.get("calibration_holdout", DEFAULT_HOLDOUT)
        if isinstance(holdout, bool) or not isinstance(holdout, int | float):
            holdout = -1.0
        if not 0 < holdout < 1:
            raise ReprolabError(
                f"model.calibration_holdout: found {model.get('calibration_holdout')!r}; "
                "expected a share of the training rows in (0, 1), e.g. 0.2"
            )
        return cls(method=method, holdout=float(holdout))


def estimator_arguments(model: dict[str, Any]) -> dict[str, Any]:
    """The `model` section without the calibration keys: what the estimator is built from."""
    return {key: value for key, value in model.items() if key not in CALIBRATION_KEYS}


def holdout_rows(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions to fit on and to calibrate on: a stratified, seeded split of the
    training rows, each part in file order."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    values, counts = np.unique(labels, return_counts=True)
    if (counts < 2).any():
        rare = [str(v) for v in values[counts < 2]]
        raise ReprolabError(
            f"model.calibration: class(es) {rare} have a single training row; expected at "
            "least 2 per class to hold some out for calibration (or model.calibration: none)"
        )
    held_count = round(share * len(labels))
    if held_count < len(values) or len(labels) - held_count < len(values):
        raise ReprolabError(
            f"model.calibration_holdout: {share} of {len(labels)} training rows leaves "
            f"{held_count} to calibrate on and {len(labels) - held_count} to fit; expected at "
            f"least one row per class ({len(values)}) in each"
        )
    fit, held = train_test_split(
        np.arange(len(labels)), test_size=held_count, stratify=labels, random_state=seed
    )
    return np.sort(fit), np.sort(held)


def calibrated(fitted: Any, features: Any, labels: np.ndarray, method: str) -> Any:
    """The fitted classifier, frozen, with its probabilities calibrated on
    (`features`, `labels`): rows it was not fitted on."""
    from sklearn.calibration import CalibratedClassifierCV  # noqa: PLC0415
    from sklearn.frozen import FrozenEstimator  # noqa: PLC0415

    return CalibratedClassifierCV(FrozenEstimator(fitted), method=method).fit(features, labels)


def top_label_confidence(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's predicted class position (the most probable; the first on a tie, as
    `predict` chooses) and the probability the model gives it."""
    predicted = np.argmax(proba, axis=1)
    return predicted, proba[np.arange(len(proba)), predicted]


def reliability(
    y_true: Any, proba: np.ndarray, classes: list[Any], bins: int = CALIBRATION_BINS
) -> tuple[float, list[dict[str, Any]]]:
    """The expected calibration error (top label, equal-width bins: the share of rows in
    a bin times |accuracy - mean confidence|, summed) and the reliability curve's
    points, one per non-empty bin."""
    predicted, confidence = top_label_confidence(np.asarray(proba, dtype=float))
    correct = np.asarray(classes, dtype=object)[predicted] == np.asarray(y_true, dtype=object)
    # Bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 goes
    # to the first bin.
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    error, records = 0.0, []
    for b in range(bins):
        inside = which == b
        rows = int(inside.sum())
        if not rows:
            continue
        mean_confidence = float(confidence[inside].mean())
        accuracy = float(correct[inside].mean())
        error += rows / len(confidence) * abs(accuracy - mean_confidence)
        records.append(
            {
                "bin": f"{b / bins:g}-{(b + 1) / bins:g}",
                "confidence": round(mean_confidence, 6),
                "accuracy": round(accuracy, 6),
                "rows": rows,
            }
        )
    return round(error, 6), records


def fit_calibrated(
    estimator: Any,
    matrix: Any,
    labels: np.ndarray,
    settings: CalibrationSettings,
    seed: int,
    fit: Any,
) -> Any:
    """Fit `estimator` on all training rows but a held-out share, then calibrate its
    probabilities on that share. `fit(estimator, rows, labels)` fits in place."""
    from reprolab.core.files import log  # noqa: PLC0415

    fit_rows, held_rows = holdout_rows(labels, settings.holdout, seed)
    log.info(
        "model.calibration %s: fitting on %d rows, calibrating on %d held-out rows",
        settings.method,
        len(fit_rows),
        len(held_rows),
    )
    fit(estimator, matrix[fit_rows], labels[fit_rows])
    return calibrated(estimator, matrix[held_rows], labels[held_rows], settings.method)
