"""`make exps` as text: runs ranked only against runs measured on the same evaluation
data, in tables that fit a terminal.

A metric ranks runs only when they were scored on the same rows of the same target
for the same task (the merge gate's rule): a regression's R² above another target's
is no ranking at all. So the runs measured like HEAD's commit are ranked first; every
other set of comparable runs is ranked among itself, under a line saying why it is
apart (`other target: pct_above`). Commits are listed as baselines, not ranked; failed
runs last. Columns: rank, experiment, baseline, the primary and secondary metrics,
then differing params and the other key metrics as long as the table fits WIDTH
characters; what did not fit is named (`--wide` shows it).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reprolab.workflow.experiment_table import Experiment, differing_params, rank
from reprolab.workflow.ranking import Ranking, resolve_ranking

WIDTH = 120


def _cell(value: Any) -> str:
    """A value as a table cell: missing as `-`, pipes escaped, one line."""
    if value is None:
        return "-"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _metric(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else _cell(value)


def _lines(columns: list[tuple[str, list[str]]]) -> list[str]:
    """A Markdown table with its columns padded to one width (aligned in a terminal)."""
    widths = [max(len(header), *(len(c) for c in cells)) for header, cells in columns]
    rows = zip(*(cells for _, cells in columns), strict=True)
    lines = [
        "| " + " | ".join(h.ljust(w) for (h, _), w in zip(columns, widths, strict=True)) + " |"
    ]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return lines


def _width(columns: list[tuple[str, list[str]]]) -> int:
    return len(_lines(columns)[0]) if columns else 0


def fitted(
    fixed: list[tuple[str, list[str]]], optional: list[tuple[str, list[str]]], wide: bool
) -> tuple[list[str], list[str]]:
    """The table of the fixed columns and as many optional ones, in order, as fit WIDTH
    (all with `wide`); and the headers of those left out."""
    shown, hidden = list(fixed), []
    for column in optional:
        if wide or _width([*shown, column]) <= WIDTH:
            shown.append(column)
        else:
            hidden.append(column[0])
    return _lines(shown), hidden


def ranked_table(
    rows: list[Experiment],
    rules: Ranking,
    wide: bool = False,
    baseline: Experiment | None = None,
) -> tuple[list[str], list[str]]:
    """Rows best first: rank, experiment, baseline, primary (with its direction) and
    secondary metric, then the params that differ between the rows and `baseline` (what
    a lone run changed, too) and the other key metrics as room allows."""
    ordered = rank(rows, rules)
    primary, secondary = rules.primary_metric, rules.secondary_metric
    arrow = "↑" if rules.direction == "maximize" else "↓"
    metrics = [m for m in (primary, secondary) if m]
    fixed = [
        ("rank", [str(n) for n in range(1, len(ordered) + 1)]),
        ("experiment", [r.name for r in ordered]),
        ("baseline", [r.baseline for r in ordered]),
        *(
            (f"{m} {arrow}" if m == primary else m, [_metric(r.metrics.get(m)) for r in ordered])
            for m in metrics
        ),
    ]
    compared = [*rows, *([baseline] if baseline else [])]
    optional = [(p, [_cell(r.params.get(p)) for r in ordered]) for p in differing_params(compared)]
    optional += [
        (m, [_metric(r.metrics.get(m)) for r in ordered])
        for m in rules.key_metrics
        if m not in metrics
    ]
    return fitted(fixed, optional, wide)


def group_rules(ranking: dict[str, Any], rows: list[Experiment]) -> Ranking:
    """The ranking rule for a set of runs of one task: the configured one, or the task's
    defaults where the configured primary metric is not one these runs measured."""
    names = {k for r in rows for k, v in r.metrics.items() if isinstance(v, int | float)}
    rules = resolve_ranking(ranking, names)
    if rules.primary_metric not in names:
        rules = resolve_ranking({}, names)
    return rules


def why_apart(key: tuple[Any, str, str | None], reference: tuple[Any, str, str | None]) -> str:
    """Why runs measured on `key` are not ranked with those measured on `reference`."""
    target, task, test_md5 = key
    reasons = []
    if target != reference[0]:
        reasons.append(f"other target: {target}")
    if task != reference[1]:
        reasons.append(f"other task: {task}")
    if not reasons:
        rows = test_md5[:7] if test_md5 else "not recorded"
        reasons.append(f"other test rows ({rows}: another data version, split or seed)")
    return "; ".join(reasons)


def render(rows: list[Experiment], ranking: dict[str, Any], wide: bool = False) -> str:
    """The whole `make exps` text: ranked tables per evaluation data, baselines, failures."""
    commits = [r for r in rows if r.is_commit]
    runs = [r for r in rows if not r.is_commit and not r.error]
    failed = [r for r in rows if not r.is_commit and r.error]
    out, hidden = _ranked_sections(
        runs, next((c for c in commits if c.metrics), None), ranking, wide
    )
    if commits:
        table = [
            ("commit", [c.name for c in commits]),
            ("target", [_cell(c.params.get("data.target")) for c in commits]),
            ("metrics", [_metrics_cell(c, ranking) for c in commits]),
        ]
        out += ["Baseline commits (not ranked):", "", *_lines(table), ""]
    if failed:
        table = [
            ("experiment", [r.name for r in failed]),
            ("baseline", [r.baseline for r in failed]),
            ("error", [_cell(r.error)[:80] for r in failed]),
        ]
        out += ["Failed runs:", "", *_lines(table), ""]
    if hidden:
        left_out = ", ".join(sorted(hidden))
        out.append(f"Left out to fit {WIDTH} columns: {left_out} (--wide shows them)")
    return "\n".join(out).rstrip("\n") + "\n"


def _ranked_sections(
    runs: list[Experiment], head: Experiment | None, ranking: dict[str, Any], wide: bool
) -> tuple[list[str], set[str]]:
    """One ranked table per evaluation data: HEAD's first, then each other set apart."""
    if not runs:
        return ["No experiments.", ""], set()
    groups: dict[tuple, list[Experiment]] = {}
    for run in runs:
        groups.setdefault(run.evaluation(), []).append(run)
    counted = Counter(r.evaluation() for r in runs)
    reference = head.evaluation() if head else counted.most_common(1)[0][0]
    base = head.name if head else "most runs"
    out: list[str] = []
    hidden: set[str] = set()
    for key in sorted(groups, key=lambda key: key != reference):  # stable: first seen next
        target, task, _ = key
        if key == reference:
            title = f"Ranked: target {target}, {task}, measured on the test rows of {base}"
        else:
            title = f"Apart, not comparable with {base} ({why_apart(key, reference)}):"
        rules = group_rules(ranking, groups[key])
        lines, left_out = ranked_table(groups[key], rules, wide, baseline=head)
        out += [title, "", *lines, ""]
        hidden |= set(left_out)
    return out, hidden


def _metrics_cell(commit: Experiment, ranking: dict[str, Any]) -> str:
    if not commit.metrics:
        return "-"
    rules = group_rules(ranking, [commit])
    metrics = [m for m in (rules.primary_metric, rules.secondary_metric) if m]
    return ", ".join(f"{m} {_metric(commit.metrics.get(m))}" for m in metrics)
