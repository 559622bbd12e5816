"""The production batches the monitor compares with training: every file of
data/production/, read, checked and typed as the training features were.

What monitoring measures passes: values outside the trained ranges, missing values,
categories never seen in training. What no drift score or prediction can be computed
on is refused, naming the file and column: a feature column missing, text in a numeric
feature, infinities, nested cells, a regression label that is not a number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprolab.core.config import PRODUCTION_DIR, SOURCE_FORMAT
from reprolab.core.errors import ReprolabError
from reprolab.core.files import log
from reprolab.data.columns import as_training_types, feature_columns, require_columns
from reprolab.data.contract import describe_failures, monitored_schema, validate_frame
from reprolab.data.tables import csv_options, normalize_booleans, read_table


def read_batches(paths: list[Path], schema: dict[str, Any]) -> list[tuple[str, pd.DataFrame]]:
    """Every non-empty batch, checked and typed, with its file name, in file order (name
    batches by date or number: their order is the monitor's time axis)."""
    frames = []
    for path in paths:
        # Read as ingest read the training file (delimiter, number format, markers).
        options = csv_options(schema.get(SOURCE_FORMAT))
        keep_text = {str(c) for c in schema.get("categorical") or []}
        frame = read_table(path, encoding_key=None, keep_text=keep_text, **options)
        if frame.empty:
            log.info("skipped %s: no rows", path)
            continue
        frames.append((path.name, typed_batch(frame, schema, str(path))))
        log.info("read %s (%d rows, %d columns)", path, len(frame), frame.shape[1])
    if not frames:
        names = ", ".join(path.name for path in paths)
        raise ReprolabError(
            f"{PRODUCTION_DIR}: every batch is empty ({names}); expected rows to compare "
            "with training"
        )
    return frames


def typed_batch(frame: pd.DataFrame, schema: dict[str, Any], source: str) -> pd.DataFrame:
    """One batch with its features checked against the training types and cast to
    them, and a regression label, where present, as numbers."""
    normalize_booleans(frame)
    features = feature_columns(schema)
    require_columns(frame, features, source)
    report = validate_frame(frame[features], monitored_schema(schema))
    if not report["passed"]:
        raise ReprolabError(describe_failures(source, report))
    as_training_types(frame, schema)
    target = schema["target"]
    if schema["task"] == "regression" and target in frame.columns:
        labels = pd.to_numeric(frame[target], errors="coerce").astype("float64")
        wrong = frame[target].notna().to_numpy() & ~np.isfinite(labels.to_numpy())
        if wrong.any():
            examples = frame[target][wrong].head(3).tolist()
            raise ReprolabError(
                f"{source}: column {target!r} (the target): {int(wrong.sum())} label(s) that "
                f"are not finite numbers (e.g. {examples}); expected numbers, or no value "
                "for a row without a label"
            )
        frame[target] = labels
    elif target in frame.columns:
        frame[target] = training_labels(frame[target], schema)
    return frame


def training_labels(labels: pd.Series, schema: dict[str, Any]) -> pd.Series:
    """Class labels as the training classes spell them: a CSV reads `1` where the
    training parquet held the text "1" (or `1.0` where a label is missing), and unequal
    types would score every prediction wrong. Labels of no training class stay as read."""
    by_text = {_label_text(c): c for c in training_classes(schema)}
    # By distinct value, not per row (a million labelled rows hold a few classes).
    spelled = {v: by_text.get(_label_text(v), v) for v in labels.dropna().unique()}
    return labels.map(spelled)


def training_classes(schema: dict[str, Any]) -> list[Any]:
    """The classes the model was trained on, as the schema's contract lists them."""
    return (schema.get("schema") or {}).get("classes") or []


def _label_text(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
