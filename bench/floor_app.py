"""The floor of bench/serving.py: a bare FastAPI endpoint calling the same model's
`predict_proba` on a one-row frame prepared once (no parsing, validation or checks).

    uvicorn floor_app:create_app --factory --app-dir bench
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from reprolab.core.config import Paths
from reprolab.core.files import read_yaml
from reprolab.model.persistence import load_model
from reprolab.serve.scoring import model_rows, records_frame
from serving import RECORD


def create_app() -> FastAPI:
    model, schema = load_model(Paths.model), read_yaml(Paths.schema)
    prepared = model_rows(records_frame([RECORD], schema), schema, "floor")
    app = FastAPI()

    @app.post("/predict")
    def predict(body: dict[str, Any]) -> dict[str, Any]:
        return {"proba": model.predict_proba(prepared).tolist()}

    return app
