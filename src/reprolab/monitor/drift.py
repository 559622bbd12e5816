"""Statistical drift between a reference sample (training data) and a current one.

Per feature: the population stability index (PSI) and a two-sample test
(Kolmogorov-Smirnov for numbers, chi-square for categories), the change in the
share of missing values, and the share of categories never seen in training. A
feature drifts when its PSI and its test both say so (a large sample makes any tiny
shift "significant"; a small one makes PSI noisy), or when missing or unseen values
rise beyond their thresholds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from reprolab.monitor.verdict import MonitorSettings

EPSILON = 1e-4  # floor for empty bins: PSI is a sum of log ratios


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index between two distributions over the same bins."""
    ref = np.clip(reference / max(reference.sum(), 1), EPSILON, None)
    cur = np.clip(current / max(current.sum(), 1), EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_counts(reference: pd.Series, current: pd.Series, bins: int) -> tuple:
    ref, cur = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    return np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]


def category_counts(reference: pd.Series, current: pd.Series) -> tuple:
    # From the distinct values: iterating a million rows of text makes a Python string
    # per row (10 s for 5 columns at 1M production rows).
    levels = sorted(set(reference.dropna().unique()) | set(current.dropna().unique()), key=str)
    ref = reference.value_counts().reindex(levels, fill_value=0).to_numpy()
    cur = current.value_counts().reindex(levels, fill_value=0).to_numpy()
    return ref, cur


# The three ways a feature drifts, as the drift chart names them.
DRIFT_MEASURES = ("PSI", "missing rate increase", "unseen category rate")


def feature_drift(
    reference: pd.Series, current: pd.Series, role: str, cfg: MonitorSettings
) -> dict[str, Any]:
    """Scores and verdict for one feature; `reasons` says why it drifted."""
    missing_ref, missing_cur = float(reference.isna().mean()), float(current.isna().mean())
    result: dict[str, Any] = {
        "role": role,
        "missing_rate_reference": round(missing_ref, 6),
        "missing_rate_current": round(missing_cur, 6),
    }
    ref_values, cur_values = reference.dropna(), current.dropna()
    if ref_values.empty or cur_values.empty:
        result.update(psi=0.0, p_value=1.0, unseen_rate=0.0)
    elif role == "numeric":
        counts = numeric_counts(reference, current, cfg.bins)
        result["psi"] = round(psi(*counts), 6)
        result["p_value"] = round(float(stats.ks_2samp(ref_values, cur_values).pvalue), 6)
        result["unseen_rate"] = 0.0
    else:
        counts = category_counts(reference, current)
        result["psi"] = round(psi(*counts), 6)
        table = np.vstack(counts)
        table = table[:, table.sum(axis=0) > 0]
        p = stats.chi2_contingency(table).pvalue if table.shape[1] > 1 else 1.0
        result["p_value"] = round(float(p), 6)
        result["unseen_rate"] = round(float((~cur_values.isin(set(ref_values))).mean()), 6)
    reasons, drifted_by = [], []
    if result["psi"] > cfg.psi_threshold and result["p_value"] < cfg.p_value:
        test = "KS" if role == "numeric" else "chi-square"
        reasons.append(
            f"PSI {result['psi']:.3f} > {cfg.psi_threshold} and {test} "
            f"p={result['p_value']:.2g} < {cfg.p_value}"
        )
        drifted_by.append(DRIFT_MEASURES[0])
    if missing_cur - missing_ref > cfg.missing_rate_increase:
        reasons.append(f"missing rate {missing_ref:.1%} -> {missing_cur:.1%}")
        drifted_by.append(DRIFT_MEASURES[1])
    if result["unseen_rate"] > cfg.unseen_category_rate:
        reasons.append(f"{result['unseen_rate']:.1%} unseen categories")
        drifted_by.append(DRIFT_MEASURES[2])
    result["drifted"] = bool(reasons)
    result["reasons"] = reasons
    result["drifted_by"] = drifted_by
    return result


def prediction_drift(
    reference: np.ndarray, current: np.ndarray, task: str, cfg: MonitorSettings
) -> dict[str, Any]:
    """PSI between the model's predictions on the reference and on the current data."""
    ref, cur = pd.Series(reference), pd.Series(current)
    counts = (
        category_counts(ref, cur)
        if task == "classification"
        else numeric_counts(ref, cur, cfg.bins)
    )
    score = round(psi(*counts), 6)
    return {"psi": score, "drifted": score > cfg.prediction_psi_threshold}
