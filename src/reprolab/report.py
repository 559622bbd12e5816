"""The pull-request report and the merge gate: this workspace against a base revision.

    python -m reprolab.report --base main     # writes reports/pr_report.md (make report)
    python -m reprolab.report --base main --gate-only        # one line (make gate)

Everything comes from DVC's own comparison commands (`dvc metrics diff`, `dvc params
diff`, `dvc plots diff`); the plots are rendered to PNG offline. The exit code is 1
when the gate fails, in both modes.

When the two revisions' metrics come from different test sets (`reprolab.comparability`),
the verdict says so first; the gate then scores both models on the champion's test rows
that neither trained on, or, where that is impossible, says NOT COMPARABLE and fails
unless `gate.allow_incomparable` is true.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reprolab.cli import command_parser, user_errors
from reprolab.comparability import (
    EvaluationData,
    differences,
    evaluation_data,
    read_parquet_bytes,
    score,
    shared_rows,
)
from reprolab.comparison import (
    ABSENT,
    MetricDelta,
    Verdict,
    changed_params,
    gate,
    metric_deltas,
    resolve_compare,
)
from reprolab.core.config import Paths, get, load_params
from reprolab.core.errors import ReprolabError
from reprolab.core.files import read_yaml, write_bytes
from reprolab.core.lockfile import LOCK_FILE, file_md5, require_locked
from reprolab.evaluation import direction_of
from reprolab.vcs import call, dvc, git

# Fewer shared rows than this and a comparison on them would be noise.
MIN_SHARED_ROWS = 20

REPORT = Path("reports/pr_report.md")
IMAGES = Path("reports/pr_plots")


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


def _show(revision: str, path: Path) -> str | None:
    result = call("git", "show", f"{revision}:{path.as_posix()}", check=False)
    return result.stdout if result.returncode == 0 else None


def _base_data(base: str) -> EvaluationData:
    git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    schema = yaml.safe_load(_show(base, Paths.schema) or "{}") or {}
    metrics = json.loads(_show(base, Paths.metrics) or "{}")
    return evaluation_data(_show(base, LOCK_FILE) or "", schema, metrics)


def _head_data() -> EvaluationData:
    metrics = json.loads(Paths.metrics.read_text()) if Paths.metrics.exists() else {}
    schema = read_yaml(Paths.schema) if Paths.schema.exists() else {}
    lock = LOCK_FILE.read_text(encoding="utf-8") if LOCK_FILE.exists() else ""
    return evaluation_data(lock, schema, metrics)


def _base_file(base: str, path: Path, md5: str | None, tmp: Path) -> Path:
    """`path` as of revision `base`, from the DVC cache or remote, checked against the
    md5 that base's dvc.lock records."""
    import dvc.api

    try:
        data = dvc.api.read(path.as_posix(), rev=base, mode="rb")
    except Exception as error:  # DVC raises many types for a missing file or remote
        raise ReprolabError(
            f"{path} at {base}: not available ({type(error).__name__}); expected it in the "
            "DVC cache or remote (`dvc fetch` it, or `make pull` on that commit)"
        ) from None
    target = tmp / path.name
    target.write_bytes(data)
    if file_md5(target) != md5:
        raise ReprolabError(f"{path} at {base}: md5 differs from its dvc.lock; expected {md5}")
    return target


def score_on_shared_rows(base: str, base_data: EvaluationData) -> tuple[dict, dict, str]:
    """Both models' metrics on base's test rows that the challenger did not train on."""
    from reprolab.core.files import read_parquet
    from reprolab.persistence import load_model

    require_locked([Paths.model, Paths.train, Paths.schema])
    with tempfile.TemporaryDirectory() as tmp:
        base_test = read_parquet_bytes(
            _base_file(base, Paths.test, base_data.test_md5, Path(tmp)).read_bytes()
        )
        base_model = load_model(_base_file(base, Paths.model, base_data.model_md5, Path(tmp)))
    rows, left_out = shared_rows(base_test, read_parquet(Paths.train))
    if len(rows) < MIN_SHARED_ROWS:
        raise ReprolabError(
            f"only {len(rows)} of {base}'s {len(base_test)} test rows are not in this "
            f"branch's training data; expected at least {MIN_SHARED_ROWS} to compare on"
        )
    base_schema = yaml.safe_load(_show(base, Paths.schema) or "{}")
    old = score(base_model, base_schema, rows, f"{base}'s model")
    new = score(load_model(Paths.model), read_yaml(Paths.schema), rows, "this branch's model")
    note = (
        f"both models scored here on the {len(rows)} rows of {base}'s test set that this "
        f"branch did not train on ({left_out} left out)"
    )
    return old, new, note


def compare_with(base: str) -> Comparison:
    params = load_params()
    gate_cfg = get(params, "gate")
    metrics_diff = dvc_json("metrics", "diff", base, "--all")
    names = {name for per_file in metrics_diff.values() for name in per_file}
    compare = resolve_compare(get(params, "evaluate"), names)
    directions = {n: direction_of(n) for n in names}
    deltas = metric_deltas(metrics_diff, compare, directions)
    primary = next((d for d in deltas if d.name == compare["primary_metric"]), None)
    if primary is None:
        raise ReprolabError(
            f"evaluate.primary_metric: {compare['primary_metric']!r} is in neither revision's "
            "metrics; expected one of the keys of metrics/evaluate.json"
        )
    key_metrics = [primary.name, *(m for m in compare.get("key_metrics", []) if m != primary.name)]
    base_data = _base_data(base)
    reasons, rescuable = differences(base_data, _head_data())
    if not reasons:
        return Comparison(deltas, key_metrics, gate(primary, gate_cfg, base))
    warning = f"NOT COMPARABLE as recorded: {'; '.join(reasons)}"
    if rescuable:
        try:
            old, new, note = score_on_shared_rows(base, base_data)
        except ReprolabError as error:
            reasons.append(f"no fair comparison either: {error}")
        else:
            flat = {"shared": {k: {"old": old[k], "new": new[k]} for k in old if k in new}}
            shared = metric_deltas(flat, compare, directions)
            fair = next(d for d in shared if d.name == primary.name)
            verdict = gate(fair, gate_cfg, f"{base} on the shared rows")
            line = f"{warning}. Gated instead with {note}: {verdict.line}"
            return Comparison(
                deltas, key_metrics, Verdict(verdict.passed, line), reasons, shared, note
            )
    allowed = bool(gate_cfg.get("allow_incomparable", False))
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


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.report", __doc__)
    parser.add_argument("--base", default="main", help="revision to compare with (champion)")
    parser.add_argument("--gate-only", action="store_true", help="print the verdict only")
    args = parser.parse_args(argv)
    with user_errors("report", exit_code=2):
        comparison = compare_with(args.base)
        verdict = comparison.verdict
        if not args.gate_only:
            from reprolab.plot_images import render_pngs

            images = render_pngs(dvc_json("plots", "diff", args.base), IMAGES)
            params = changed_params(dvc_json("params", "diff", args.base))
            text = render(args.base, comparison, params, images)
            write_bytes(REPORT, text.encode("utf-8"))
            print(f"wrote {REPORT} and {len(images)} image(s) in {IMAGES}/")
    print(verdict.line)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
