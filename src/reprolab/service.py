"""The HTTP prediction service: the trained pipeline behind FastAPI.

    make serve        # uvicorn on serve.host:serve.port (127.0.0.1:8000 by default)

GET /health, GET /metadata (what the model was trained on, and how it scored),
POST /predict (a batch of records; request models generated from the training
schema, so a wrong type, an unknown field or a missing one is HTTP 422 naming it),
GET /metrics (Prometheus), and the OpenAPI docs at /docs and /openapi.json.
Run from the repository root, after `dvc repro`.
"""

# No `from __future__ import annotations` here: FastAPI must see the generated request
# model itself in `predict`'s signature, not the string naming a local variable.

import json
import subprocess
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from reprolab.core.config import Paths, get, load_params
from reprolab.core.files import read_yaml
from reprolab.persistence import load_model
from reprolab.serving import predict_rows, record_model, request_model


def _metrics(registry: CollectorRegistry) -> dict[str, Any]:
    return {
        "requests": Counter(
            "reprolab_requests", "HTTP requests", ["endpoint", "status"], registry=registry
        ),
        "latency": Histogram(
            "reprolab_request_seconds", "Request latency", ["endpoint", "status"], registry=registry
        ),
        "predictions": Counter(
            "reprolab_predictions", "Predictions made, by class", ["prediction"], registry=registry
        ),
        "rejected": Counter(
            "reprolab_rejected_rows", "Input rows refused by validation", registry=registry
        ),
    }


def _git_revision() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def metadata() -> dict[str, Any]:
    """The model card, plus the git revision of the checkout being served."""
    card = json.loads(Paths.card_json.read_text()) if Paths.card_json.exists() else {}
    return {**card, "git_revision": _git_revision()}


def create_app() -> FastAPI:
    params = load_params()
    serve, schema = get(params, "serve"), read_yaml(Paths.schema)
    model = load_model(Paths.model)
    Record = record_model(schema)  # noqa: N806 - a class
    PredictRequest = request_model(Record, int(serve["max_records"]))  # noqa: N806
    registry = CollectorRegistry()
    metrics = _metrics(registry)
    info = metadata()
    app = FastAPI(
        title="reprolab prediction service",
        version="1",
        description=f"Predicts `{schema['target']}` ({schema['task']}).",
    )

    @app.middleware("http")
    async def measure_and_limit(request: Request, call_next):
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length and int(length) > int(serve["max_body_bytes"]):
            response: Response = JSONResponse(
                {
                    "detail": f"request body of {length} bytes; expected at most "
                    f"{serve['max_body_bytes']} (serve.max_body_bytes)"
                },
                status_code=413,
            )
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        endpoint = route.path if route else "unmatched"
        labels = {"endpoint": endpoint, "status": str(response.status_code)}
        metrics["requests"].labels(**labels).inc()
        metrics["latency"].labels(**labels).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(RequestValidationError)
    async def refuse(request: Request, error: RequestValidationError):
        body = error.body if isinstance(error.body, dict) else {}
        records = body.get("records") if isinstance(body.get("records"), list) else []
        metrics["rejected"].inc(max(len(records), 1))
        return JSONResponse(
            {"detail": json.loads(json.dumps(error.errors(), default=str))}, status_code=422
        )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metadata")
    def get_metadata() -> dict[str, Any]:
        return info

    refusals = {
        400: {"description": "The body is not JSON text (e.g. not UTF-8)."},
        413: {"description": "The body is larger than serve.max_body_bytes."},
    }

    @app.post("/predict", responses=refusals)
    def predict(payload: PredictRequest) -> dict[str, Any]:  # type: ignore[valid-type]
        rows = predict_rows(model, schema, [r.model_dump() for r in payload.records])
        if schema["task"] == "classification":
            for row in rows:
                metrics["predictions"].labels(prediction=row["prediction"]).inc()
        return {"predictions": rows}

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def main() -> None:
    import uvicorn

    serve = get(load_params(), "serve")
    uvicorn.run(
        "reprolab.service:create_app",
        factory=True,
        host=serve["host"],
        port=int(serve["port"]),
        log_level="info",
    )


if __name__ == "__main__":
    main()
