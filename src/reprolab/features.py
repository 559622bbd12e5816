"""The preprocessing step of the model: impute and scale numbers, impute and one-hot categories."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from reprolab.errors import ReprolabError

NUMERIC_IMPUTERS = ("mean", "median")
CATEGORICAL_IMPUTERS = ("most_frequent", "constant")
SCALERS = ("standard", "none")


def _choice(value: str, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise ReprolabError(f"{key}: found {value!r}; expected one of {list(allowed)}")
    return value


def build_preprocessor(
    numeric: list[str], categorical: list[str], features: dict[str, Any]
) -> ColumnTransformer:
    """An unfitted ColumnTransformer for the given feature columns."""
    num_cfg, cat_cfg = features["numeric"], features["categorical"]
    num_steps: list[tuple[str, Any]] = [
        (
            "impute",
            SimpleImputer(
                strategy=_choice(num_cfg["imputer"], NUMERIC_IMPUTERS, "features.numeric.imputer")
            ),
        ),
    ]
    if _choice(num_cfg["scaler"], SCALERS, "features.numeric.scaler") == "standard":
        num_steps.append(("scale", StandardScaler()))

    strategy = _choice(cat_cfg["imputer"], CATEGORICAL_IMPUTERS, "features.categorical.imputer")
    min_frequency = cat_cfg.get("min_frequency")
    cat_steps = [
        ("impute", SimpleImputer(strategy=strategy, fill_value="missing")),
        # Categories never seen in training encode as all zeros instead of failing.
        (
            "onehot",
            OneHotEncoder(
                handle_unknown="infrequent_if_exist" if min_frequency else "ignore",
                min_frequency=min_frequency,
                sparse_output=False,
            ),
        ),
    ]
    transformers = []
    if numeric:
        transformers.append(("num", Pipeline(num_steps), list(numeric)))
    if categorical:
        transformers.append(("cat", Pipeline(cat_steps), list(categorical)))
    if not transformers:
        raise ReprolabError("data.numeric, data.categorical: both empty; expected feature columns")
    return ColumnTransformer(transformers, remainder="drop")


def feature_columns(data: dict[str, Any]) -> list[str]:
    return [*(data.get("numeric") or []), *(data.get("categorical") or [])]


def require_columns(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """Fail with the names of any `columns` that `frame` (read from `source`) lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReprolabError(
            f"{source}: column(s) {missing} not found; expected by the data config (conf/data)"
        )


def transform_to_frame(preprocessor: ColumnTransformer, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply a fitted preprocessor; columns are named as the preprocessor names them."""
    values = np.asarray(preprocessor.transform(frame), dtype="float64")
    return pd.DataFrame(values, columns=list(preprocessor.get_feature_names_out()))
