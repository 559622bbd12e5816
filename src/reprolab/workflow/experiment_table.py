"""Experiments as rows: flatten `dvc exp show --json`, rank them, render a Markdown table.

Pure functions over the JSON that DVC prints; `reprolab.workflow.experiments` is the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprolab.core.config import flatten
from reprolab.workflow.ranking import sort_key

METRICS_FILE = "metrics/evaluate.json"
PARAMS_FILE = "params.yaml"


@dataclass
class Experiment:
    name: str
    rev: str
    baseline: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _short(rev: str) -> str:
    return rev if rev == "workspace" else rev[:7]


def _file_data(data: dict[str, Any], section: str, path: str) -> tuple[dict[str, Any], str | None]:
    entry = (data.get(section) or {}).get(path) or {}
    error = entry.get("error")
    return flatten(entry.get("data") or {}), (str(error.get("msg", error)) if error else None)


def _experiment(entry: dict[str, Any], baseline: str) -> Experiment:
    data = entry.get("data") or {}
    params, params_error = _file_data(data, "params", PARAMS_FILE)
    metrics, metrics_error = _file_data(data, "metrics", METRICS_FILE)
    error = entry.get("error") or params_error or metrics_error
    if isinstance(error, dict):
        error = error.get("msg") or str(error)
    if entry.get("error"):
        # DVC shows a failed run with its baseline's metrics files: they are not its own.
        metrics = {}
    return Experiment(
        name=entry.get("name") or _short(entry.get("rev", "")),
        rev=entry.get("rev", ""),
        baseline=baseline,
        params=params,
        metrics=metrics,
        error=error,
    )


def parse_exp_show(payload: list[dict[str, Any]]) -> list[Experiment]:
    """Every baseline commit and every experiment under it, from `dvc exp show --json`."""
    rows = []
    for commit in payload:
        name = commit.get("name") or _short(commit.get("rev", ""))
        rows.append(_experiment(commit, name))
        for group in commit.get("experiments") or []:
            for rev in group.get("revs") or []:
                rows.append(_experiment(rev, name))
    return rows


def differing_params(rows: list[Experiment]) -> list[str]:
    """Param keys whose value is not the same in every row (missing counts as different)."""
    keys = sorted({key for row in rows for key in row.params})
    return [key for key in keys if len({repr(row.params.get(key)) for row in rows}) > 1]


def rank(rows: list[Experiment], compare: dict[str, Any]) -> list[Experiment]:
    """Best first, by the primary metric and then the secondary metric of `compare`."""
    return sorted(rows, key=lambda row: sort_key(row.metrics, compare))


def _cell(value: Any, digits: int | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and digits is not None:
        return f"{value:.{digits}f}"
    return str(value).replace("|", "\\|")


def to_markdown(rows: list[Experiment], compare: dict[str, Any]) -> str:
    """A ranked table: experiment, differing params, key metrics (primary first)."""
    primary = compare["primary_metric"]
    metrics = [primary, *(m for m in compare.get("key_metrics", []) if m != primary)]
    params = differing_params(rows)
    arrow = "↑" if compare["direction"] == "maximize" else "↓"
    header = [
        "rank",
        "experiment",
        "baseline",
        *params,
        *(f"{m} {arrow}" if m == primary else m for m in metrics),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for number, row in enumerate(rank(rows, compare), start=1):
        cells = [
            str(number),
            row.name,
            row.baseline,
            *(_cell(row.params.get(p)) for p in params),
            *(_cell(row.metrics.get(m), 4) for m in metrics),
        ]
        if row.error:
            cells[1] += f" (failed: {_cell(row.error)})"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
