"""What a search leaves to read: a Markdown summary (best trial, every trial) and PNG
charts (optimisation history, one slice per parameter), rendered offline with vl-convert
as the PR report's plots are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reprolab.core.files import write_bytes
from reprolab.workflow.ranking import Ranking, sort_key


def _png(spec: dict[str, Any], path: Path) -> Path:
    import vl_convert  # noqa: PLC0415

    write_bytes(path, vl_convert.vegalite_to_png(vl_spec=spec, scale=2.0))
    return path


def history_chart(rows: list[dict[str, Any]], metric: str, direction: str) -> dict[str, Any]:
    """Each completed trial's value and the best so far, by trial number."""
    best, points = None, []
    for row in sorted(rows, key=lambda r: r["number"]):
        if row["value"] is None:
            continue
        better = best is None or (
            row["value"] > best if direction == "maximize" else row["value"] < best
        )
        best = row["value"] if better else best
        points.append({"trial": row["number"], "value": row["value"], "best so far": best})
    return {
        "title": f"Optimisation history: {metric} ({direction})",
        "width": 480, "height": 260,
        "data": {"values": points},
        "layer": [
            {"mark": {"type": "point", "filled": True},
             "encoding": {"x": {"field": "trial", "type": "quantitative"},
                          "y": {"field": "value", "type": "quantitative", "title": metric,
                                "scale": {"zero": False}}}},
            {"mark": {"type": "line", "color": "firebrick", "interpolate": "step-after"},
             "encoding": {"x": {"field": "trial", "type": "quantitative"},
                          "y": {"field": "best so far", "type": "quantitative"}}},
        ],
    }  # fmt: skip


def slices_chart(
    rows: list[dict[str, Any]], params: dict[str, dict], metric: str
) -> dict[str, Any]:
    """The metric against each parameter's value, one panel per parameter."""
    done = [r for r in rows if r["value"] is not None]
    panels = []
    for key, spec in params.items():
        kind = "nominal" if spec["type"] == "categorical" else "quantitative"
        values = [
            {"x": r["params"].get(key), "value": r["value"], "trial": r["number"]} for r in done
        ]
        scale = {"type": "log"} if spec.get("log") else {"zero": False}
        panels.append({
            "title": key, "width": 220, "height": 180,
            "data": {"values": values},
            "mark": {"type": "point", "filled": True},
            "encoding": {
                "x": {"field": "x", "type": kind, "title": key,
                      **({"scale": scale} if kind == "quantitative" else {})},
                "y": {"field": "value", "type": "quantitative", "title": metric,
                      "scale": {"zero": False}},
                "color": {"field": "trial", "type": "quantitative", "title": "trial"},
            },
        })  # fmt: skip
    return {
        "title": f"{metric} by parameter (colour: trial number)",
        "concat": panels,
        "columns": 3,
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value).replace("|", "\\|")


def summary_markdown(name: str, rows: list[dict[str, Any]], rules: Ranking,
                     images: list[Path]) -> str:  # fmt: skip
    """The summary; the best trial by the ranking rule of `make exps` (ties on the
    objective broken by the secondary metric)."""
    metric, direction = rules.primary_metric, rules.direction
    done = [r for r in rows if r["value"] is not None]
    lines = [f"# Search `{name}`: {metric} ({direction})", ""]
    if done:
        best = min(
            done, key=lambda r: sort_key({**r.get("metrics", {}), metric: r["value"]}, rules)
        )
        lines += [
            f"**Best: trial {best['number']}, experiment `{best['experiment']}`, "
            f"{metric} = {best['value']:.6g}** "
            f"(`make promote EXP={best['experiment']}` keeps it)",
            "",
            f"`dvc exp run -S {' -S '.join(best['overrides'])}`",
            "",
        ]
    else:
        lines += ["No trial has completed.", ""]
    failed = len(rows) - len(done)
    lines += [f"{len(rows)} trials: {len(done)} completed, {failed} failed or interrupted.", ""]
    lines += [f"![{image.stem}]({image.name})" for image in images] + [""]
    keys = sorted({k for r in rows for k in r["params"]})
    lines.append(
        "| trial | experiment | state | " + metric + " | " + " | ".join(keys) + " | error |"
    )
    lines.append("|---" * (len(keys) + 5) + "|")
    for r in sorted(rows, key=lambda r: r["number"]):
        cells = [
            r["number"],
            r["experiment"],
            r["state"],
            r["value"],
            *(r["params"].get(k) for k in keys),
        ]
        lines.append("| " + " | ".join(map(_cell, cells)) + f" | {_cell(r.get('error'))} |")
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, name: str, rows: list[dict[str, Any]], params: dict[str, dict],
                 rules: Ranking) -> Path:  # fmt: skip
    metric, direction = rules.primary_metric, rules.direction
    images = []
    if any(r["value"] is not None for r in rows):
        images = [
            _png(history_chart(rows, metric, direction), out_dir / "history.png"),
            _png(slices_chart(rows, params, metric), out_dir / "slices.png"),
        ]
    summary = out_dir / "summary.md"
    write_bytes(summary, summary_markdown(name, rows, rules, images).encode("utf-8"))
    return summary
