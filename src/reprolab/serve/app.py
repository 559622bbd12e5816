"""The HTTP prediction service: the trained pipeline behind FastAPI.

    make serve        # uvicorn on serve.host:serve.port (127.0.0.1:8000 by default)

GET /health, GET /metadata (what the model was trained on, and how it scored),
POST /predict (a batch of records; request models generated from the training
schema, so a wrong type, an unknown field or a missing one is HTTP 422 naming it),
GET /metrics (Prometheus), and the OpenAPI docs at /docs and /openapi.json.
Run from the repository root, after `dvc repro`.

At start the model and schema files must be the ones dvc.lock records (else one line
names the fix: `dvc checkout`); `--allow-unlisted-model` (or the environment variable
REPROLAB_ALLOW_UNLISTED_MODEL=1) serves a model file that dvc.lock does not list.

    make serve STAGE=prod   # the registered version that holds prod (docs/registry.md)

`--served DIR --stage prod`: serve a registered version fetched by
`python -m reprolab.workflow.registry fetch --stage prod` (its model checked against
its own commit's dvc.lock) instead of the workspace's files; /health and /metadata
say which version and stage (null for the workspace's model).
"""

# No `from __future__ import annotations` here: FastAPI must see the generated request
# model itself in `predict`'s signature, not the string naming a local variable.

import json
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
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

from reprolab.core.config import LOCK_FILE, Paths, load_params, section, whole
from reprolab.core.errors import ReprolabError
from reprolab.core.files import read_yaml
from reprolab.core.lockfile import require_locked
from reprolab.model.persistence import load_model
from reprolab.serve.limits import RequestLimits, bounded_errors
from reprolab.serve.middleware import LastResort, Measure
from reprolab.serve.scoring import (
    Refusal,
    record_model,
    request_model,
    require_model_fits_schema,
    response_model,
    score_records,
)
from reprolab.workflow.vcs import call

ALLOW_UNLISTED = "REPROLAB_ALLOW_UNLISTED_MODEL"
# A fetched registered version's folder and the stage it was fetched for (set by
# --served/--stage, read again by each uvicorn worker).
SERVED = "REPROLAB_SERVED"
SERVED_STAGE = "REPROLAB_SERVED_STAGE"


@dataclass(frozen=True)
class Served:
    """Where the served files are: the workspace, or a fetched registered version."""

    root: Path
    version: str | None
    stage: str | None
    revision: str | None


def served_source() -> Served:
    folder = os.environ.get(SERVED)
    if not folder:
        return Served(Path(), None, None, _git_revision())
    info_file = Path(folder) / "served.json"
    if not info_file.is_file():
        raise ReprolabError(
            f"{info_file}: not found; expected a folder made by "
            "`python -m reprolab.workflow.registry fetch --stage <stage>`"
        )
    info = json.loads(info_file.read_text(encoding="utf-8"))
    return Served(Path(folder), info["version"], os.environ.get(SERVED_STAGE), info["commit"])


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
        "out_of_range": Counter(
            "reprolab_out_of_range_values",
            "Values scored though outside what training saw, by feature",
            ["feature"],
            registry=registry,
        ),
    }


def _git_revision() -> str | None:
    try:
        return call("git", "rev-parse", "HEAD", check=False).stdout.strip() or None
    except ReprolabError:
        return None


@dataclass(frozen=True)
class ServeSettings:
    """The `serve` section, checked at start: a wrong value stops the service there,
    not on every request."""

    host: str
    port: int
    workers: int
    max_records: int
    max_body_bytes: int
    body_timeout_seconds: float
    max_concurrent_requests: int

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ServeSettings":
        serve = section(params, "serve", (f.name for f in fields(cls)))
        counts = {
            key: whole(serve[key], f"serve.{key}")
            for key in ("port", "workers", "max_records", "max_body_bytes",
                        "max_concurrent_requests")
        }  # fmt: skip
        timeout = serve["body_timeout_seconds"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ReprolabError(
                f"serve.body_timeout_seconds: found {timeout!r}; expected a number of seconds > 0"
            )
        if not isinstance(serve["host"], str) or not serve["host"]:
            raise ReprolabError(f"serve.host: found {serve['host']!r}; expected a host name")
        return cls(host=serve["host"], body_timeout_seconds=float(timeout), **counts)


def load_served(allow_unlisted: bool, source: Served) -> tuple[Any, dict[str, Any]]:
    """The model and schema to serve, checked against dvc.lock (the workspace's, or the
    fetched version's own) and against each other."""
    root = source.root
    lock = root / LOCK_FILE
    require_locked([Paths.model, Paths.schema], lock, allow_unlisted, root=root)
    model, schema = load_model(root / Paths.model), read_yaml(root / Paths.schema)
    require_model_fits_schema(model, schema, str(root / Paths.model))
    return model, schema


def add_offline_docs(app: FastAPI) -> None:
    """/docs: Swagger UI 5 (it reads OpenAPI 3.1) from the installed fastapi-offline
    package's static files, no network."""
    from importlib.resources import files  # noqa: PLC0415

    from fastapi.openapi.docs import get_swagger_ui_html  # noqa: PLC0415
    from fastapi.staticfiles import StaticFiles  # noqa: PLC0415

    assets = str(files("fastapi_offline") / "static")
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: API docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )


def metadata(source: Served) -> dict[str, Any]:
    """The model card, plus the git revision that built the model, and its registered
    version and stage when it is one."""
    card_file = source.root / Paths.card_json
    card = json.loads(card_file.read_text()) if card_file.exists() else {}
    return {
        **card,
        "git_revision": source.revision,
        "version": source.version,
        "stage": source.stage,
    }


def create_app() -> FastAPI:
    """The app, as uvicorn's `--factory` builds it; a start-up refusal (bad `serve.*`
    value, no model yet, a model that is not dvc.lock's) is one line and exit 1,
    however the service is started."""
    from reprolab.core.shell import user_errors  # noqa: PLC0415

    with user_errors("serve"):
        serve = ServeSettings.from_params(load_params())
        source = served_source()
        model, schema = load_served(os.environ.get(ALLOW_UNLISTED) == "1", source)
    return build_app(model, schema, serve, source)


REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Refusal, "description": "The body is not JSON text (e.g. not UTF-8)."},
    408: {"model": Refusal, "description": "The body stalled (serve.body_timeout_seconds)."},
    413: {"model": Refusal, "description": "The body is larger than serve.max_body_bytes."},
    415: {"model": Refusal, "description": "The body is not declared as application/json."},
    500: {"model": Refusal, "description": "An error of the service (logged)."},
    503: {"model": Refusal, "description": "Over serve.max_concurrent_requests: retry."},
}


def build_app(model: Any, schema: dict[str, Any], serve: ServeSettings, source: Served) -> FastAPI:
    Record = record_model(schema)  # noqa: N806 - a class
    PredictRequest = request_model(Record, serve.max_records)  # noqa: N806
    registry = CollectorRegistry()
    metrics = _metrics(registry)
    info = metadata(source)
    app = FastAPI(
        title="reprolab prediction service",
        version="1",
        description=f"Predicts `{schema['target']}` ({schema['task']}).",
        # FastAPI's own /docs and /redoc load their scripts from a CDN: blank offline.
        docs_url=None,
        redoc_url=None,
    )
    add_offline_docs(app)
    # The last added is the outermost: Measure sees what LastResort and the limits answer.
    app.add_middleware(
        RequestLimits,
        limit=serve.max_body_bytes,
        timeout=serve.body_timeout_seconds,
        concurrency=serve.max_concurrent_requests,
    )
    app.add_middleware(LastResort)
    app.add_middleware(Measure, routes=app.router.routes, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def refuse(request: Request, error: RequestValidationError):
        body = error.body if isinstance(error.body, dict) else {}
        found = body.get("records")
        records = found if isinstance(found, list) else []
        metrics["rejected"].inc(max(len(records), 1))
        return JSONResponse(bounded_errors(list(error.errors())), status_code=422)

    @app.get("/health")
    def health() -> dict[str, str | None]:
        return {"status": "ok", "version": source.version, "stage": source.stage}

    @app.get("/metadata")
    def get_metadata() -> dict[str, Any]:
        return info

    answer = response_model(schema["task"])

    # The 200 body is declared (response_model) but not validated again on the way out
    # (response_model=None): score_records builds exactly that shape.
    @app.post("/predict", responses={200: {"model": answer}, **REFUSALS}, response_model=None)
    def predict(payload: PredictRequest) -> Any:  # type: ignore[valid-type]
        records = [r.model_dump(by_alias=True) for r in payload.records]  # type: ignore[attr-defined]
        try:
            rows = score_records(model, schema, records)
        except ReprolabError as error:
            metrics["rejected"].inc(len(records))
            problem = {"loc": ["body", "records"], "msg": str(error), "type": "value_error"}
            return JSONResponse({"detail": [problem], "errors": 1, "shown": 1}, status_code=422)
        for row in rows:
            if schema["task"] == "classification":
                metrics["predictions"].labels(prediction=row["prediction"]).inc()
            for warning in row.get("warnings", ()):
                # "<column>: <value> outside ...": the column is before the last ": ".
                metrics["out_of_range"].labels(feature=warning.rsplit(": ", 1)[0]).inc()
        return JSONResponse({"predictions": rows})

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn  # noqa: PLC0415

    from reprolab.core.shell import command_parser, user_errors  # noqa: PLC0415

    parser = command_parser("reprolab.serve.app", __doc__)
    parser.add_argument(
        "--allow-unlisted-model",
        action="store_true",
        help="serve a model file that dvc.lock does not list (a listed one must still match)",
    )
    parser.add_argument("--served", help="a fetched registered version's folder")
    parser.add_argument("--stage", help="the stage it was fetched for (with --served)")
    args = parser.parse_args(argv)
    if args.allow_unlisted_model:
        os.environ[ALLOW_UNLISTED] = "1"
    if args.served:
        os.environ[SERVED] = args.served
        os.environ[SERVED_STAGE] = args.stage or ""
    # Check here, where a problem is one line; inside uvicorn it would be a traceback.
    with user_errors("serve"):
        serve = ServeSettings.from_params(load_params())
        source = served_source()
        load_served(args.allow_unlisted_model, source)
    what = f"{source.version} ({source.stage})" if source.version else str(Paths.model)
    print(f"serve: serving {what} on http://{serve.host}:{serve.port}", file=sys.stderr)
    uvicorn.run(
        "reprolab.serve.app:create_app",
        factory=True,
        host=serve.host,
        port=serve.port,
        workers=serve.workers,
        log_level="info",
    )


if __name__ == "__main__":
    main()
