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


def test_an_error_no_handler_caught_is_a_json_500_counted_under_its_route(caplog):
    """What a handler's unforeseen exception becomes through the service's middleware
    stack (Starlette's own, in process): a JSON 500, one log line, and a 5xx in the
    metrics an alert reads (the timing middleware counted only handlers that returned)."""
    import asyncio

    import httpx
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from reprolab.serve.app import _metrics
    from reprolab.serve.limits import RequestLimits
    from reprolab.serve.middleware import LastResort, Measure

    app = FastAPI()
    metrics = _metrics(CollectorRegistry())

    @app.post("/predict")
    def predict() -> dict:
        raise KeyError("\ud800 a lone surrogate in the message too")

    app.add_middleware(RequestLimits, limit=1000, timeout=5.0, concurrency=4)
    app.add_middleware(LastResort)
    app.add_middleware(Measure, routes=app.router.routes, metrics=metrics)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/predict", json={})

    with caplog.at_level("ERROR", logger="reprolab.serve"):
        response = asyncio.run(call())
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the service logged it"}
    assert "POST /predict: unexpected KeyError" in caplog.text
    counted = metrics["requests"].labels(endpoint="/predict", status="500")._value.get()
    assert counted == 1


def test_values_outside_what_training_saw_are_flagged_per_row_not_refused():
    import pandas as pd

    from reprolab.serve.scoring import as_json_rows, out_of_range

    schema = {"observed_ranges": {"age": [18.0, 90.0], "income": [0.0, 1e5]}}
    rows = pd.DataFrame({"age": [300.0, 40.0, None], "income": [5.0, -1.0, 7.0]})
    flagged = out_of_range(rows, schema)
    assert flagged == {
        0: ["age: 300 outside the training range [18, 90]"],
        1: ["income: -1 outside the training range [0, 100000]"],
    }

    class Constant:  # a regressor answering 1, 2, 3
        def predict(self, rows):
            return [1.0, 2.0, 3.0][: len(rows)]

    answers = as_json_rows(Constant(), "regression", rows, flagged)
    assert [a["prediction"] for a in answers] == [1.0, 2.0, 3.0]
    assert answers[0]["warnings"] == flagged[0] and "warnings" not in answers[2]
