"""Train/test splits: stratified random, or out-of-time by a time column."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reprolab.core.config import number
from reprolab.core.errors import ReprolabError


def split_stratified(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random split that keeps each class's share of rows in both parts."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    if not 0.0 < test_size < 1.0:
        raise ReprolabError(f"split.test_size: found {test_size}; expected a fraction in (0, 1)")
    counts = frame[target].value_counts()
    too_small = counts[counts < 2]
    if not too_small.empty:
        raise ReprolabError(
            f"column '{target}': class(es) {sorted(map(str, too_small.index))} have fewer than "
            "2 rows; a stratified split needs at least 2 rows per class"
        )
    try:
        train, test = train_test_split(
            frame, test_size=test_size, stratify=frame[target], random_state=seed
        )
    except ValueError as error:
        raise ReprolabError(f"column '{target}': cannot stratify the split: {error}") from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


def split_random(
    frame: pd.DataFrame, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plain seeded random split (a continuous target has no classes to stratify)."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    if not 0.0 < test_size < 1.0:
        raise ReprolabError(f"split.test_size: found {test_size}; expected a fraction in (0, 1)")
    train, test = train_test_split(frame, test_size=test_size, random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def split_by_time(
    frame: pd.DataFrame, time_column: str, test_from: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows at or after `test_from` form the test set; the rest train the model."""
    if time_column not in frame.columns:
        raise ReprolabError(f"data.time_column: column '{time_column}' not found in the data")
    values = frame[time_column]
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
    train, test = frame[~is_test], frame[is_test]
    if train.empty or test.empty:
        low, high = values.min(), values.max()
        raise ReprolabError(
            f"split.test_from: {test_from!r} leaves an empty "
            f"{'train' if train.empty else 'test'} set; expected a value inside the range of "
            f"column '{time_column}' ({low!r} to {high!r}), above its minimum"
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def split_dataset(
    frame: pd.DataFrame, data: dict[str, Any], split: dict[str, Any], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split as the `split` config section says."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ReprolabError(f"seed: found {seed!r}; expected a whole number in [0, 2**32)")
    method = split.get("method")
    if method == "stratified":
        test_size = number(split.get("test_size"), "split.test_size", 0.0, 1.0)
        if data.get("task") == "regression":
            return split_random(frame, test_size, seed)
        return split_stratified(frame, data["target"], test_size, seed)
    if method == "time":
        if not data.get("time_column"):
            raise ReprolabError(
                "data.time_column: not set; split.method=time needs the data config to name one"
            )
        return split_by_time(frame, data["time_column"], split["test_from"])
    raise ReprolabError(f"split.method: unknown method {method!r}; expected 'stratified' or 'time'")


def row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One 64-bit hash per row over `columns` (values, not positions)."""
    return pd.util.hash_pandas_object(frame[columns], index=False)


def count_test_rows_in_train(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> int:
    """How many test rows equal some training row on `columns` (features and target):
    a model scored on rows it has memorised looks better than it is."""
    return int(row_keys(test, columns).isin(set(row_keys(train, columns))).sum())


def require_small_overlap(seen: int, test_rows: int, max_share: Any) -> None:
    max_share = number(max_share, "split.max_test_overlap", 0.0, 1.0)
    if test_rows and seen / test_rows > max_share:
        raise ReprolabError(
            f"split: {seen} of {test_rows} test rows ({seen / test_rows:.1%}) are also training "
            f"rows; expected at most {max_share:.1%} (split.max_test_overlap): metrics on them "
            "would flatter the model. Remove the duplicated rows (or raise the limit)"
        )
