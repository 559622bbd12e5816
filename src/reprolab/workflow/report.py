"""The pull-request report and the merge gate: this workspace against a base revision.

    python -m reprolab.workflow.report --base main     # writes reports/pr_report.md (make report)
    python -m reprolab.workflow.report --base main --gate-only        # one line (make gate)

Everything comes from DVC's own comparison commands (`dvc metrics diff`, `dvc params
diff`, `dvc plots diff`); the plots are rendered to PNG offline. The exit code is 1
when the gate fails, in both modes.

When the two revisions' metrics come from different test sets (`reprolab.workflow.comparability`),
the verdict says so first; the gate then scores both models on the champion's test rows
that neither trained on, or, where that is impossible, says NOT COMPARABLE and fails
unless `gate.allow_incomparable` is true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprolab.core.config import PARAMS_FILE, PR_PLOTS, PR_REPORT, flatten, get, load_params
from reprolab.core.errors import ReprolabError
from reprolab.core.files import write_bytes
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.comparability import base_data, differences, head_data, score_on_shared_rows
from reprolab.workflow.gate import (
    ABSENT,
    GateSettings,
    MetricDelta,
    Verdict,
    changed_params,
    gate,
    metric_deltas,
)
from reprolab.workflow.ranking import direction_of, resolve_ranking
from reprolab.workflow.vcs import dvc, git


def dvc_json(*args: str) -> dict[str, Any]:
    return json.loads(dvc(*args, "--json") or "{}")


@dataclass
class Comparison:
    """The recorded metrics' deltas, and where they are not comparable, why, and the
    deltas of both models scored on shared rows (what the gate then used)."""

    deltas: list[MetricDelta]
    key_metrics: list[str]
    verdict: Verdict
    not_comparable: list[str] = field(default_factory=list)
    shared: list[MetricDelta] = field(default_factory=list)
    shared_note: str = ""


def compare_with(base: str) -> Comparison:
    params = load_params()
    gate_cfg = GateSettings.from_params(params)
    metrics_diff = dvc_json("metrics", "diff", base, "--all")
    names = {name for per_file in metrics_diff.values() for name in per_file}
    rules = resolve_ranking(get(params, "ranking"), names)
    directions = {n: direction_of(n) for n in names}
    deltas = metric_deltas(metrics_diff, rules, directions)
    primary = next((d for d in deltas if d.name == rules.primary_metric), None)
    if primary is None:
        raise ReprolabError(
            f"ranking.primary_metric: {rules.primary_metric!r} is in neither revision's "
            "metrics; expected one of the keys of metrics/evaluate.json"
        )
    key_metrics = [primary.name, *(m for m in rules.key_metrics if m != primary.name)]
    recorded = base_data(base)
    reasons, rescuable = differences(recorded, head_data())
    if not reasons:
        return Comparison(deltas, key_metrics, gate(primary, gate_cfg, base))
    warning = f"NOT COMPARABLE as recorded: {'; '.join(reasons)}"
    if rescuable:
        try:
            old, new, note = score_on_shared_rows(base, recorded)
        except ReprolabError as error:
            reasons.append(f"no fair comparison either: {error}")
        else:
            flat = {"shared": {k: {"old": old[k], "new": new[k]} for k in old if k in new}}
            shared = metric_deltas(flat, rules, directions)
            fair = next(d for d in shared if d.name == primary.name)
            verdict = gate(fair, gate_cfg, f"{base} on the shared rows")
            line = f"{warning}. Gated instead with {note}: {verdict.line}"
            return Comparison(
                deltas, key_metrics, Verdict(verdict.passed, line), reasons, shared, note
            )
    allowed = gate_cfg.allow_incomparable
    line = f"NOT COMPARABLE: {'; '.join(reasons)}; " + (
        "merging anyway (gate.allow_incomparable: true)"
        if allowed
        else "expected the same evaluation data (set gate.allow_incomparable: true to pass)"
    )
    return Comparison(deltas, key_metrics, Verdict(allowed, line), reasons)


def _fmt(value: float | None, sign: bool = False, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value:+.1%}"
    if isinstance(value, int):
        return f"{value:+d}" if sign else str(value)
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _metric_rows(deltas: list[MetricDelta], base: str, primary: str) -> list[str]:
    rows = [f"| metric | {base} | this branch | change | relative | |", "|---|---|---|---|---|---|"]
    for d in deltas:
        name = f"**{d.name}** (primary, {d.direction})" if d.name == primary else d.name
        rows.append(
            f"| {name} | {_fmt(d.base)} | {_fmt(d.new)} | {_fmt(d.change, sign=True)}"
            f" | {_fmt(d.relative, percent=True)} | {d.verdict} |"
        )
    return rows


def render(base: str, comparison: Comparison, params: list[tuple], images: list[Path]) -> str:
    """The report: verdict, comparability, key metrics, the rest folded, changed params,
    plot images."""
    deltas, key_metrics, verdict = comparison.deltas, comparison.key_metrics, comparison.verdict
    primary = key_metrics[0]
    key = [d for d in deltas if d.name in key_metrics]
    rest = [d for d in deltas if d.name not in key_metrics]
    lines = [
        f"## Model report: this branch vs `{base}`",
        "",
        f"**Gate: {'✅' if verdict.passed else '❌'} {verdict.line}**",
        "",
    ]
    if comparison.not_comparable:
        lines += [
            "> [!WARNING]",
            "> **The recorded metrics below are not comparable**: "
            + "; ".join(comparison.not_comparable)
            + ".",
            "",
        ]
    if comparison.shared:
        shared = [d for d in comparison.shared if d.name in key_metrics]
        lines += [
            "### Metrics on shared rows (what the gate used)",
            "",
            f"{comparison.shared_note[0].upper()}{comparison.shared_note[1:]}:",
            "",
            *_metric_rows(shared, base, primary),
            "",
        ]
    lines += [
        "### Metrics" + (" as recorded (different test sets)" if comparison.not_comparable else ""),
        "",
        *_metric_rows(key, base, primary),
        "",
        f"<details><summary>All other metrics ({len(rest)})</summary>",
        "",
        *_metric_rows(rest, base, primary),
        "",
        "</details>",
    ]
    lines += ["", "### Changed parameters", ""]
    if params:
        lines += [f"| param | {base} | this branch |", "|---|---|---|"]
        lines += [
            f"| `{key}` | {_param_cell(old)} | {_param_cell(new)} |" for key, old, new in params
        ]
    else:
        lines.append("No parameter changed.")
    lines += [
        "",
        "### Plots",
        "",
        f"Both revisions in each chart (`{base}` and `workspace`), rendered offline "
        "from DVC's plot data:",
        "",
    ]
    lines += [f"![{p.stem}](pr_plots/{p.name})" for p in images]
    return "\n".join(lines) + "\n"


def _param_cell(value: Any) -> str:
    return "*(absent)*" if value is ABSENT else f"`{value}`"


def params_at(revision: str) -> dict[str, Any]:
    """params.yaml as committed at `revision` ({} where it has none)."""
    import yaml  # noqa: PLC0415

    try:
        text = git("show", f"{revision}:{PARAMS_FILE}")
    except ReprolabError:
        return {}
    loaded = yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else {}


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.report", __doc__)
    parser.add_argument("--base", default="main", help="revision to compare with (champion)")
    parser.add_argument("--gate-only", action="store_true", help="print the verdict only")
    args = parser.parse_args(argv)
    with user_errors("report", exit_code=2):
        comparison = compare_with(args.base)
        verdict = comparison.verdict
        if not args.gate_only:
            from reprolab.workflow.plot_images import render_pngs  # noqa: PLC0415

            images = render_pngs(dvc_json("plots", "diff", args.base), PR_PLOTS)
            params = changed_params(
                dvc_json("params", "diff", args.base),
                set(flatten(params_at(args.base))),
                set(flatten(load_params())),
            )
            text = render(args.base, comparison, params, images)
            write_bytes(PR_REPORT, text.encode("utf-8"))
            print(f"wrote {PR_REPORT} and {len(images)} image(s) in {PR_PLOTS}/")
    print(verdict.line)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
