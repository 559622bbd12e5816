"""Write a production batch for `monitor`, drifted on request: the one command for it.

    python -m reprolab.monitor.batch --output data/production/week_1.parquet --rows 500 \\
        --seed 1 [--from test|synthetic] [--shift body_mass_g=1.5] [--scale COL=2] \\
        [--mix island=Dream:0.8] [--missing sex=0.3] [--label-shift Gentoo:0.7]

--from test        rows drawn (seeded) from the held-out test split (the default)
--from synthetic   fresh rows from the distribution of `data.source` (data=synthetic, the
                   default there), drawn with --seed, dated the day after the history
--shift COL=K      adds K standard deviations to a numeric column
--scale COL=F      multiplies a numeric column's spread around its mean by F
--mix COL=CAT:P    makes CAT a share P of the column (a never-seen CAT: unseen categories)
--missing COL=P    blanks a share P of the column
--label-shift C:P  resamples rows so that class C is a share P of the batch
Same arguments and seed, same bytes. Then `dvc repro` (the monitor stage) gives the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reprolab.core.errors import ReprolabError
from reprolab.core.shell import command_parser, user_errors

FLAGS = ("--shift", "--scale", "--mix", "--missing", "--label-shift")


@dataclass(frozen=True)
class BatchDrift:
    shift: list[tuple[str, str]] = field(default_factory=list)
    scale: list[tuple[str, str]] = field(default_factory=list)
    mix: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    label_shift: list[tuple[str, str]] = field(default_factory=list)


def pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=" if flag != "--label-shift" else ":")
        if not sep or not key or not value:
            raise ReprolabError(f"{flag} {item!r}: expected the form shown in --help")
        out.append((key, value))
    return out


def _share(value: str, flag: str, low_open: bool = False) -> float:
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not (0 < share < 1 if low_open else 0 <= share <= 1):
        raise ReprolabError(
            f"{flag} ...{value}: expected a share in {'(0, 1)' if low_open else '[0, 1]'}"
        )
    return share


def _number(value: str, flag: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ReprolabError(f"{flag} ...={value}: expected a number") from None


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise ReprolabError(f"column {column!r} not found; expected one of {list(frame.columns)}")


def _label_weights(source: pd.DataFrame, target: str, label_shift: list) -> np.ndarray:
    weights = np.ones(len(source))
    for label, share in label_shift:
        is_label = (source[target].astype(str) == label).to_numpy()
        if not is_label.any():
            raise ReprolabError(f"--label-shift {label}:{share}: expected a class of {target!r}")
        p = _share(share, "--label-shift", low_open=True)
        weights = np.where(is_label, p / is_label.sum(), (1 - p) / (~is_label).sum())
    return weights / weights.sum()


def drifted_batch(
    source: pd.DataFrame,
    target: str,
    rows: int,
    seed: int,
    drift: BatchDrift,
    resample: bool = True,
) -> pd.DataFrame:
    """`rows` rows of `source` (drawn, seeded, when `resample`; else source as it is),
    with the requested drift applied."""
    rng = np.random.default_rng(seed)
    if resample or drift.label_shift:
        picked = rng.choice(len(source), rows, p=_label_weights(source, target, drift.label_shift))
        batch = source.iloc[picked].reset_index(drop=True)
    else:
        batch = source.reset_index(drop=True).copy()
    for column, k in drift.shift:
        _require(batch, column)
        batch[column] = batch[column] + _number(k, "--shift") * source[column].std()
    for column, f in drift.scale:
        _require(batch, column)
        mean = source[column].mean()
        batch[column] = mean + _number(f, "--scale") * (batch[column] - mean)
    for column, spec in drift.mix:
        _require(batch, column)
        category, _, share = spec.partition(":")
        chosen = rng.random(len(batch)) < _share(share, "--mix")
        batch[column] = batch[column].astype(object).where(~chosen, category)
    for column, share in drift.missing:
        _require(batch, column)
        batch[column] = (
            batch[column].astype(object).where(rng.random(len(batch)) >= _share(share, "--missing"))
        )
    return batch


def _synthetic_rows(rows: int, seed: int) -> pd.DataFrame:
    from reprolab.core.config import get, load_params  # noqa: PLC0415
    from reprolab.data import synthetic  # noqa: PLC0415

    source = get(load_params(), "data.source")
    if source.get("kind") != "synthetic":
        raise ReprolabError(
            f"data.source.kind: found {source.get('kind')!r}; expected 'synthetic' for "
            "--from synthetic (compose with data=synthetic), or use --from test"
        )
    spec = synthetic.spec_from_config(source)
    return pd.concat(
        synthetic.generate(spec, rows, first_day=spec.days, row_seed=seed), ignore_index=True
    )


def main(argv: list[str] | None = None) -> int:
    from reprolab.core.config import Paths, get, load_params  # noqa: PLC0415
    from reprolab.core.files import read_parquet, read_yaml, write_parquet  # noqa: PLC0415

    parser = command_parser("reprolab.monitor.batch", __doc__)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--from", dest="origin", choices=("test", "synthetic"), default=None)
    for flag in FLAGS:
        parser.add_argument(flag, action="append", default=[])
    args = parser.parse_args(argv)
    with user_errors("batch"):
        if args.rows < 1:
            raise ReprolabError(f"--rows: found {args.rows}; expected at least 1")
        drift = BatchDrift(*(pairs(getattr(args, f[2:].replace("-", "_")), f) for f in FLAGS))
        kind = (get(load_params(), "data.source", {}) or {}).get("kind")
        origin = args.origin or ("synthetic" if kind == "synthetic" else "test")
        schema = read_yaml(Paths.schema) if origin == "test" or Paths.schema.exists() else None
        target = schema["target"] if schema else "label"
        if origin == "synthetic":
            source, resample = _synthetic_rows(args.rows, args.seed), False
        else:
            source, resample = read_parquet(Paths.test), True
        batch = drifted_batch(source, target, args.rows, args.seed, drift, resample)
        # Columns the drift edits turned into objects go back to the training dtypes.
        for column in batch.columns:
            if batch[column].dtype == object:
                numeric = schema is not None and column in schema["numeric"]
                batch[column] = batch[column].astype("float64" if numeric else "str")
        write_parquet(args.output, batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
