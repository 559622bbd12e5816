"""Are two revisions' metrics comparable, and if not, a fair comparison on shared rows.

Metrics from different test sets (another data version, split method or seed) cannot
be compared: a PASS between them means nothing. `dvc.lock` records the md5 of each
revision's test split, so equal hashes mean the very same rows. When they differ but
the task and target are the same, both models are scored here, with this checkout's
evaluation code, on the champion's test rows that neither model was trained on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reprolab.core.config import Paths
from reprolab.core.errors import ReprolabError
from reprolab.core.lockfile import locked_hashes


@dataclass(frozen=True)
class EvaluationData:
    """What a revision's metrics were measured on."""

    test_md5: str | None
    train_md5: str | None
    model_md5: str | None
    target: str | None
    task: str | None
    test_rows: Any


def evaluation_data(
    lock_text: str, schema: dict[str, Any], metrics: dict[str, Any]
) -> EvaluationData:
    hashes = locked_hashes(lock_text)
    return EvaluationData(
        test_md5=hashes.get(Paths.test.as_posix()),
        train_md5=hashes.get(Paths.train.as_posix()),
        model_md5=hashes.get(Paths.model.as_posix()),
        target=schema.get("target"),
        task=schema.get("task"),
        test_rows=metrics.get("test_rows"),
    )


def differences(base: EvaluationData, head: EvaluationData) -> tuple[list[str], bool]:
    """Why the two revisions' metrics are not comparable (empty: they are), and whether
    scoring both models on shared rows can still compare them (same target and task)."""
    reasons, rescuable = [], True
    for field, what in (("target", "target"), ("task", "task")):
        old, new = getattr(base, field), getattr(head, field)
        if old != new:
            reasons.append(f"the {what} differs ({old!r} vs {new!r})")
            rescuable = False
    if base.test_md5 is None or head.test_md5 is None:
        reasons.append("a revision's dvc.lock records no test split")
        rescuable = False
    elif base.test_md5 != head.test_md5:
        rows = (
            f"{base.test_rows} vs {head.test_rows} rows"
            if base.test_rows != head.test_rows
            else f"both {head.test_rows} rows, other ones"
        )
        reasons.append(f"the test sets differ ({rows}; data version, split or seed changed)")
    return reasons, rescuable


def row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One hash per row over `columns` (values, not positions)."""
    return pd.util.hash_pandas_object(frame[columns], index=False)


def shared_rows(base_test: pd.DataFrame, head_train: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The champion's test rows that are not in the challenger's training rows (a
    challenger that trained on them would be flattered), and how many were left out."""
    columns = [c for c in base_test.columns if c in head_train.columns]
    if not columns:
        raise ReprolabError("the two revisions' tables share no column; expected the same data")
    seen = set(row_keys(head_train, columns))
    keep = ~row_keys(base_test, columns).isin(seen)
    return base_test[keep.to_numpy()].reset_index(drop=True), int((~keep).sum())


def score(model: Any, schema: dict[str, Any], rows: pd.DataFrame, source: str) -> dict[str, Any]:
    """The metrics of `model` on `rows`, with this checkout's evaluation code."""
    from reprolab import evaluation
    from reprolab.features import feature_columns

    missing = [c for c in [*feature_columns(schema), schema["target"]] if c not in rows.columns]
    if missing:
        raise ReprolabError(f"{source}: the shared rows lack column(s) {missing}")
    x, y = rows[feature_columns(schema)], rows[schema["target"]]
    if schema["task"] == "regression":
        return evaluation.regression_metrics(y, model.predict(x))
    return evaluation.classification_metrics(y, model.predict_proba(x), list(model.classes_))


def read_parquet_bytes(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
