"""What the prediction service needs from the training schema: request models generated
from it, and predictions as JSON-ready rows. Pure functions; `reprolab.service` serves them."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, create_model

Number = StrictInt | StrictFloat


def record_model(schema: dict[str, Any]) -> type[BaseModel]:
    """One input row: every training feature is a required field (null allowed: the
    pipeline imputes), numbers must be numbers, categories strings, and unknown fields
    are refused. Categories unseen in training are accepted: the encoder ignores them."""
    fields: dict[str, Any] = {}
    for column in schema["numeric"]:
        fields[column] = (Number | None, Field(..., description=f"numeric feature {column}"))
    for column in schema["categorical"]:
        known = (schema.get("schema") or {}).get("categories", {}).get(column)
        hint = f"; seen in training: {known}" if known else ""
        fields[column] = (StrictStr | None, Field(..., description=f"category{hint}"))
    return create_model("Record", __config__=ConfigDict(extra="forbid"), **fields)


def request_model(record: type[BaseModel], max_records: int) -> type[BaseModel]:
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(Annotated[list[record], Field(min_length=1, max_length=max_records)], ...),
    )


def predict_rows(model: Any, schema: dict[str, Any], records: list[dict]) -> list[dict]:
    """Prediction (and class probabilities for classification) for each record."""
    columns = [*schema["numeric"], *schema["categorical"]]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in schema["numeric"]:
        frame[column] = frame[column].astype("float64")
    for column in schema["categorical"]:
        frame[column] = frame[column].astype("str")
    if schema["task"] == "regression":
        return [{"prediction": float(v)} for v in model.predict(frame)]
    proba = model.predict_proba(frame)
    classes = [str(c) for c in model.classes_]
    return [
        {
            "prediction": classes[int(row.argmax())],
            "probabilities": {c: float(p) for c, p in zip(classes, row, strict=True)},
        }
        for row in proba
    ]
