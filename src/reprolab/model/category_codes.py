"""Categorical features as one column of category codes each, for the models that split on
categories natively (`features.categorical.encoding: ordinal`).

The same codes as scikit-learn's `OrdinalEncoder(handle_unknown="use_encoded_value",
unknown_value=nan, encoded_missing_value=nan, min_frequency=..., max_categories=...)`:
the categories seen in training in sorted order, infrequent ones sharing the code after
the frequent ones, missing and unseen values NaN. Computed from pandas' own category
codes instead of object arrays: for 750k rows x 5 features OrdinalEncoder peaked at
256 MiB for a 14 MiB output and took ~5 s; this reads each column's small-integer codes.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from reprolab.core.errors import ReprolabError


def _infrequent(
    counts: np.ndarray, rows: int, min_frequency: Any, max_categories: Any
) -> np.ndarray:
    """Which categories (with these counts, in sorted order) are infrequent: as
    OrdinalEncoder decides (fewer than min_frequency rows, or a share of the rows; then,
    beyond max_categories - 1 kept, the rarest, ties broken by sorted order)."""
    if isinstance(min_frequency, numbers.Integral):
        infrequent = counts < min_frequency
    elif isinstance(min_frequency, numbers.Real):
        infrequent = counts < rows * min_frequency
    else:
        infrequent = np.zeros(len(counts), dtype=bool)
    kept = len(counts) - int(infrequent.sum()) + 1  # the infrequent ones count as one
    if max_categories is not None and max_categories < kept:
        frequent = max_categories - 1
        if frequent == 0:
            infrequent[:] = True
        else:
            infrequent[np.argsort(counts, kind="mergesort")[:-frequent]] = True
    return infrequent


class CategoryCodes(TransformerMixin, BaseEstimator):
    """Each column to the float code of its category (see the module's docstring)."""

    def __init__(
        self,
        min_frequency: int | float | None = None,
        max_categories: int | None = None,
        dtype: str = "float64",
    ):
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.dtype = dtype

    def fit(self, frame: pd.DataFrame, y: Any = None) -> CategoryCodes:
        frame = pd.DataFrame(frame)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.categories_: list[list[Any]] = []
        self.codes_: list[list[int]] = []
        for column in frame.columns:
            counts = frame[column].value_counts(dropna=True, sort=False)
            counts = counts[counts > 0]  # a category type's unused categories are not seen
            # Sorted by value, as OrdinalEncoder sorts (np.unique of the seen values).
            try:
                order = np.argsort(np.asarray(counts.index, dtype=object), kind="stable")
            except TypeError as error:  # e.g. numbers and text in one column
                raise ReprolabError(
                    f"column {column!r}: categories of mixed types ({error}); expected all text "
                    "or all numbers"
                ) from None
            values, seen = counts.index[order], counts.to_numpy()[order]
            infrequent = _infrequent(seen, len(frame), self.min_frequency, self.max_categories)
            codes = np.cumsum(~infrequent) - 1
            codes[infrequent] = int((~infrequent).sum())
            self.categories_.append(np.asarray(values, dtype=object).tolist())
            self.codes_.append(codes.tolist())
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        frame = pd.DataFrame(frame)
        out = np.empty((len(frame), len(self.categories_)), dtype=self.dtype)
        for j, (column, categories) in enumerate(zip(frame.columns, self.categories_, strict=True)):
            # Position -1 (missing, or never seen in training) picks the NaN at the end.
            lookup = np.append(np.asarray(self.codes_[j], dtype=self.dtype), np.nan)
            known = pd.Index(categories, dtype=object)
            values = frame[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                # Map the column's few categories, then index by its codes (-1: missing).
                lookup = np.append(lookup[known.get_indexer(values.cat.categories)], np.nan)
                out[:, j] = lookup[values.cat.codes.to_numpy()]
            else:
                out[:, j] = lookup[known.get_indexer(values)]
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray(names, dtype=object)
