"""The merge gate over two revisions: metric deltas, changed params and the verdict.

Pure functions over what `dvc metrics diff --json` and `dvc params diff --json` print;
whether two revisions may be compared at all is `comparability`'s, and the PR report
that shows all this is `report`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from reprolab.core.config import number, section
from reprolab.core.errors import ReprolabError
from reprolab.workflow.ranking import Ranking, require_direction


@dataclass(frozen=True)
class MetricDelta:
    name: str
    base: float | None
    new: float | None
    direction: str | None  # "maximize" | "minimize" | None (no better or worse)

    @property
    def change(self) -> float | None:
        if self.base is None or self.new is None:
            return None
        return self.new - self.base

    @property
    def relative(self) -> float | None:
        if self.change is None or not self.base:
            return None
        return self.change / abs(self.base)

    @property
    def verdict(self) -> str:
        """✅ better, ❌ worse, ⚪ unchanged, ❔ not comparable (or no direction)."""
        if self.change is None:
            return "❔"
        if self.change == 0:
            return "⚪"
        if self.direction is None:
            return "🔀"
        better = self.change > 0 if self.direction == "maximize" else self.change < 0
        return "✅" if better else "❌"


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def metric_deltas(
    metrics_diff: dict[str, Any], rules: Ranking, directions: dict[str, str | None]
) -> list[MetricDelta]:
    """Primary metric first, then the key metrics, then every other metric by name."""
    flat: dict[str, dict[str, Any]] = {}
    for per_file in metrics_diff.values():
        flat.update(per_file)
    primary = rules.primary_metric
    order = [primary, *(m for m in rules.key_metrics if m != primary)]
    order += sorted(k for k in flat if k not in order)
    return [
        MetricDelta(
            name,
            _number(flat[name].get("old")),
            _number(flat[name].get("new")),
            rules.direction if name == primary else directions.get(name),
        )
        for name in order
        if name in flat
    ]


class _Absent:
    """A param that one revision does not have (not the same as a `null` value)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


def changed_params(
    params_diff: dict[str, Any], base_keys: set[str], new_keys: set[str]
) -> list[tuple[str, Any, Any]]:
    """(key, base value, new value) for every param that differs, sorted by key; a key
    one revision lacks (not among its flattened `*_keys`) has ABSENT there: `dvc params
    diff` prints null both for a missing key and for a `null` value."""
    rows = []
    for per_file in params_diff.values():
        for key, change in per_file.items():
            old, new = change.get("old"), change.get("new")
            rows.append(
                (
                    key,
                    ABSENT if old is None and key not in base_keys else old,
                    ABSENT if new is None and key not in new_keys else new,
                )
            )
    return sorted(rows, key=lambda row: row[0])


@dataclass(frozen=True)
class GateSettings:
    """The `gate` section, checked once: floors/ceilings by metric, the regression
    allowed against the champion, and whether incomparable runs may pass."""

    thresholds: dict[str, float]
    max_relative_regression: float
    allow_incomparable: bool

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GateSettings:
        found = section(params, "gate", ("thresholds", "max_relative_regression",
                                         "allow_incomparable"))  # fmt: skip
        thresholds = found["thresholds"] or {}
        if not isinstance(thresholds, dict):
            raise ReprolabError(
                f"gate.thresholds: found {thresholds!r}; expected a mapping of metric: value"
            )
        checked = {
            str(name): number(value, f"gate.thresholds.{name}")
            for name, value in thresholds.items()
        }
        tolerance = number(found["max_relative_regression"], "gate.max_relative_regression", 0, 1e9)
        allow = found["allow_incomparable"]
        if not isinstance(allow, bool):
            # `bool("false")` is True: a quoted value would have let every run through.
            raise ReprolabError(f"gate.allow_incomparable: found {allow!r}; expected true or false")
        return cls(checked, tolerance, allow)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str


def gate(delta: MetricDelta, settings: GateSettings, base_rev: str) -> Verdict:
    """Is the challenger good enough to merge? One line says why, naming the values."""
    name, direction = delta.name, delta.direction
    require_direction(direction, "ranking.direction")
    threshold = settings.thresholds.get(name)
    tolerance = settings.max_relative_regression
    new, base = delta.new, delta.base
    if new is None or math.isnan(new):
        return Verdict(False, f"FAIL {name}: no value in this revision's metrics")
    if threshold is not None and (new < threshold if direction == "maximize" else new > threshold):
        bound = "minimum" if direction == "maximize" else "maximum"
        return Verdict(
            False,
            f"FAIL {name}: {new:.4f} is beyond the {bound} gate.thresholds.{name}={threshold:g}",
        )
    if base is None:
        return Verdict(True, f"PASS {name}: {new:.4f} (no value at {base_rev} to compare)")
    worse = (base - new) if direction == "maximize" else (new - base)
    allowed = tolerance * abs(base)
    if worse > allowed + 1e-12:
        return Verdict(
            False,
            f"FAIL {name}: {new:.4f} vs {base:.4f} at {base_rev}, {worse:.4f} worse; "
            f"allowed {allowed:.4f} (gate.max_relative_regression={tolerance:g})",
        )
    bound = "" if threshold is None else f", gate.thresholds.{name}={threshold:g}"
    return Verdict(
        True,
        f"PASS {name}: {new:.4f} vs {base:.4f} at {base_rev} "
        f"(change {new - base:+.4f}; allowed {allowed:.4f} worse{bound})",
    )
