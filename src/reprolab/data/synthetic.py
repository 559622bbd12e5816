"""Seeded synthetic classification data of any size, written to parquet chunk by chunk.

Each class has its own mean for the informative numeric features and its own
category probabilities for the informative categorical ones; noise features do not
depend on the class. The structure (means, scales, probabilities) comes from
`source.seed` alone, so training data and production batches generated with other
row seeds share it; `Drift` then moves a batch away from it.

Rows are generated in fixed chunks, each from its own random stream, so the output
is the same bytes however it is consumed and memory stays at one chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprolab.core.errors import ReprolabError

log = logging.getLogger("reprolab")

# Rows per generated chunk (and parquet row group). Part of the data's definition:
# changing it changes the random streams, hence the data.
CHUNK_ROWS = 100_000
TARGET = "label"
TIME_COLUMN = "event_day"
UNSEEN = "unseen"


@dataclass(frozen=True)
class Spec:
    """What to generate; the fields of `data.source` for `kind: synthetic`."""

    rows: int
    numeric: int
    categorical: int
    cardinality: tuple[int, ...]
    informative: float
    separation: float
    missing_rate: float
    class_balance: tuple[float, ...]
    days: int
    seed: int


@dataclass(frozen=True)
class Drift:
    """How a production batch departs from the training distribution (none by default)."""

    shift: float = 0.0  # standard deviations added to the drifting numeric features
    scale: float = 1.0  # factor on their spread around the mean
    category_shift: float = 0.0  # share of drifting categorical values moved to one category
    unseen: float = 0.0  # share of drifting categorical values set to a never-seen category
    missing_rate: float | None = None  # replaces Spec.missing_rate when set
    class_balance: tuple[float, ...] | None = None  # replaces Spec.class_balance (prior shift)
    columns: tuple[str, ...] = field(default=())  # drifting features; empty: the informative ones


_SPEC_KEYS = {
    "rows": int,
    "numeric": int,
    "categorical": int,
    "cardinality": None,
    "informative": float,
    "separation": float,
    "missing_rate": float,
    "class_balance": None,
    "days": int,
    "seed": int,
}


def fraction(value: float, key: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ReprolabError(f"{key}: found {value}; expected a fraction in [0, 1]")
    return value


def balance(values: Any, key: str) -> tuple[float, ...]:
    try:
        shares = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        shares = ()
    if len(shares) < 2 or min(shares) <= 0:
        raise ReprolabError(
            f"{key}: found {values!r}; expected at least 2 positive class shares, e.g. [0.7, 0.3]"
        )
    total = sum(shares)
    return tuple(s / total for s in shares)


def spec_from_config(source: dict[str, Any]) -> Spec:
    """Check `data.source` and turn it into a Spec, naming any bad key."""
    missing = [key for key in _SPEC_KEYS if source.get(key) is None]
    if missing:
        keys = ", ".join(f"data.source.{key}" for key in missing)
        raise ReprolabError(f"{keys}: not set; expected by data.source.kind=synthetic")
    values: dict[str, Any] = {}
    for key, kind in _SPEC_KEYS.items():
        if kind is None:
            continue
        try:
            values[key] = kind(source[key])
        except (TypeError, ValueError):
            raise ReprolabError(
                f"data.source.{key}: found {source[key]!r}; expected a {kind.__name__}"
            ) from None
    for key in ("rows", "days"):
        if values[key] < 1:
            raise ReprolabError(f"data.source.{key}: found {values[key]}; expected at least 1")
    for key in ("numeric", "categorical"):
        if values[key] < 0:
            raise ReprolabError(f"data.source.{key}: found {values[key]}; expected 0 or more")
    if values["numeric"] + values["categorical"] == 0:
        raise ReprolabError("data.source.numeric, data.source.categorical: expected a feature")
    cardinality = source["cardinality"]
    cardinality = tuple(cardinality) if isinstance(cardinality, list | tuple) else (cardinality,)
    if not cardinality or not all(isinstance(c, int) and c >= 2 for c in cardinality):
        raise ReprolabError(
            f"data.source.cardinality: found {source['cardinality']!r}; expected an integer "
            "of at least 2, or a list of them (cycled over the categorical features)"
        )
    fraction(values["informative"], "data.source.informative")
    fraction(values["missing_rate"], "data.source.missing_rate")
    if values["separation"] < 0:
        raise ReprolabError(
            f"data.source.separation: found {values['separation']}; expected 0 or more"
        )
    return Spec(
        **values,
        cardinality=cardinality,
        class_balance=balance(source["class_balance"], "data.source.class_balance"),
    )


def column_names(spec: Spec) -> tuple[list[str], list[str]]:
    """Names of the numeric and categorical features, in column order."""
    return (
        [f"num_{i:02d}" for i in range(spec.numeric)],
        [f"cat_{i:02d}" for i in range(spec.categorical)],
    )


def classes(count: int) -> list[str]:
    return [f"class_{k}" for k in range(count)]


def _informative(count: int, share: float) -> int:
    return int(np.ceil(count * share)) if count else 0


@dataclass(frozen=True)
class _Structure:
    loc: np.ndarray  # (numeric,) feature location
    scale: np.ndarray  # (numeric,) feature spread
    means: np.ndarray  # (classes, numeric) class means in standard units; 0 for noise
    category_cdfs: list[np.ndarray]  # per categorical feature: (classes, cardinality)
    categories: list[list[str]]
    rarest: list[int]  # per categorical feature: the code of its least likely category


def _structure(spec: Spec) -> _Structure:
    """Everything about the distribution that does not change from row to row."""
    rng = np.random.default_rng([spec.seed, 0xC0FFEE])
    n_classes = len(spec.class_balance)
    # Features on different scales, as real ones are: scaling matters to linear models.
    loc = rng.uniform(-50.0, 50.0, spec.numeric)
    scale = 10.0 ** rng.uniform(-1.0, 2.0, spec.numeric)
    means = np.zeros((n_classes, spec.numeric))
    useful = _informative(spec.numeric, spec.informative)
    means[:, :useful] = rng.normal(0.0, spec.separation, (n_classes, useful))
    cdfs, categories, rarest = [], [], []
    shares = np.asarray(spec.class_balance)
    useful = _informative(spec.categorical, spec.informative)
    for j in range(spec.categorical):
        size = spec.cardinality[j % len(spec.cardinality)]
        # Skewed like real categories: a few common values, a long tail.
        base = 1.0 / np.arange(1, size + 1)
        probs = np.tile(base / base.sum(), (n_classes, 1))
        if j < useful:
            probs = rng.dirichlet(np.full(size, 1.0 / max(spec.separation, 1e-3)), n_classes)
        cdfs.append(np.cumsum(probs, axis=1))
        categories.append([f"v{k:02d}" for k in range(size)])
        rarest.append(int(np.argmin(shares @ probs)))
    return _Structure(loc, scale, means, cdfs, categories, rarest)


def _sample_categories(rng: np.random.Generator, cdf: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One category code per row, from its class's distribution (a binary search per
    row, so thousands of categories cost no rows x categories matrix)."""
    draws = rng.random(len(labels))
    codes = np.empty(len(labels), dtype="int64")
    for k in range(cdf.shape[0]):
        rows = labels == k
        codes[rows] = np.searchsorted(cdf[k], draws[rows], side="left")
    return np.minimum(codes, cdf.shape[1] - 1)


def _drifting(spec: Spec, drift: Drift) -> set[str]:
    numeric, categorical = column_names(spec)
    if drift.columns:
        unknown = sorted(set(drift.columns) - {*numeric, *categorical})
        if unknown:
            raise ReprolabError(
                f"drift columns {unknown} not found; expected features of the synthetic data "
                f"({numeric[:1] + categorical[:1]} ...)"
            )
        return set(drift.columns)
    return {
        *numeric[: _informative(spec.numeric, spec.informative)],
        *categorical[: _informative(spec.categorical, spec.informative)],
    }


def _chunk(
    spec: Spec,
    structure: _Structure,
    drift: Drift,
    seed: int,
    index: int,
    rows: int,
    first_row: int,
    first_day: int | None,
) -> pd.DataFrame:
    rng = np.random.default_rng([seed, index])
    balance = np.asarray(drift.class_balance or spec.class_balance, dtype="float64")
    if len(balance) != len(spec.class_balance):
        raise ReprolabError(
            f"drift class balance: {len(balance)} shares; expected {len(spec.class_balance)}, "
            "one per class"
        )
    labels = rng.choice(len(balance), size=rows, p=balance / balance.sum())
    missing_rate = spec.missing_rate if drift.missing_rate is None else drift.missing_rate
    drifting = _drifting(spec, drift)
    numeric, categorical = column_names(spec)
    columns: dict[str, Any] = {}
    for j, name in enumerate(numeric):
        standard = structure.means[labels, j] + rng.standard_normal(rows)
        if name in drifting:
            standard = drift.shift + drift.scale * standard
        values = (structure.loc[j] + structure.scale[j] * standard).astype("float32")
        values[rng.random(rows) < missing_rate] = np.nan
        columns[name] = values
    for j, name in enumerate(categorical):
        codes = _sample_categories(rng, structure.category_cdfs[j], labels)
        names = structure.categories[j]
        if name in drifting:
            moved = rng.random(rows) < drift.category_shift
            codes = np.where(moved, structure.rarest[j], codes)
            if drift.unseen:
                names = [*names, UNSEEN]
                codes = np.where(rng.random(rows) < drift.unseen, len(names) - 1, codes)
        codes = np.where(rng.random(rows) < missing_rate, -1, codes)
        columns[name] = pd.Categorical.from_codes(codes, categories=names)
    if first_day is None:
        # Row order is time order: `days` days spread evenly over the rows.
        day = (np.arange(first_row, first_row + rows, dtype="int64") * spec.days) // spec.rows
    else:
        day = np.full(rows, first_day, dtype="int64")
    columns[TIME_COLUMN] = day.astype("int32")
    columns[TARGET] = pd.Categorical.from_codes(labels, categories=classes(len(balance)))
    return pd.DataFrame(columns)


def generate(
    spec: Spec,
    rows: int | None = None,
    drift: Drift | None = None,
    first_day: int | None = None,
    row_seed: int | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the data in chunks of CHUNK_ROWS rows (`rows` defaults to spec.rows).

    The distribution comes from spec.seed; the rows from `row_seed` (default
    spec.seed), so a production batch can draw new rows from the training distribution.
    `first_day` set: every row gets that day (a production batch); unset: the days
    run over 0..spec.days-1 in row order (the training history).
    """
    total = spec.rows if rows is None else rows
    drift = drift or Drift()
    seed = spec.seed if row_seed is None else row_seed
    structure = _structure(spec)
    for index, start in enumerate(range(0, total, CHUNK_ROWS)):
        size = min(CHUNK_ROWS, total - start)
        yield _chunk(spec, structure, drift, seed, index, size, start, first_day)


def write(path: Path, chunks: Iterator[pd.DataFrame], total: int) -> tuple[int, int]:
    """Write chunks as one parquet file (a row group each), atomically, logging progress."""
    from reprolab.core.files import write_parquet_batches  # noqa: PLC0415

    return write_parquet_batches(path, _logging_progress(chunks, total))


def _logging_progress(chunks: Iterator[pd.DataFrame], total: int) -> Iterator[pd.DataFrame]:
    rows, step = 0, max(total // 10, 1)
    for chunk in chunks:
        yield chunk
        before, rows = rows, rows + len(chunk)
        if total > CHUNK_ROWS and rows // step != before // step:
            log.info("generated %d of %d rows (%d%%)", rows, total, 100 * rows // total)
