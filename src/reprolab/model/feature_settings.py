"""The `features` config section (conf/features) as one frozen dataclass, checked once.

Every value is checked here, before the training rows are read: a typo in an option
that no column of today's data uses (`date_parts` without a date feature) shows the
day it is made, and a misspelt key is refused instead of leaving conf/'s default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reprolab.core.config import section
from reprolab.core.errors import ReprolabError

NUMERIC_IMPUTERS = ("mean", "median")
CATEGORICAL_IMPUTERS = ("most_frequent", "constant")
SCALERS = ("standard", "none")
ENCODINGS = ("auto", "onehot", "ordinal")
DTYPES = ("float32", "float64")
# Calendar parts a date feature may be expanded into (`features.date_parts`), and the
# pandas `.dt` attribute of each.
DATE_PARTS = {
    "year": "year",
    "quarter": "quarter",
    "month": "month",
    "day": "day",
    "dayofweek": "day_of_week",
    "dayofyear": "day_of_year",
    "hour": "hour",
}


@dataclass(frozen=True)
class FeatureSettings:
    numeric_imputer: str
    scaler: str
    # auto (resolved for the model by features.categorical_encoding), onehot or ordinal.
    encoding: str
    categorical_imputer: str
    # A row count (int >= 1), a share of the rows (float in (0, 1)), or None: keep all.
    min_frequency: int | float | None
    dtype: str
    # One-hot matrices larger than this many MiB stay sparse; None: always dense.
    max_dense_mib: float | None
    date_parts: tuple[str, ...]


def feature_settings(params: dict[str, Any]) -> FeatureSettings:
    """`params`' features section, checked, or one line naming the key at fault."""
    found = section(
        params, "features", ("numeric", "categorical", "dtype", "max_dense_mib", "date_parts")
    )
    numeric = section(params, "features.numeric", ("imputer", "scaler"))
    categorical = section(params, "features.categorical", ("encoding", "imputer", "min_frequency"))
    return FeatureSettings(
        numeric_imputer=choice(numeric["imputer"], NUMERIC_IMPUTERS, "features.numeric.imputer"),
        scaler=choice(numeric["scaler"], SCALERS, "features.numeric.scaler"),
        encoding=choice(categorical["encoding"], ENCODINGS, "features.categorical.encoding"),
        categorical_imputer=choice(
            categorical["imputer"], CATEGORICAL_IMPUTERS, "features.categorical.imputer"
        ),
        min_frequency=_min_frequency(categorical["min_frequency"]),
        dtype=choice(found["dtype"], DTYPES, "features.dtype"),
        max_dense_mib=_max_dense_mib(found["max_dense_mib"]),
        date_parts=date_parts(found["date_parts"]),
    )


def choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ReprolabError(f"{key}: found {value!r}; expected one of {list(allowed)}")
    return value


def date_parts(value: Any) -> tuple[str, ...]:
    """`features.date_parts`: a non-empty list of calendar parts."""
    if (
        not isinstance(value, list | tuple)
        or not value
        or any(not isinstance(p, str) or p not in DATE_PARTS for p in value)
    ):
        raise ReprolabError(
            f"features.date_parts: found {value!r}; expected a non-empty list of {list(DATE_PARTS)}"
        )
    return tuple(value)


def _min_frequency(value: Any) -> int | float | None:
    """`features.categorical.min_frequency`: a count >= 1, a share in (0, 1), or null."""
    count = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    share = isinstance(value, float) and 0 < value < 1
    if value is not None and not (count or share):
        raise ReprolabError(
            f"features.categorical.min_frequency: found {value!r}; expected a count >= 1, "
            "a share between 0 and 1, or null"
        )
    return value


def _max_dense_mib(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ReprolabError(
            f"features.max_dense_mib: found {value!r}; expected a size in MiB above 0, or null"
        )
    return value
