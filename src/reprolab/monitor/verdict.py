"""The monitoring verdict: drift per feature and in predictions, performance when the
batches carry labels, and whether to retrain. Pure functions; `stages/monitor.py` runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprolab.core.errors import ReprolabError

# Statistics (scipy, scikit-learn) are imported where used: with no production data
# the monitor stage needs none of them and starts at once.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


# Each numeric `monitor` key: (lowest, highest, whole number?).
_BOUNDS = {
    "reference_rows": (1, None, True),
    "bins": (2, 1000, True),
    "psi_threshold": (0, None, False),
    "p_value": (0, 1, False),
    "missing_rate_increase": (0, 1, False),
    "unseen_category_rate": (0, 1, False),
    "prediction_psi_threshold": (0, None, False),
    "min_drifted_features": (1, None, True),
    "performance_tolerance": (0, 1, False),
    "max_calibration_error": (0, 1, False),
    "estimate_samples": (10, 100000, True),
    "estimate_interval": (0.5, 0.999, False),
    "importance_rows": (10, None, True),
}


@dataclass(frozen=True)
class MonitorSettings:
    """The `monitor` section, every value checked: one line naming a wrong one."""

    reference_rows: int
    bins: int
    psi_threshold: float
    p_value: float
    missing_rate_increase: float
    unseen_category_rate: float
    prediction_psi_threshold: float
    min_drifted_features: int
    performance_tolerance: float
    max_calibration_error: float
    estimate_samples: int
    estimate_interval: float
    importance_rows: int
    performance_metric: str = "auto"

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MonitorSettings:
        from reprolab.core.config import number, section  # noqa: PLC0415

        found = section(params, "monitor", {**_BOUNDS, "performance_metric": None})
        checked: dict[str, Any] = {}
        for key, (low, high, whole) in _BOUNDS.items():
            value = number(found[key], f"monitor.{key}", low, high)
            if whole and not float(value).is_integer():
                raise ReprolabError(f"monitor.{key}: found {found[key]!r}; expected a whole number")
            checked[key] = int(value) if whole else value
        metric = found["performance_metric"]
        if metric not in _METRIC_CHOICES:
            raise ReprolabError(
                f"monitor.performance_metric: found {metric!r}; expected one of "
                f"{', '.join(_METRIC_CHOICES)}"
            )
        return cls(**checked, performance_metric=metric)


_METRIC_CHOICES = ("auto", "balanced_accuracy", "accuracy", "rmse", "mae")


def reference_sample(train: Any, limit: int) -> pd.DataFrame:
    """At most `limit` training rows, evenly spaced: drift scores settle long before
    millions of rows, and predicting every training row would cost more than training.
    `train`: a frame, or a parquet table (`ParquetColumns`) that reads only those rows."""
    from reprolab.model.evaluation import evenly_spaced  # noqa: PLC0415

    if not isinstance(limit, int) or limit < 1:
        raise ReprolabError(f"monitor.reference_rows: found {limit!r}; expected a count >= 1")
    return train.take(evenly_spaced(len(train), limit)).reset_index(drop=True)


def monitor_summary(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: dict[str, Any],
    predictions: tuple[np.ndarray, np.ndarray],
    cfg: MonitorSettings,
    performance: dict[str, Any] | None,
    estimates: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything metrics/monitor.json holds. `estimates`: the batches' estimated and
    realized performance, the estimator's check and the features' importance
    (stages/monitor.py); without them, the verdict rests on drift and labels alone."""
    from reprolab.monitor.drift import feature_drift, prediction_drift  # noqa: PLC0415

    features = {}
    for role in ("numeric", "categorical"):
        for column in schema[role]:
            features[column] = feature_drift(reference[column], current[column], role, cfg)
    importance = (estimates or {}).get("importance") or {}
    for column, found in features.items():
        found["importance"] = importance.get(column)
    drifted = {c: f["reasons"] for c, f in features.items() if f["drifted"]}
    prediction = prediction_drift(*predictions, schema["task"], cfg)
    reasons, warnings = _judge(drifted, features, prediction, performance, estimates, cfg)
    verdict = "retrain" if reasons else "warning" if warnings else "ok"
    return {
        "verdict": verdict,
        "retrain_recommended": bool(reasons),
        "reasons": reasons,
        "warnings": warnings,
        "rows_reference": len(reference),
        "rows_current": len(current),
        "drifted_feature_count": len(drifted),
        "drifted_features": drifted,
        "prediction_drift": prediction,
        "performance": performance or {},
        "estimation": (estimates or {}).get("estimation") or {},
        "batches": (estimates or {}).get("batches") or [],
        "features": features,
    }


def _judge(
    drifted: dict[str, list[str]],
    features: dict[str, dict[str, Any]],
    prediction: dict[str, Any],
    performance: dict[str, Any] | None,
    estimates: dict[str, Any] | None,
    cfg: MonitorSettings,
) -> tuple[list[str], list[str]]:
    """Why to retrain (performance, estimated or realized, worse than evaluated beyond
    the tolerance; labels of a class never trained on) and what only warns (drift, and
    estimates that cannot be trusted: their drops warn instead of retraining)."""
    from reprolab.monitor.estimation import worse_by  # noqa: PLC0415

    reasons: list[str] = []
    warnings: list[str] = []
    estimation = (estimates or {}).get("estimation") or {}
    metric, evaluated = estimation.get("metric"), estimation.get("evaluated")
    unreliable = estimation.get("unreliable")
    if unreliable:
        warnings.append(f"estimates unreliable: {unreliable}")
    tolerance = cfg.performance_tolerance
    # An estimated drop is measured from the estimate on the test split, whose realized
    # value is the evaluated one: a bias of the estimator (e.g. an under-confident model)
    # is in both and does not count as a drop.
    baseline = ((estimation.get("test_split_check") or {}).get(metric) or {}).get("estimated")
    for batch in (estimates or {}).get("batches") or []:
        if metric is None or evaluated is None or baseline is None:
            break
        found = batch["estimated"][metric]
        if worse_by(metric, found["value"], baseline) > tolerance:
            line = (
                f"batch {batch['batch']}: estimated {metric} {found['value']:.4f} "
                f"[{found['low']:.4f}, {found['high']:.4f}] is worse than on the test split "
                f"({baseline:.4f} estimated, {evaluated:.4f} evaluated) by more than "
                f"{tolerance:.0%}"
            )
            (warnings if unreliable else reasons).append(line)
        real = batch["realized"].get(metric)
        if real is not None and worse_by(metric, real, evaluated) > tolerance:
            reasons.append(
                f"batch {batch['batch']}: realized {metric} {real:.4f} on "
                f"{batch['labelled_rows']} labelled rows is worse than evaluated "
                f"{evaluated:.4f} by more than {tolerance:.0%}"
            )
    new_classes = (performance or {}).get("labels_of_new_classes", 0)
    if new_classes:
        reasons.append(f"{new_classes} labelled rows carry a class the model was never trained on")
    if len(drifted) >= cfg.min_drifted_features:
        for column in _by_importance(features):
            if column in drifted:
                warnings.append(
                    f"feature {column} drifted{_importance_note(features, column)}: "
                    + "; ".join(drifted[column])
                )
    if prediction.get("drifted"):
        warnings.append(
            f"predictions drifted: PSI {prediction['psi']:.3f} > {cfg.prediction_psi_threshold}"
        )
    return reasons, warnings


def _importance_note(features: dict[str, dict[str, Any]], column: str) -> str:
    importance = features[column].get("importance")
    if importance is None:
        return ""
    rank = _by_importance(features).index(column) + 1
    return f" (importance {importance:.3f}, rank {rank} of {len(features)})"


def _by_importance(features: dict[str, dict[str, Any]]) -> list[str]:
    """Features, most important to the model first (then by PSI, then by name)."""
    return sorted(
        features,
        key=lambda c: (-(features[c].get("importance") or 0.0), -features[c]["psi"], c),
    )


def no_data_summary() -> dict[str, Any]:
    return {
        "verdict": "no production data",
        "retrain_recommended": False,
        "reasons": [],
        "warnings": [],
        "rows_current": 0,
        "drifted_feature_count": 0,
        "drifted_features": {},
        "features": {},
        "prediction_drift": {},
        "performance": {},
        "estimation": {},
        "batches": [],
    }


def _ranked(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    features = summary["features"]
    return [(column, features[column]) for column in _by_importance(features)]


def drift_records(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Plot data: each feature's PSI, missing-rate increase and unseen-category rate,
    each marked drifted or not, so the chart shows every reason a feature drifted.
    Features by their importance to the model, largest first (then by PSI): a drifted
    feature at the top matters, one at the bottom may not."""
    if not summary["features"]:
        return []  # no production data: nothing to plot, and no statistics to import
    from reprolab.monitor.drift import DRIFT_MEASURES  # noqa: PLC0415

    rows = []
    for column, f in _ranked(summary):
        values = (
            f["psi"],
            round(max(f["missing_rate_current"] - f["missing_rate_reference"], 0.0), 6),
            f["unseen_rate"],
        )
        for measure, value in zip(DRIFT_MEASURES, values, strict=True):
            drifted = measure in f.get("drifted_by", [])
            rows.append(
                {
                    "feature": column,
                    "measure": measure,
                    "value": value,
                    "status": "drifted" if drifted else "within threshold",
                    "importance": f.get("importance"),
                }
            )
    return rows


def render_markdown(summary: dict[str, Any]) -> str:
    lines = [
        "# Monitoring report",
        "",
        f"**Verdict: {summary['verdict']}**; retraining recommended: "
        f"**{'yes' if summary['retrain_recommended'] else 'no'}** "
        f"({summary['rows_current']} production rows).",
        "",
    ]
    for title, items in (("Why retrain", summary["reasons"]), ("Warnings", summary["warnings"])):
        if items:
            lines += [f"{title}:", "", *(f"- {item}" for item in items), ""]
    lines += _estimates_table(summary)
    prediction = summary["prediction_drift"]
    if prediction:
        lines += [
            f"Prediction drift: PSI {prediction['psi']:.3f}"
            f"{' (drifted)' if prediction['drifted'] else ''}.",
            "",
        ]
    if summary["performance"]:
        lines += [
            "Performance on the labelled production rows: "
            + ", ".join(
                f"{k} {v:.4f}" for k, v in summary["performance"].items() if isinstance(v, float)
            )
            + ".",
            "",
        ]
    if summary["features"]:
        lines += [
            "Features by importance to the model (permutation importance on the test split):",
            "",
            "| feature | importance | role | PSI | p-value | missing ref → now | unseen "
            "| drifted: why |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for column, f in _ranked(summary):
            why = "; ".join(f["reasons"]) or "-"
            importance = "-" if f.get("importance") is None else f"{f['importance']:.3f}"
            lines.append(
                f"| {column} | {importance} | {f['role']} | {f['psi']:.3f} | {f['p_value']:.2g} | "
                f"{f['missing_rate_reference']:.1%} → {f['missing_rate_current']:.1%} | "
                f"{f['unseen_rate']:.1%} | {why} |"
            )
    # One final newline: the file is committed, and the end-of-file hook checks it.
    return "\n".join(lines).rstrip("\n") + "\n"


def _estimates_table(summary: dict[str, Any]) -> list[str]:
    estimation, batches = summary.get("estimation") or {}, summary.get("batches") or []
    if not estimation or not batches:
        return []
    metric = estimation["metric"]
    check = estimation["test_split_check"][metric]
    lines = [
        f"Estimated {metric} ({estimation['method']}; {estimation['interval']:.0%} interval, "
        "widened by the estimate's error on the test split). "
        f"On the test split: {check['estimated']:.4f} estimated, {check['realized']:.4f} "
        "realized.",
        "",
        "| batch | rows | estimated | interval | realized (labelled rows) |",
        "|---|---|---|---|---|",
    ]
    for batch in batches:
        found = batch["estimated"][metric]
        real = batch["realized"].get(metric)
        realized = "-" if real is None else f"{real:.4f} ({batch['labelled_rows']})"
        lines.append(
            f"| {batch['batch']} | {batch['rows']} | {found['value']:.4f} | "
            f"{found['low']:.4f} - {found['high']:.4f} | {realized} |"
        )
    return [*lines, ""]


def estimate_records(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Plot data: per batch (in file order: over time) and metric, the estimate with its
    interval and, where the batch has labels, the realized value."""
    rows: list[dict[str, Any]] = []
    for position, batch in enumerate(summary.get("batches") or []):
        for metric, found in batch["estimated"].items():
            rows.append(
                {
                    "batch": batch["batch"],
                    "position": position,
                    "metric": metric,
                    "kind": "estimated",
                    **found,
                }
            )
            real = batch["realized"].get(metric)
            if real is not None:
                rows.append(
                    {
                        "batch": batch["batch"],
                        "position": position,
                        "metric": metric,
                        "kind": "realized",
                        "value": real,
                        "low": real,
                        "high": real,
                    }
                )
    return rows


def production_performance(
    current: pd.DataFrame, predicted: np.ndarray, schema: dict[str, Any]
) -> dict[str, Any] | None:
    """Metrics on the production rows that carry a label, if any."""
    from reprolab.model import evaluation  # noqa: PLC0415
    from reprolab.monitor.production import training_classes  # noqa: PLC0415

    target = schema["target"]
    if target not in current.columns or current[target].isna().all():
        return None
    labelled = current[target].notna().to_numpy()
    y_true, predicted = current.loc[labelled, target], predicted[labelled]
    if schema["task"] == "regression":
        return evaluation.regression_metrics(y_true, predicted)
    classes = training_classes(schema)
    return {
        "accuracy": evaluation.label_accuracy(y_true, predicted),
        "labelled_rows": int(labelled.sum()),
        # A class the model was never trained on: it can never predict it.
        "labels_of_new_classes": int((~y_true.isin(classes)).sum()) if classes else 0,
    }
