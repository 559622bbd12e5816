"""Scoring rows with the trained pipeline: one path for batch prediction and the HTTP
service, so the same rows get the same answer (or the same refusal) on both.

- Columns of the training table that the model does not use (the target, the id and
  time columns, columns excluded from the features) are accepted and ignored;
  any other column is refused, naming it.
- Features are checked with the `validate` stage's own contract (`input_schema`):
  numbers must be finite numbers within the declared ranges (`data.schema.ranges`),
  required ones present; values outside what training saw (`observed_ranges`) are
  scored and flagged.
- Request models for the service are generated from the schema, with every field
  under a neutral name and the column as its alias, so a column may be called
  `model_config` or `_id` without clashing with pydantic.

Pure functions; `reprolab.serve.app` serves them and `reprolab.serve.predict` runs them on files.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from reprolab.core.errors import ReprolabError
from reprolab.data.columns import as_training_types, feature_columns
from reprolab.data.contract import describe_failures, input_schema, validate_frame
from reprolab.data.tables import normalize_booleans
from reprolab.model.evaluation import predicted_labels

# Integers a float64 holds: `10**400` is refused by the request model rather than
# breaking the arithmetic behind it (as `Infinity` and `1e400` are, by allow_inf_nan).
LARGEST = 10**300


def finite_number(low: float | None, high: float | None) -> Any:
    """A finite JSON number in [low, high], each bound on both int and float (a bound on
    the union alone would not reach the OpenAPI schema of its members)."""
    low_int = -LARGEST if low is None else low
    high_int = LARGEST if high is None else high
    return (
        Annotated[StrictInt, Field(ge=low_int, le=high_int)]
        | Annotated[StrictFloat, Field(ge=low, le=high, allow_inf_nan=False)]
    )


def _unicode(text: str) -> str:
    """Text that is Unicode all through: JSON may carry a lone UTF-16 surrogate
    (`"\\ud800"`), which no table, encoder or response can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text with a lone UTF-16 surrogate; expected valid Unicode") from None
    return text


def _date(text: str) -> str:
    """A date as the contract's `is_date` reads one (any format pandas parses)."""
    if pd.isna(pd.to_datetime(text, errors="coerce", format="mixed")):
        raise ValueError("not a date; expected e.g. 2024-01-31")
    return text


# A string field of a record: a category, or a date.
Text = Annotated[StrictStr, AfterValidator(_unicode)]
Date = Annotated[StrictStr, AfterValidator(_unicode), AfterValidator(_date)]


def ignored_columns(schema: dict[str, Any]) -> list[str]:
    """Columns of the training table that the model does not read."""
    named = [schema.get("target"), schema.get("id_column"), schema.get("time_column")]
    named += list(schema.get("excluded") or {})
    features = set(feature_columns(schema))
    return [c for c in dict.fromkeys(named) if c and c not in features]


def require_model_fits_schema(model: Any, schema: dict[str, Any], source: str) -> None:
    """Refuse a model and schema from different tables before the first request."""
    expected = getattr(model, "feature_names_in_", None)
    if expected is not None and sorted(map(str, expected)) != sorted(feature_columns(schema)):
        raise ReprolabError(
            f"{source}: the model was trained on columns {sorted(map(str, expected))} but the "
            f"schema lists {sorted(feature_columns(schema))}; expected both from one pipeline run "
            "(run `dvc checkout`, or `dvc repro`)"
        )


def model_rows(
    frame: pd.DataFrame, schema: dict[str, Any], source: str, checked: bool = False
) -> pd.DataFrame:
    """The features of `frame` as the model reads them, after the checks above.
    `checked`: the rows passed the request model, which carries the same contract
    (`record_model`): the contract's table checks, ~10 ms a call, are not run again."""
    if not checked:  # the request model admits no booleans where features go
        normalize_booleans(frame)
    features, ignored = feature_columns(schema), set(ignored_columns(schema))
    unknown = [str(c) for c in frame.columns if c not in ignored and c not in features]
    if unknown:
        raise ReprolabError(
            f"{source}: unknown column(s) {unknown[:10]}; expected the training table's "
            f"columns: the features {features}, and {sorted(ignored)} (accepted, not used)"
        )
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ReprolabError(
            f"{source}: required column(s) {missing} not found; expected the "
            f"training features {features}"
        )
    rows = frame[features].copy()
    report = {"passed": True} if checked else validate_frame(rows, input_schema(schema))
    if not report["passed"]:
        raise ReprolabError(describe_failures(source, report))
    # As training typed them, whatever a CSV chunk's own inference made of them.
    return as_training_types(rows, schema)


def out_of_range(rows: pd.DataFrame, schema: dict[str, Any]) -> dict[int, list[str]]:
    """The rows (by position) with numeric features whose value lies outside what
    training saw (`observed_ranges` in the schema), and which: flagged, not refused
    (a declared range refuses). Rows with none are absent: a million rows cost a
    comparison per column, not a list per row."""
    flagged: dict[int, list[str]] = {}
    for column, (low, high) in (schema.get("observed_ranges") or {}).items():
        if column not in rows:
            continue
        values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64")
        for index in np.flatnonzero((values < low) | (values > high)).tolist():
            flagged.setdefault(index, []).append(
                f"{column}: {values[index]:g} outside the training range [{low:g}, {high:g}]"
            )
    return flagged


def predictions(model: Any, schema: dict[str, Any], rows: pd.DataFrame) -> pd.DataFrame:
    """`prediction`, and `proba_<class>` per class for classification, one row per row."""
    if schema["task"] == "regression":
        return pd.DataFrame({"prediction": model.predict(rows)}, index=rows.index)
    proba = model.predict_proba(rows)
    classes = [str(c) for c in model.classes_]
    out = {"prediction": predicted_labels(proba, classes)}
    out |= {f"proba_{name}": proba[:, i] for i, name in enumerate(classes)}
    return pd.DataFrame(out, index=rows.index)


def records_frame(records: list[dict[str, Any]], schema: dict[str, Any]) -> pd.DataFrame:
    """Service records as the frame batch prediction would have read from a file."""
    return as_training_types(pd.DataFrame.from_records(records), schema)


def as_json_rows(
    model: Any, task: str, features: pd.DataFrame, flagged: dict[int, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The model's answer for each row of `features`, built from its arrays (no table
    of results in between: a one-record request is mostly this and the model itself);
    `warnings` where a value lies outside the training range."""
    rows: list[dict[str, Any]]
    if task == "regression":
        rows = [{"prediction": float(v)} for v in model.predict(features)]
    else:
        proba = model.predict_proba(features)
        classes = [str(c) for c in model.classes_]
        labels = predicted_labels(proba, classes)
        rows = [
            {"prediction": str(label), "probabilities": dict(zip(classes, row, strict=True))}
            for label, row in zip(labels, proba.tolist(), strict=True)
        ]
    for index, warnings in (flagged or {}).items():
        rows[index]["warnings"] = warnings
    return rows


def score_records(
    model: Any, schema: dict[str, Any], records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What POST /predict answers for `records` (column names as keys). Only the
    features reach the table: the accepted-and-ignored columns may hold anything."""
    columns = feature_columns(schema)
    features = [{c: record.get(c) for c in columns} for record in records]
    features = model_rows(records_frame(features, schema), schema, "records", checked=True)
    flagged = out_of_range(features, schema)
    return as_json_rows(model, schema["task"], features, flagged)


def record_model(schema: dict[str, Any]) -> type[BaseModel]:
    """One input row, with the data contract in its types (so the OpenAPI schema tells
    a client the same rules `model_rows` applies): every feature is a field, null only
    where the contract allows a missing value (the pipeline imputes), numbers finite and
    within the declared ranges, categories strings; the table's unused columns are
    optional and ignored; any other field is refused. Categories unseen in training are
    accepted: the encoder ignores them."""
    contract = schema.get("schema") or {}
    known, ranges = contract.get("categories") or {}, contract.get("ranges") or {}
    required = set(contract.get("required") or [])
    fields: dict[str, Any] = {}
    for index, column in enumerate(feature_columns(schema)):
        if column in schema["numeric"]:
            low, high = ranges.get(column, (None, None))
            kind: Any = finite_number(low, high)
            text = f"numeric feature {column}" + (
                f" in [{low}, {high}]" if column in ranges else ""
            )
        elif column in (schema.get("date_features") or []):
            kind, text = Date, "date, e.g. 2024-01-31 (calendar parts are its features)"
        else:
            seen = known.get(column)
            kind, text = Text, f"category{f'; seen in training: {seen}' if seen else ''}"
        if column not in required:
            kind = kind | None
        fields[f"f{index}"] = (kind, Field(..., alias=column, description=text))
    for index, column in enumerate(ignored_columns(schema)):
        fields[f"i{index}"] = (
            Any,
            Field(None, alias=column, description="column of the training table; ignored"),
        )
    return create_model(
        "Record", __config__=ConfigDict(extra="forbid", populate_by_name=False), **fields
    )


def request_model(record: type[BaseModel], max_records: int) -> type[BaseModel]:
    # A model made at run time from the schema: no static type for mypy to check.
    records: Any = Annotated[list[record], Field(min_length=1, max_length=max_records)]  # type: ignore[valid-type]
    return create_model(
        "PredictRequest", __config__=ConfigDict(extra="forbid"), records=(records, ...)
    )


def response_model(task: str) -> type[BaseModel]:
    """The body of a 200 from POST /predict: one prediction per record, in order."""
    warnings: Any = (
        list[str] | None,
        Field(None, description="values outside what training saw (flagged, still scored)"),
    )
    if task == "regression":
        prediction = create_model("Prediction", prediction=(float, ...), warnings=warnings)
    else:
        prediction = create_model(
            "Prediction",
            prediction=(str, Field(..., description="the most probable class")),
            probabilities=(dict[str, float], Field(..., description="by class; sum to 1")),
            warnings=warnings,
        )
    return create_model("Predictions", predictions=(list[prediction], ...))  # type: ignore[valid-type]


class Refusal(BaseModel):
    """The body of every refusal but a 422: what was wrong, and what was expected."""

    detail: str
