"""Write a simulated production batch from the held-out test split, with optional drift.

    python -m reprolab.monitor.test_batch --output data/production/batch_001.parquet --rows 500 \\
        --seed 1 [--shift body_mass_g=1.5] [--mix island=Dream:0.8] \\
        [--missing sex=0.3] [--label-shift Gentoo:0.7]

--shift COL=K      adds K standard deviations to a numeric column
--mix COL=CAT:P    makes category CAT a share P of the column
--missing COL=P    blanks a share P of the column
--label-shift C:P  resamples rows so that class C is a share P of the batch
Same arguments and seed, same bytes. Then `dvc repro` (the monitor stage) gives the verdict.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reprolab.core.errors import ReprolabError
from reprolab.core.shell import command_parser, user_errors


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=" if flag != "--label-shift" else ":")
        if not sep or not key or not value:
            raise ReprolabError(f"{flag} {item!r}: expected the form shown in --help")
        pairs.append((key, value))
    return pairs


def simulate_batch(
    source: pd.DataFrame,
    target: str,
    rows: int,
    seed: int,
    shift=(),
    mix=(),
    missing=(),
    label_shift=(),
) -> pd.DataFrame:
    """Sample `rows` rows of `source` (seeded), then apply the requested drift."""
    rng = np.random.default_rng(seed)
    weights = np.ones(len(source))
    for label, share in label_shift:
        is_label = (source[target].astype(str) == label).to_numpy()
        if not is_label.any() or not 0 < float(share) < 1:
            raise ReprolabError(
                f"--label-shift {label}:{share}: expected a class of "
                f"'{target}' and a share in (0, 1)"
            )
        weights = np.where(
            is_label, float(share) / is_label.sum(), (1 - float(share)) / (~is_label).sum()
        )
    batch = source.iloc[rng.choice(len(source), rows, p=weights / weights.sum())]
    batch = batch.reset_index(drop=True)
    for column, k in shift:
        _require(batch, column)
        batch[column] = batch[column] + float(k) * source[column].std()
    for column, spec in mix:
        _require(batch, column)
        category, _, share = spec.partition(":")
        chosen = rng.random(rows) < float(share)
        batch[column] = batch[column].astype(object).where(~chosen, category)
    for column, share in missing:
        _require(batch, column)
        batch[column] = batch[column].astype(object).where(rng.random(rows) >= float(share))
    return batch


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise ReprolabError(f"column {column!r} not found; expected one of {list(frame.columns)}")


def main(argv: list[str] | None = None) -> int:
    from reprolab.core.config import Paths  # noqa: PLC0415
    from reprolab.core.files import read_parquet, read_yaml, write_parquet  # noqa: PLC0415

    parser = command_parser("reprolab.monitor.test_batch", __doc__)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    for flag in ("--shift", "--mix", "--missing", "--label-shift"):
        parser.add_argument(flag, action="append", default=[])
    args = parser.parse_args(argv)
    with user_errors("simulate"):
        schema = read_yaml(Paths.schema)
        batch = simulate_batch(
            read_parquet(Paths.test),
            schema["target"],
            args.rows,
            args.seed,
            _pairs(args.shift, "--shift"),
            _pairs(args.mix, "--mix"),
            _pairs(args.missing, "--missing"),
            _pairs(args.label_shift, "--label-shift"),
        )
        # Columns the drift edits turned into objects go back to the training dtypes.
        for column in batch.columns:
            if batch[column].dtype == object:
                numeric = column in schema["numeric"]
                batch[column] = batch[column].astype("float64" if numeric else "str")
        write_parquet(args.output, batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
