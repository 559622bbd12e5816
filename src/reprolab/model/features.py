"""The preprocessing step of the model: impute and scale numbers, encode categories.

Categories are one-hot encoded for most models. Gradient boosting (histogram, LightGBM,
XGBoost) splits on categories natively, so for it (`encoding: auto`) each categorical feature stays
one column of category codes: at 10M rows and 5 features of 3-50 categories that
is 25 columns instead of 108, and a tree that groups categories in one split.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from reprolab.core.errors import ReprolabError
from reprolab.data.parquet_stream import BATCH_ROWS, ParquetColumns
from reprolab.model.category_codes import CategoryCodes
from reprolab.model.feature_settings import DATE_PARTS, FeatureSettings
from reprolab.model.libraries import native_categorical

# Estimators that take category codes as categories (model/libraries.py; told which
# columns by model.estimators.use_categorical_codes).
NATIVE_CATEGORICAL = native_categorical()
# Histogram gradient boosting bins a categorical feature into at most 255 categories;
# rarer ones beyond that share one code.
MAX_NATIVE_CATEGORIES = 255


class CalendarParts(TransformerMixin, BaseEstimator):
    """Date columns (dates, datetimes or date strings) to numeric calendar parts: one
    column per (date column, part), named `<column>_<part>`; a missing or unreadable
    date gives NaN (imputed next). Part of the shipped model, so the service and batch
    prediction take raw dates."""

    def __init__(self, parts: tuple[str, ...] | list[str] = ("year", "month", "dayofweek")):
        self.parts = parts

    def fit(self, frame: pd.DataFrame, y: Any = None) -> CalendarParts:
        unknown = [p for p in self.parts if p not in DATE_PARTS]
        if unknown or not self.parts:
            raise ReprolabError(
                f"features.date_parts: found {list(self.parts)!r}; expected some of {list(DATE_PARTS)}"
            )
        self.columns_ = [str(c) for c in frame.columns]
        self.n_features_in_ = len(self.columns_)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        out = []
        for column in self.columns_:
            dates = pd.to_datetime(frame[column], errors="coerce", format="mixed")
            out += [
                getattr(dates.dt, DATE_PARTS[part]).astype("float64").to_numpy()
                for part in self.parts
            ]
        return np.column_stack(out) if out else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"{c}_{p}" for c in self.columns_ for p in self.parts], dtype=object)


def categorical_encoding(settings: FeatureSettings, model_target: str | None) -> str:
    """`features.categorical.encoding`, with `auto` resolved for the model."""
    if settings.encoding == "auto":
        return "ordinal" if model_target in NATIVE_CATEGORICAL else "onehot"
    return settings.encoding


def keep_sparse(
    rows: int, numeric: int, cardinalities: list[int], encoding: str, settings: FeatureSettings
) -> bool:
    """Whether one-hot features stay sparse: when their dense matrix would be larger
    than features.max_dense_mib (null: always dense)."""
    limit = settings.max_dense_mib
    if encoding != "onehot" or not cardinalities or limit is None:
        return False
    # One column per category, plus one per feature for "missing" or infrequent ones.
    width = numeric + sum(cardinalities) + len(cardinalities)
    return rows * width * np.dtype(settings.dtype).itemsize > limit * 2**20


def merged_columns(
    frame: pd.DataFrame, categorical: list[str], settings: FeatureSettings
) -> list[str]:
    """Categorical columns whose every category is rarer than
    `features.categorical.min_frequency` (the encoders' rule: fewer rows than the count,
    or than the share of the rows): merged into one "infrequent" category, each is a
    constant feature, which featurize says rather than letting it pass."""
    min_frequency = settings.min_frequency
    if min_frequency is None:
        return []
    least = min_frequency if isinstance(min_frequency, int) else len(frame) * min_frequency
    merged = []
    for column in categorical:
        counts = frame[column].value_counts()
        if len(counts) and (counts < least).all():
            merged.append(column)
    return merged


def _categorical_steps(
    settings: FeatureSettings, encoding: str, cardinality: int, sparse: bool
) -> list[tuple]:
    min_frequency, dtype = settings.min_frequency, settings.dtype
    if encoding == "ordinal":
        # No imputer: a missing value stays missing (NaN), which the trees route on their own,
        # as they do with categories never seen in training.
        return [
            (
                "codes",
                CategoryCodes(
                    min_frequency=min_frequency,
                    # Only above the cap: the rule keeps a code for infrequent categories
                    # even when there are none (255 categories would lose one).
                    max_categories=(
                        MAX_NATIVE_CATEGORIES if cardinality > MAX_NATIVE_CATEGORIES else None
                    ),
                    dtype=dtype,
                ),
            )
        ]
    return [
        ("impute", SimpleImputer(strategy=settings.categorical_imputer, fill_value="missing")),
        # Categories never seen in training encode as all zeros instead of failing.
        (
            "onehot",
            OneHotEncoder(
                handle_unknown="infrequent_if_exist" if min_frequency else "ignore",
                min_frequency=min_frequency,
                sparse_output=sparse,
                dtype=dtype,
            ),
        ),
    ]


def median_of(values: np.ndarray) -> float:
    """The median of one column's non-missing values: SimpleImputer's strategy for
    `features.numeric.imputer: median`. Its built-in "median" sorts the whole matrix
    at once through numpy.ma, with an int64 index per value: 5.8x the matrix (330 MiB
    for 750k x 20 float32; 4.4 GiB at 10M rows) and 3.4 s, where this, called column
    by column, took 4 MiB and 0.2 s. The same value (the middle one, or the mean of
    the two middle ones); NaN for a column with no value, which the imputer drops."""
    return float(np.median(values)) if len(values) else float("nan")


def build_preprocessor(
    numeric: list[str],
    categorical: list[str],
    settings: FeatureSettings,
    encoding: str = "onehot",
    cardinality: int = 0,
    sparse: bool = False,
    dates: list[str] | None = None,
) -> ColumnTransformer:
    """An unfitted ColumnTransformer for the given feature columns; `cardinality` is
    the largest number of categories of a categorical feature in the training data,
    `sparse` whether one-hot output stays a sparse matrix (keep_sparse), `dates` the
    date columns expanded into `features.date_parts`."""
    strategy = settings.numeric_imputer
    num_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy=median_of if strategy == "median" else strategy)),
    ]
    if settings.scaler == "standard":
        num_steps.append(("scale", StandardScaler()))

    transformers = []
    if numeric:
        transformers.append(("num", Pipeline(num_steps), list(numeric)))
    if categorical:
        cat_steps = _categorical_steps(settings, encoding, cardinality, sparse)
        transformers.append(("cat", Pipeline(cat_steps), list(categorical)))
    if dates:
        date_steps = [
            ("parts", CalendarParts(settings.date_parts)),
            ("impute", SimpleImputer(strategy=median_of)),
        ]
        transformers.append(("date", Pipeline(date_steps), list(dates)))
    if not transformers:
        raise ReprolabError("data.numeric, data.categorical: both empty; expected feature columns")
    if sparse:
        # Sparse whenever any part is: numbers and one-hot columns in one sparse matrix.
        return ColumnTransformer(transformers, remainder="drop", sparse_threshold=1.0)
    return ColumnTransformer(transformers, remainder="drop")


def native_categorical_mask(preprocessor: ColumnTransformer) -> list[bool] | None:
    """Which output columns hold category codes (ordinal encoding), or None if none do."""
    if "cat" not in preprocessor.named_transformers_:
        return None
    encoder = preprocessor.named_transformers_["cat"].steps[-1][1]
    if not isinstance(encoder, CategoryCodes):
        return None
    return [name.startswith("cat__") for name in preprocessor.get_feature_names_out()]


def encoded(
    preprocessor: ColumnTransformer, frame: pd.DataFrame, dtype: str = "float64", fit: bool = False
) -> np.ndarray:
    """Apply a preprocessor (fitting it first if `fit`: one pass over the data instead of
    two, as scikit-learn's fit computes the transform anyway); a dense array of `dtype`."""
    values = preprocessor.fit_transform(frame) if fit else preprocessor.transform(frame)
    # copy=False: the transform's output is already a fresh array of this dtype.
    return np.asarray(values).astype(dtype, copy=False)


def transform_to_frame(
    preprocessor: ColumnTransformer, frame: pd.DataFrame, dtype: str = "float64", fit: bool = False
) -> pd.DataFrame:
    """`encoded`, with the columns named as the preprocessor names them."""
    values = encoded(preprocessor, frame, dtype, fit)
    return pd.DataFrame(values, columns=list(preprocessor.get_feature_names_out()), copy=False)


def feature_batches(
    features: np.ndarray | pd.DataFrame, names: list[str], labels: pd.Series
) -> Iterator[pd.DataFrame]:
    """The rows of `features` (a matrix whose columns are `names`, or a frame) and of
    `labels` as frames of BATCH_ROWS rows: written one by one, the table is converted
    to parquet a batch at a time instead of copied whole."""
    for start in range(0, max(len(labels), 1), BATCH_ROWS):
        rows = slice(start, start + BATCH_ROWS)
        if isinstance(features, pd.DataFrame):
            batch = features.iloc[rows].reset_index(drop=True)
        else:
            batch = pd.DataFrame(features[rows], columns=names, copy=False)
        # Its own type (categories stay categories: labels share one string each).
        batch[labels.name] = labels.iloc[rows].reset_index(drop=True)
        yield batch


def training_matrix(
    table: ParquetColumns,
    preprocessor: ColumnTransformer,
    target: str,
    dtype: Any = None,
    chunk_rows: int | None = None,
) -> Any:
    """The matrix to fit on, from featurize's output: its encoded columns read one by one
    into one array (of `dtype`, default the stored precision: no other copy), or, with
    `chunk_rows`, left in the file to be read that many rows at a time (ChunkedMatrix);
    when featurize kept the input columns because the encoded matrix is sparse and too
    large as a dense one, encoded here."""
    from reprolab.model.chunked_fit import ChunkedMatrix  # noqa: PLC0415

    found = [column for column in table.columns if column != target]
    if found == list(preprocessor.get_feature_names_out()):
        if chunk_rows:
            return ChunkedMatrix(table, found, chunk_rows, dtype or table.stored_dtype(found))
        return table.matrix(found, dtype)
    if preprocessor.sparse_output_ and found == list(preprocessor.feature_names_in_):
        return preprocessor.transform(pd.concat(list(table.batches(found)), ignore_index=True))
    raise ReprolabError(
        f"{table.path}: feature columns do not match the fitted preprocessor; expected both "
        "from the same featurize run (run `dvc repro`)"
    )
