"""Experiments as rows: flatten `dvc exp show --json`, rank them, render a Markdown table.

Pure functions over the JSON that DVC prints; `reprolab.workflow.experiments` is the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprolab.core.config import PARAMS_FILE, Paths, flatten
from reprolab.workflow.ranking import Ranking, sort_key, task_of

# The keys `dvc exp show --json` files its data under: paths as DVC prints them.
METRICS_FILE, PARAMS_NAME, TEST_SPLIT = str(Paths.metrics), str(PARAMS_FILE), str(Paths.test)


@dataclass
class Experiment:
    name: str
    rev: str
    baseline: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # What its metrics were measured on: the md5 of its test split (dvc.lock's).
    test_md5: str | None = None
    is_commit: bool = False

    def evaluation(self) -> tuple[Any, str, str | None]:
        """(target, task, test split md5): runs are comparable when these are equal,
        the merge gate's rule."""
        names = {k for k, v in self.metrics.items() if isinstance(v, int | float)}
        return self.params.get("data.target"), task_of(names), self.test_md5


def _short(rev: str) -> str:
    return rev if rev == "workspace" else rev[:7]


def _file_data(data: dict[str, Any], section: str, path: str) -> tuple[dict[str, Any], str | None]:
    entry = (data.get(section) or {}).get(path) or {}
    error = entry.get("error")
    return flatten(entry.get("data") or {}), (str(error.get("msg", error)) if error else None)


def _experiment(entry: dict[str, Any], baseline: str) -> Experiment:
    data = entry.get("data") or {}
    params, params_error = _file_data(data, "params", PARAMS_NAME)
    metrics, metrics_error = _file_data(data, "metrics", METRICS_FILE)
    error = entry.get("error") or params_error or metrics_error
    if isinstance(error, dict):
        error = error.get("msg") or str(error)
    if entry.get("error"):
        # DVC shows a failed run with its baseline's metrics files: they are not its own.
        metrics = {}
    test_split = (data.get("outs") or {}).get(TEST_SPLIT) or {}
    return Experiment(
        name=entry.get("name") or _short(entry.get("rev", "")),
        rev=entry.get("rev", ""),
        baseline=baseline,
        params=params,
        metrics=metrics,
        error=error,
        test_md5=test_split.get("hash"),
    )


def parse_exp_show(payload: list[dict[str, Any]]) -> list[Experiment]:
    """Every baseline commit and every experiment under it, from `dvc exp show --json`."""
    rows = []
    for commit in payload:
        name = commit.get("name") or _short(commit.get("rev", ""))
        rows.append(_experiment(commit, name))
        rows[-1].is_commit = commit.get("rev") != "workspace"
        for group in commit.get("experiments") or []:
            for rev in group.get("revs") or []:
                rows.append(_experiment(rev, name))
    return rows


def differing_params(rows: list[Experiment]) -> list[str]:
    """Param keys whose value is not the same in every row (missing counts as different)."""
    keys = sorted({key for row in rows for key in row.params})
    return [key for key in keys if len({repr(row.params.get(key)) for row in rows}) > 1]


def rank(rows: list[Experiment], rules: Ranking) -> list[Experiment]:
    """Best first, by the primary metric and then the secondary metric of `compare`."""
    return sorted(rows, key=lambda row: sort_key(row.metrics, rules))
