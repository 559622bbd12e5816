"""Benchmark: histogram gradient boosting, LightGBM and XGBoost on the same features.

    make bench-boosting                       # 1M and 10M rows
    .venv/bin/python bench/boosting.py --rows 100000

For each size, a clean copy composed with data=synthetic (20 numeric + 5 categorical
features, 3 classes) is built up to `featurize` once: the three models all take
category codes (encoding: auto), so they train on the same feature file. Then each
model runs `dvc repro --single-item train` and `... evaluate`, as a user's experiment
would. Settings are matched: 200 boosting rounds, learning rate 0.1, at most 31
leaves per tree, no early stopping. Prints one table per size: the train stage's own
time (reading the features, fitting, saving), the wall time of `dvc repro -s train`,
its peak RSS, the model file's size and the test metrics.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from scale import ROOT, measured, sizes_in_scratch  # the sibling benchmark: one way to time a stage

# model option -> overrides that match the others' settings (conf/model defaults
# already agree on 200 rounds, learning rate 0.1; XGBoost grows by depth unless told).
MODELS = {
    "hist_gradient_boosting": [],
    "lightgbm": [],
    "xgboost": ["model.max_depth=0", "+model.max_leaves=31", "+model.grow_policy=lossguide"],
}


def stage_seconds(log: str, stage: str) -> float:
    """The stage body's own time, from its last line: "<stage>: <summary> (12.3 s)"."""
    found = re.findall(rf"^{stage}: .*\(([\d.]+) s\)$", log, flags=re.MULTILINE)
    return float(found[-1]) if found else float("nan")


def run_size(rows: int, parent: Path) -> list[tuple]:
    sys.path.insert(0, str(ROOT / "src"))
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415
    from reprolab.workflow.verify import clean_copy  # noqa: PLC0415

    repo = clean_copy(ROOT, parent / f"rows-{rows}")
    base = ["data=synthetic", f"data.source.rows={rows}"]
    compose_to(repo / "params.yaml", repo, [*base, "model=hist_gradient_boosting"])
    for stage in ("ingest", "validate", "split", "featurize"):
        measured(repo, "dvc", "repro", "--single-item", stage)
    print(f"  {rows:,} rows: features built", file=sys.stderr)
    results = []
    for option, extra in MODELS.items():
        compose_to(repo / "params.yaml", repo, [*base, f"model={option}", *extra])
        wall, rss, log = measured(repo, "dvc", "repro", "--single-item", "train")
        fit = stage_seconds(log, "train")
        measured(repo, "dvc", "repro", "--single-item", "evaluate")
        metrics = json.loads((repo / "metrics/evaluate.json").read_text())
        size = (repo / "models/model.skops").stat().st_size / 2**20
        results.append((option, fit, wall, rss, size, metrics))
        print(f"  {rows:,} rows {option}: fit {fit:.1f} s, {rss:.0f} MiB", file=sys.stderr)
    return results


def main() -> None:
    for rows, tmp in sizes_in_scratch(__doc__.splitlines()[0], [1_000_000, 10_000_000]):
        results = run_size(rows, tmp)
        print(f"\n## {rows:,} rows (test split {results[0][5]['test_rows']:,} rows)")
        print(
            "| model | train stage s | dvc repro -s train s | peak RSS MiB | model file MiB "
            "| balanced accuracy | log loss |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for option, fit, wall, rss, size, m in results:
            print(
                f"| {option} | {fit:.1f} | {wall:.1f} | {rss:.0f} | {size:.1f} | "
                f"{m['balanced_accuracy']:.4f} | {m['log_loss']:.4f} |"
            )


if __name__ == "__main__":
    main()
