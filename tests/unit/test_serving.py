"""The one scoring path of batch prediction and the service, on small in-memory tables."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from reprolab.core.errors import ReprolabError
from reprolab.serve.scoring import model_rows, record_model, request_model

SCHEMA = {
    "task": "classification",
    "target": "label",
    "numeric": ["model_config", "_weight"],
    "categorical": ["model_dump"],
    "id_column": "id",
    "time_column": None,
    "excluded": {"notes": "free text"},
    "schema": {"ranges": {"_weight": [0, 10]}, "required": ["model_dump"]},
}


def test_columns_named_like_pydantic_machinery_make_a_working_request_model():
    request = request_model(record_model(SCHEMA), max_records=5)
    payload = request.model_validate(
        {"records": [{"model_config": 1.5, "_weight": 2, "model_dump": "a", "notes": "x"}]}
    )
    assert payload.records[0].model_dump(by_alias=True) == {
        "model_config": 1.5,
        "_weight": 2,
        "model_dump": "a",
        "label": None,
        "id": None,
        "notes": "x",
    }


@pytest.mark.parametrize(
    "record",
    [
        {"model_config": float("inf"), "_weight": 1, "model_dump": "a"},
        {"model_config": 10**400, "_weight": 1, "model_dump": "a"},
        {"model_config": 1, "_weight": 11, "model_dump": "a"},  # out of the trained range
        {"model_config": 1, "_weight": 1, "model_dump": None},  # required
        {"model_config": 1, "_weight": 1, "model_dump": "a", "colour": "red"},  # unknown
    ],
)
def test_request_model_refuses_what_batch_prediction_refuses(record):
    with pytest.raises(ValidationError):
        record_model(SCHEMA).model_validate(record)
    with pytest.raises(ReprolabError):
        model_rows(pd.DataFrame([record]), SCHEMA, "rows.csv")


def test_unused_table_columns_are_dropped_and_unknown_ones_named():
    frame = pd.DataFrame(
        [{"model_config": 1.0, "_weight": 2.0, "model_dump": "a", "label": "y", "notes": "n"}]
    )
    assert list(model_rows(frame, SCHEMA, "rows.csv").columns) == [
        "model_config",
        "_weight",
        "model_dump",
    ]
    with pytest.raises(ReprolabError, match=r"rows.csv: unknown column\(s\) \['colour'\]"):
        model_rows(frame.assign(colour=1), SCHEMA, "rows.csv")
