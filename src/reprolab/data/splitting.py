"""Train/test splits: stratified random, out-of-time by a time column, or by whole groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from reprolab.core.errors import ReprolabError, shown
from reprolab.data.columns import row_keys
from reprolab.data.parquet_stream import ParquetColumns
from reprolab.data.split_settings import RandomSplit, SplitSettings, TimeSplit


def stratified_test_rows(target: pd.Series, test_size: float, seed: int) -> np.ndarray:
    """Random test rows that keep each class's share of rows in both parts."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    _require_fraction(test_size)
    counts = target.value_counts()
    too_small = counts[counts < 2]
    if not too_small.empty:
        raise ReprolabError(
            f"column '{target.name}': class(es) {sorted(map(str, too_small.index))} have fewer "
            "than 2 rows; a stratified split needs at least 2 rows per class"
        )
    # Classes as codes in sorted order: the same strata in the same order as the labels
    # themselves, without sorting millions of strings (10M labels: 14 s -> 0.2 s).
    codes = pd.Categorical(target, categories=sorted(target.unique())).codes
    try:
        _, test = train_test_split(
            np.arange(len(target)), test_size=test_size, stratify=codes, random_state=seed
        )
    except ValueError as error:
        raise ReprolabError(f"column '{target.name}': cannot stratify the split: {error}") from None
    return _mask(len(target), test)


def random_test_rows(rows: int, test_size: float, seed: int) -> np.ndarray:
    """Plain seeded random test rows (a continuous target has no classes to stratify)."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    _require_fraction(test_size)
    _, test = train_test_split(np.arange(rows), test_size=test_size, random_state=seed)
    return _mask(rows, test)


def _require_fraction(test_size: float) -> None:
    if not 0.0 < test_size < 1.0:
        raise ReprolabError(f"split.test_size: found {test_size}; expected a fraction in (0, 1)")


def _mask(rows: int, chosen: np.ndarray) -> np.ndarray:
    mask = np.zeros(rows, dtype=bool)
    mask[chosen] = True
    return mask


def time_test_rows(values: pd.Series, test_from: Any) -> np.ndarray:
    """Rows at or after `test_from` are the test rows; the rest train the model."""
    time_column = values.name
    if not pd.api.types.is_numeric_dtype(values):
        # Dates (text or datetime): compared as instants, not as strings.
        values = pd.to_datetime(values, format="mixed")
        try:
            test_from = pd.Timestamp(str(test_from))
        except ValueError:
            raise ReprolabError(
                f"split.test_from: found {test_from!r}; column '{time_column}' holds dates, "
                "so expected a date such as 2015-01-01"
            ) from None
    elif isinstance(test_from, bool) or not isinstance(test_from, int | float):
        raise ReprolabError(
            f"split.test_from: found {test_from!r}; column '{time_column}' holds numbers, so "
            "expected a number"
        )
    is_test = (values >= test_from).to_numpy()
    if is_test.all() or not is_test.any():
        low, high = values.min(), values.max()
        raise ReprolabError(
            f"split.test_from: {test_from!r} leaves an empty "
            f"{'train' if is_test.all() else 'test'} set; expected a value inside the range of "
            f"column '{time_column}' ({shown(low)} to {shown(high)}), above its minimum"
        )
    return is_test


def group_test_rows(groups: pd.Series, test_size: float, seed: int) -> np.ndarray:
    """Test rows by whole groups (a person, school, store): every row of a group is on
    one side. Groups are drawn in a seeded random order until the test rows reach
    `test_size` of the table; a missing group value is a group of its own."""
    _require_fraction(test_size)
    codes, uniques = pd.factorize(groups, sort=True, use_na_sentinel=False)
    if len(uniques) < 2:
        raise ReprolabError(
            f"split.group_column: column '{groups.name}' holds {len(uniques)} group(s); "
            "expected at least 2 to put some on each side"
        )
    sizes = np.bincount(codes, minlength=len(uniques))
    order = np.random.default_rng(seed).permutation(len(uniques))
    taken = np.cumsum(sizes[order])
    # The fewest groups that reach the share, and never all of them.
    count = min(int(np.searchsorted(taken, test_size * len(groups))) + 1, len(uniques) - 1)
    chosen = np.zeros(len(uniques), dtype=bool)
    chosen[order[:count]] = True
    return chosen[codes]


def require_classes_to_learn(labels: pd.Series, is_test: np.ndarray) -> None:
    """A classifier needs at least two classes among its training rows (an out-of-time
    split can leave one: every early row `a`), else fitting fails with the library's
    own message."""
    learnt = pd.unique(labels[~is_test].dropna())
    if len(learnt) < 2:
        raise ReprolabError(
            f"split: every one of the {int((~is_test).sum())} training rows is of class "
            f"{[str(v) for v in learnt]}; expected at least 2 classes to learn from (a time "
            "split: a later split.test_from)"
        )


def describe_split(split: SplitSettings, data: dict[str, Any]) -> str:
    """What the split did, in words for the log (a regression is not stratified)."""
    if isinstance(split, RandomSplit):
        return "random" if data.get("task") == "regression" else "stratified"
    if isinstance(split, TimeSplit):
        return f"time: test from {split.test_from!r} of '{data.get('time_column')}'"
    return f"group: whole groups of '{split.group_column}' on each side"


def time_index_hint(split: SplitSettings, data: dict[str, Any]) -> str | None:
    """A one-line hint when a table with time in it is split at random: the model is then
    tested on rows older than some it learnt from, which production never offers."""
    if not isinstance(split, RandomSplit):
        return None
    dated = data.get("time_column") or next(
        (c for c, why in (data.get("excluded") or {}).items() if str(why).startswith("datetime")),
        None,
    )
    if not dated:
        return None
    return (
        f"hint: column '{dated}' orders the rows in time, and the split is random: to test "
        f"on the future as production will, split=time (with data.time_column={dated} and "
        "split.test_from)"
    )


def test_rows(table: Any, data: dict[str, Any], split: SplitSettings, seed: Any) -> np.ndarray:
    """Which rows of `table` (a frame, or anything that gives its columns one at a
    time) are test rows, as the checked `split` settings say."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ReprolabError(f"seed: found {seed!r}; expected a whole number in [0, 2**32)")
    if isinstance(split, RandomSplit):
        if data.get("task") == "regression":
            return random_test_rows(len(table), split.test_size, seed)
        return stratified_test_rows(table[data["target"]], split.test_size, seed)
    if isinstance(split, TimeSplit):
        time_column = data.get("time_column")
        if not time_column:
            raise ReprolabError(
                "data.time_column: not set; split.method=time needs the data config to name one"
            )
        if time_column not in table.columns:
            raise ReprolabError(f"data.time_column: column '{time_column}' not found in the data")
        return time_test_rows(table[time_column], split.test_from)
    if split.group_column not in table.columns:
        raise ReprolabError(
            f"split.group_column: column {split.group_column!r} not found; expected a column "
            "of the table"
        )
    return group_test_rows(table[split.group_column], split.test_size, seed)


def split_dataset(
    frame: pd.DataFrame, data: dict[str, Any], split: SplitSettings, seed: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`frame`'s train and test rows, each in the frame's order."""
    is_test = test_rows(frame, data, split, seed)
    return frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def count_test_rows_in_train(train_keys: np.ndarray, test_keys: np.ndarray) -> int:
    """How many test rows equal some training row (by row keys, `columns.row_keys`, over
    features and target): a model scored on rows it has memorised looks better than it is."""
    if not len(train_keys) or not len(test_keys):
        return 0
    ordered = np.sort(train_keys)
    found = ordered[np.minimum(np.searchsorted(ordered, test_keys), len(ordered) - 1)]
    return int(np.count_nonzero(found == test_keys))


def write_split(
    table: ParquetColumns,
    is_test: np.ndarray,
    paths: tuple[Path, Path],
    columns: list[str],
    max_test_overlap: float,
) -> tuple[int, int, int]:
    """Stream the rows of `table` into the train and test files (`paths`), batch by
    batch in the table's order; count the test rows equal to a training row on
    `columns`. Neither file is written if that share exceeds `max_test_overlap`.
    Returns the train rows, the test rows and the test rows seen in training."""
    keys: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    start = 0
    with table.writer(paths[0]) as train_out, table.writer(paths[1]) as test_out:
        for batch in table.arrow_batches():
            in_test = is_test[start : start + batch.num_rows]
            start += batch.num_rows
            rows = batch.select(columns).to_pandas()
            for part, out, chosen in ((0, train_out, ~in_test), (1, test_out, in_test)):
                out.write_batch(batch.filter(pa.array(chosen)))
                keys[part].append(row_keys(rows[chosen], columns))
        trained, tested = np.concatenate(keys[0]), np.concatenate(keys[1])
        seen = count_test_rows_in_train(trained, tested)
        require_small_overlap(seen, len(tested), max_test_overlap)
    return len(trained), len(tested), seen


def require_small_overlap(seen: int, test_rows: int, max_share: float) -> None:
    if test_rows and seen / test_rows > max_share:
        raise ReprolabError(
            f"split: {seen} of {test_rows} test rows ({seen / test_rows:.1%}) are also training "
            f"rows; expected at most {max_share:.1%} (split.max_test_overlap): metrics on them "
            "would flatter the model. Remove the duplicated rows, split whole groups when "
            "rows repeat a person, school or store (split=group, split.group_column=<column>), "
            "or raise the limit"
        )
