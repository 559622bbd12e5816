"""The out-of-core fit (engine.out_of_core): LightGBM and XGBoost trained from a feature
file read a chunk of rows at a time give the model the whole matrix gives, byte for
byte, for classifiers (category codes included) and regressors; the rows LightGBM
samples for its bins are the same ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprolab.data.parquet_stream import ParquetColumns
from reprolab.model.chunked_fit import (
    ChunkedMatrix,
    CodedLabels,
    _RowWindow,
    fits_from_chunks,
)
from reprolab.model.estimators import build_estimator, fit_estimator, use_categorical_codes
from reprolab.model.persistence import model_bytes

ROWS = 3_000
NUMERIC = [f"num__x{i}" for i in range(6)]
CODES = ["cat__a", "cat__b"]

MODELS = {
    # subsample_for_bin < ROWS: LightGBM samples rows for its bin bounds.
    "lightgbm": ("lightgbm.LGBMClassifier", "classification", {"subsample_for_bin": 1000}),
    "lightgbm_regressor": ("lightgbm.LGBMRegressor", "regression", {"subsample_for_bin": 1000}),
    "xgboost": ("xgboost.XGBClassifier", "classification", {"tree_method": "hist"}),
    "xgboost_regressor": ("xgboost.XGBRegressor", "regression", {"tree_method": "hist"}),
}


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    """A feature file as featurize writes it: float32 columns, codes for categories, a
    target; some values missing."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(ROWS, len(NUMERIC))).astype("float32"), columns=NUMERIC)
    frame.iloc[rng.integers(0, ROWS, 200), 2] = np.nan
    for column in CODES:
        frame[column] = rng.integers(0, 5, ROWS).astype("float32")
    score = frame["num__x0"] + 0.5 * frame["cat__a"] - frame["num__x1"]
    frame["label"] = np.where(score > 1, "high", np.where(score > -1, "mid", "low"))
    frame["value"] = (score + rng.normal(scale=0.1, size=ROWS)).astype("float64")
    path = tmp_path_factory.mktemp("features") / "train_features.parquet"
    frame.to_parquet(path, row_group_size=1_100)  # row groups that chunks cut across
    return path


def _fitted(option, table, matrix, labels=None):
    target, task, extra = MODELS[option]
    estimator = build_estimator(
        {"_target_": target, "n_estimators": 20, "random_state": 3, **extra}, task
    )
    mask = [name.startswith("cat__") for name in NUMERIC + CODES]
    fit_params = use_categorical_codes(estimator, mask)
    if labels is None:
        labels = table["label" if task == "classification" else "value"].to_numpy()
    return fit_estimator(estimator, matrix, labels, 1, fit_params)


@pytest.mark.parametrize("option", list(MODELS))
def test_a_fit_from_chunks_is_the_in_memory_fit_to_the_byte(features, option):
    table = ParquetColumns(features)
    columns = NUMERIC + CODES
    in_memory = _fitted(option, table, table.matrix(columns))
    chunked = ChunkedMatrix(table, columns, chunk_rows=700, dtype=np.dtype("float32"))
    assert fits_from_chunks(in_memory)
    from_chunks = _fitted(option, table, chunked)
    rows = table.matrix(columns)[:500]
    method = "predict_proba" if hasattr(in_memory, "predict_proba") else "predict"
    assert np.array_equal(getattr(from_chunks, method)(rows), getattr(in_memory, method)(rows))
    assert model_bytes(from_chunks) == model_bytes(in_memory)


@pytest.mark.parametrize("option", ["lightgbm", "xgboost"])
def test_labels_held_as_category_codes_give_the_same_model(features, option):
    """train holds a category column's labels as codes: categories in any order, one
    that no row has, give the model that the labels themselves give."""
    table = ParquetColumns(features)
    chunked = ChunkedMatrix(table, NUMERIC + CODES, chunk_rows=700, dtype=np.dtype("float32"))
    order = pd.CategoricalDtype(["mid", "zzz-unused", "low", "high"])
    coded = CodedLabels.of(table["label"].astype(order))
    assert coded is not None and coded.codes.dtype == np.int8
    assert np.array_equal(coded[np.arange(ROWS)], table["label"].to_numpy())
    from_codes = _fitted(option, table, chunked, coded)
    assert model_bytes(from_codes) == model_bytes(_fitted(option, table, chunked))
    assert CodedLabels.of(table["label"].astype(order).where(table["num__x3"] > 0)) is None


def test_a_model_without_a_chunked_fit_is_fitted_in_memory():
    ridge = build_estimator(
        {"_target_": "sklearn.linear_model.Ridge", "random_state": 0}, "regression"
    )
    assert not fits_from_chunks(ridge)


@settings(max_examples=40, deadline=None)
@given(
    chunk_rows=st.integers(50, 2_500),
    picks=st.lists(st.integers(0, ROWS - 1), min_size=1, max_size=50),
    step=st.integers(200, ROWS),
)
def test_the_row_window_gives_the_rows_asked_for_in_any_chunking(features, chunk_rows, picks, step):
    """LightGBM's two passes: single rows in increasing order, then every row by slices."""
    table = ParquetColumns(features)
    columns = NUMERIC + CODES
    whole = table.matrix(columns)
    window = _RowWindow(ChunkedMatrix(table, columns, chunk_rows, np.dtype("float32")))
    for row in sorted(set(picks)):
        assert np.array_equal(window.rows(row, row + 1), whole[row : row + 1], equal_nan=True)
    for start in range(0, ROWS, step):
        got = window.rows(start, min(start + step, ROWS))
        assert np.array_equal(got, whole[start : start + step], equal_nan=True)
