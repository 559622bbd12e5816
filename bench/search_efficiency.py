"""Benchmark: how many trials Optuna's TPE needs to come within 0.5% of the best value that
the full grid over the same space finds, against the grid's run count.

    make bench-search      # or: python bench/search_efficiency.py [--rows 20000] [--seeds 10]

On a synthetic table (reprolab.data.synthetic, 20 numeric + 5 categorical features,
3 classes), histogram gradient boosting over a discrete space. Every grid point is
trained and scored once (balanced accuracy on a held-out quarter) with the project's
own preprocessor and estimator code; TPE then searches the same space, seeded, and is
told the grid point's value for each trial it proposes (the same pipeline would give
the same bytes), so the count measures TPE's sample efficiency, not fitting noise.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "learning_rate": [0.01, 0.03, 0.1, 0.3],
    "max_leaf_nodes": [4, 8, 16, 31, 63],
    "min_samples_leaf": [5, 20, 80],
    "l2_regularization": [0.0, 1.0],
}
TOLERANCE = 0.005


def grid_values(rows: int) -> dict[tuple, float]:
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415
    from sklearn.metrics import balanced_accuracy_score  # noqa: PLC0415

    from reprolab.data import synthetic  # noqa: PLC0415
    from reprolab.model.estimators import (  # noqa: PLC0415
        build_estimator,
        fit_estimator,
        use_categorical_codes,
    )
    from reprolab.model.features import build_preprocessor, native_categorical_mask  # noqa: PLC0415

    source = {"kind": "synthetic", "seed": 0, "rows": rows, "numeric": 20, "categorical": 5,
              "cardinality": [3, 5, 10, 20, 50], "informative": 0.5, "separation": 0.3,
              "missing_rate": 0.02, "class_balance": [0.6, 0.3, 0.1], "days": 730}  # fmt: skip
    frame = pd.concat(synthetic.generate(synthetic.spec_from_config(source)), ignore_index=True)
    numeric, categorical = synthetic.column_names(synthetic.spec_from_config(source))
    test = np.arange(len(frame)) % 4 == 0
    features = {"numeric": {"imputer": "median", "scaler": "none"},
                "categorical": {"encoding": "ordinal", "imputer": "most_frequent"},
                "dtype": "float32", "date_parts": ["year"]}  # fmt: skip
    pre = build_preprocessor(numeric, categorical, features, "ordinal", 50)
    train_x = pre.fit_transform(frame.loc[~test, numeric + categorical])
    test_x = pre.transform(frame.loc[test, numeric + categorical])
    values = {}
    keys = list(SPACE)
    for combo in itertools.product(*SPACE.values()):
        model = {"_target_": "sklearn.ensemble.HistGradientBoostingClassifier", "max_iter": 100,
                 "random_state": 0, **dict(zip(keys, combo, strict=True))}  # fmt: skip
        estimator = build_estimator(model)
        use_categorical_codes(estimator, native_categorical_mask(pre))
        fit_estimator(estimator, train_x, frame.loc[~test, "label"].to_numpy(), 1)
        predicted = estimator.predict(test_x)
        values[combo] = balanced_accuracy_score(frame.loc[test, "label"], predicted)
        print(f"\rgrid {len(values)}/{len(list(itertools.product(*SPACE.values())))}", end="",
              file=sys.stderr, flush=True)  # fmt: skip
    print(file=sys.stderr)
    return values


def trials_to_reach(values: dict[tuple, float], seed: int, target: float) -> int:
    import optuna  # noqa: PLC0415

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    for n in range(1, 10 * len(values) + 1):
        trial = study.ask()
        combo = tuple(trial.suggest_categorical(k, v) for k, v in SPACE.items())
        study.tell(trial, values[combo])
        if values[combo] >= target:
            return n
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    started = time.perf_counter()
    values = grid_values(args.rows)
    grid_seconds = time.perf_counter() - started
    best = max(values.values())
    print(f"# {args.rows} synthetic rows; HGB over {len(values)} grid points; "
          f"{platform.machine()}, {os.cpu_count()} cores; grid fitted in {grid_seconds:.0f} s; "
          f"grid best balanced accuracy {best:.4f}")  # fmt: skip
    print("| within | grid points that close | full grid | random order, expected | "
          f"TPE, median of {args.seeds} seeds (min, max) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for tolerance in (TOLERANCE, 0.01, 0.02):
        target = best * (1 - tolerance)
        within = sum(v >= target for v in values.values())
        counts = [trials_to_reach(values, seed, target) for seed in range(args.seeds)]
        print(f"| {tolerance:.1%} | {within} | {len(values)} | {(len(values) + 1) / (within + 1):.1f} | "
              f"{statistics.median(counts):.0f} ({min(counts)}, {max(counts)}) |")  # fmt: skip


if __name__ == "__main__":
    main()
