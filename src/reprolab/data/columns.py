"""Which columns of a table the model reads, by the effective schema (reports/schema.yaml)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reprolab.core.errors import ReprolabError


def feature_columns(data: dict[str, Any]) -> list[str]:
    """The input columns the model reads: numeric, categorical, then date features."""
    return [
        *(data.get("numeric") or []),
        *(data.get("categorical") or []),
        *(data.get("date_features") or []),
    ]


def as_training_types(frame: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """`frame`'s features (in place) as numbers and text, as the training table held
    them: a numeric feature stored as text ("39.1", from a CSV or a string column)
    becomes float64, a categorical one stored as numbers becomes text (1.5 is "1.5");
    columns already of their kind keep their type (float32 stays float32: the
    preprocessor then computes as it did in training); missing values stay missing.
    Call after the contract's `is_number` check, which names any value that is not."""
    for column in schema.get("numeric") or []:
        if column in frame and not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in schema.get("categorical") or []:
        if column in frame and not _holds_text(frame[column]):
            frame[column] = frame[column].astype("str").where(frame[column].notna())
    return frame


def _holds_text(series: pd.Series) -> bool:
    """Text already (or categories of text), which is kept as it is: a million rows of
    pandas categories are 1 MiB of codes; as strings, tens of MiB."""
    values = series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype) else series
    return pd.api.types.is_string_dtype(values)


def model_columns(data: dict[str, Any]) -> list[str]:
    """The features and the target: what makes two rows the same example."""
    return [*feature_columns(data), data["target"]]


def row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row over `columns` (values, not positions; missing values
    hash alike). Two different rows share a key with odds ~n^2/2^65: 3e-6 at 10M rows."""
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()


def require_columns(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """Fail with the names of any `columns` that `frame` (read from `source`) lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReprolabError(
            f"{source}: column(s) {missing} not found; expected by the data config (conf/data)"
        )


def values_array(series: pd.Series) -> np.ndarray:
    """The values of `series` as a numpy array. For a category column of text, every row
    refers to its category's one string: pandas' own `to_numpy` makes a new string
    object per row (52 MiB for the labels of 750k rows, against 6 MiB of references)."""
    if isinstance(series.dtype, pd.CategoricalDtype) and not series.hasnans:
        # Same dtype as pandas gives (object for text, int64 for whole numbers, ...).
        return series.cat.categories.to_numpy()[series.cat.codes.to_numpy()]
    return series.to_numpy()
