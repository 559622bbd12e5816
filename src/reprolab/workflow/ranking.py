"""How experiments are ranked: which metric is primary, and which way is better.

The `ranking` section of conf/config.yaml (`auto` = the task's defaults below), resolved
once by `resolve_ranking`; `sort_key` is the one ordering of runs (`make exps`, promote,
the search's best). Only the commands that compare runs read it (experiments table,
report and gate, promote, search): changing a rule here reruns no stage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from reprolab.core.errors import ReprolabError

DIRECTIONS = ("maximize", "minimize")


# Which way is better, for metrics this module writes (per-class ones by their suffix).
_DIRECTIONS = {
    "accuracy": "maximize",
    "balanced_accuracy": "maximize",
    "f1_macro": "maximize",
    "roc_auc_ovr": "maximize",
    "log_loss": "minimize",
    "expected_calibration_error": "minimize",
    "precision": "maximize",
    "rmse": "minimize",
    "mae": "minimize",
    "r2": "maximize",
    "recall": "maximize",
    "f1": "maximize",
}


# What `auto` means in the `ranking` config section, by task.
TASK_METRICS = {
    "classification": {
        "primary": "balanced_accuracy",
        "secondary": "log_loss",
        "key": ["balanced_accuracy", "accuracy", "f1_macro", "roc_auc_ovr", "log_loss"],
    },
    "regression": {"primary": "rmse", "secondary": "mae", "key": ["rmse", "mae", "r2"]},
}


def task_of(metric_names: set[str]) -> str:
    """Which task a metrics file came from, by the metrics it holds."""
    return "regression" if "rmse" in metric_names else "classification"


def direction_of(metric: str) -> str | None:
    """'maximize', 'minimize', or None for counts such as support and test_rows."""
    return _DIRECTIONS.get(metric.rsplit(".", 1)[-1])


def known_direction(metric: str, key: str) -> str:
    """Which way `metric` is better, or one line naming `key` (where the direction is set):
    guessing `maximize` climbed a loss."""
    direction = direction_of(metric)
    if direction is None:
        known = ", ".join(sorted(_DIRECTIONS))
        raise ReprolabError(
            f"{key}: metric {metric!r} has no known direction; expected 'maximize' or "
            f"'minimize' set there (known: {known})"
        )
    return direction


RANKING_KEYS = (
    "primary_metric",
    "direction",
    "secondary_metric",
    "secondary_direction",
    "key_metrics",
)


@dataclass(frozen=True)
class Ranking:
    """The `ranking` section resolved for the metrics at hand: no `auto` left."""

    primary_metric: str
    direction: str
    secondary_metric: str | None = None  # ties broken by it (None: no tie-break)
    secondary_direction: str = "minimize"
    key_metrics: tuple[str, ...] = ()  # shown first in reports, after the primary


def resolve_ranking(rules: dict[str, Any], metric_names: set[str]) -> Ranking:
    """The `ranking` config section with every `auto` (or absent key) replaced for the
    task at hand; a key that is not a ranking setting is refused."""
    if not isinstance(rules, dict):
        raise ReprolabError(f"ranking: found {rules!r}; expected a mapping of settings")
    unknown = sorted(str(key) for key in rules if key not in RANKING_KEYS)
    if unknown:
        raise ReprolabError(
            f"ranking.{unknown[0]}: not a setting of ranking; expected one of "
            f"{', '.join(RANKING_KEYS)}"
        )
    defaults = TASK_METRICS[task_of(metric_names)]
    resolved = dict(rules)
    for key, default in (
        ("primary_metric", "primary"),
        ("secondary_metric", "secondary"),
        ("key_metrics", "key"),
    ):
        if resolved.get(key, "auto") == "auto":
            resolved[key] = defaults[default]
    for key, metric in (
        ("direction", "primary_metric"),
        ("secondary_direction", "secondary_metric"),
    ):
        if resolved.get(key, "auto") == "auto":
            resolved[key] = known_direction(resolved[metric], f"ranking.{key}")
        require_direction(resolved[key], f"ranking.{key}")
    for key in ("primary_metric", "secondary_metric"):
        if not isinstance(resolved[key], str) or not resolved[key]:
            raise ReprolabError(f"ranking.{key}: found {resolved[key]!r}; expected a metric name")
    if not isinstance(resolved["key_metrics"], list):
        raise ReprolabError(
            f"ranking.key_metrics: found {resolved['key_metrics']!r}; expected auto or a list"
        )
    return Ranking(
        primary_metric=resolved["primary_metric"],
        direction=resolved["direction"],
        secondary_metric=resolved["secondary_metric"],
        secondary_direction=resolved["secondary_direction"],
        key_metrics=tuple(str(m) for m in resolved["key_metrics"]),
    )


def require_direction(direction: Any, key: str) -> str:
    if direction not in DIRECTIONS:
        raise ReprolabError(f"{key}: found {direction!r}; expected 'maximize' or 'minimize'")
    return direction


def sort_key(metrics: dict[str, Any], rules: Ranking) -> list[float]:
    """The one ranking rule (`make exps`, the search summary): ascending is best first,
    by the primary metric, then the secondary one; a run without the metric sorts last."""
    keys = [(rules.primary_metric, rules.direction)]
    if rules.secondary_metric:
        keys.append((rules.secondary_metric, rules.secondary_direction))
    return [_oriented(metrics.get(metric), direction) for metric, direction in keys]


def _oriented(value: Any, direction: str) -> float:
    require_direction(direction, "ranking.direction")
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return math.inf
    return -value if direction == "maximize" else value
