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


# Each `monitor` key: (lowest, highest, whole number?).
_BOUNDS = {
    "reference_rows": (1, None, True),
    "bins": (2, 1000, True),
    "psi_threshold": (0, None, False),
    "p_value": (0, 1, False),
    "missing_rate_increase": (0, 1, False),
    "unseen_category_rate": (0, 1, False),
    "prediction_psi_threshold": (0, None, False),
    "min_drifted_features": (1, None, True),
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

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MonitorSettings:
        from reprolab.core.config import number, section  # noqa: PLC0415

        found = section(params, "monitor", _BOUNDS)
        checked: dict[str, Any] = {}
        for key, (low, high, whole) in _BOUNDS.items():
            value = number(found[key], f"monitor.{key}", low, high)
            if whole and not float(value).is_integer():
                raise ReprolabError(f"monitor.{key}: found {found[key]!r}; expected a whole number")
            checked[key] = int(value) if whole else value
        return cls(**checked)


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
) -> dict[str, Any]:
    """Everything metrics/monitor.json holds."""
    from reprolab.monitor.drift import feature_drift, prediction_drift  # noqa: PLC0415

    features = {}
    for role in ("numeric", "categorical"):
        for column in schema[role]:
            features[column] = feature_drift(reference[column], current[column], role, cfg)
    drifted = {c: f["reasons"] for c, f in features.items() if f["drifted"]}
    prediction = prediction_drift(*predictions, schema["task"], cfg)
    new_classes = (performance or {}).get("labels_of_new_classes", 0) > 0
    retrain = len(drifted) >= cfg.min_drifted_features or prediction["drifted"] or new_classes
    return {
        "verdict": "drift" if retrain else "ok",
        "retrain_recommended": retrain,
        "rows_reference": len(reference),
        "rows_current": len(current),
        "drifted_feature_count": len(drifted),
        "drifted_features": drifted,
        "prediction_drift": prediction,
        "performance": performance or {},
        "features": features,
    }


def no_data_summary() -> dict[str, Any]:
    return {
        "verdict": "no production data",
        "retrain_recommended": False,
        "rows_current": 0,
        "drifted_feature_count": 0,
        "drifted_features": {},
        "features": {},
        "prediction_drift": {},
        "performance": {},
    }


def _by_psi(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(summary["features"].items(), key=lambda item: (-item[1]["psi"], item[0]))


def drift_records(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Plot data: each feature's PSI, missing-rate increase and unseen-category rate,
    each marked drifted or not, so the chart shows every reason a feature drifted.
    Features by PSI, largest first."""
    if not summary["features"]:
        return []  # no production data: nothing to plot, and no statistics to import
    from reprolab.monitor.drift import DRIFT_MEASURES  # noqa: PLC0415

    rows = []
    for column, f in _by_psi(summary):
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
        if summary["performance"].get("labels_of_new_classes"):
            lines += [
                f"{summary['performance']['labels_of_new_classes']} labelled rows carry a class "
                "the model was never trained on: retraining is recommended.",
                "",
            ]
    if summary["features"]:
        lines += [
            "| feature | role | PSI | p-value | missing ref → now | unseen | drifted: why |",
            "|---|---|---|---|---|---|---|",
        ]
        for column, f in _by_psi(summary):
            why = "; ".join(f["reasons"]) or "-"
            lines.append(
                f"| {column} | {f['role']} | {f['psi']:.3f} | {f['p_value']:.2g} | "
                f"{f['missing_rate_reference']:.1%} → {f['missing_rate_current']:.1%} | "
                f"{f['unseen_rate']:.1%} | {why} |"
            )
    # One final newline: the file is committed, and the end-of-file hook checks it.
    return "\n".join(lines).rstrip("\n") + "\n"


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
