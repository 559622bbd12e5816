"""The `engine` config section as typed settings: `local`, or `ray` with its workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reprolab.core.config import get, section, whole
from reprolab.core.errors import ReprolabError


@dataclass(frozen=True)
class LocalEngine:
    # LightGBM and XGBoost bin their training data from the feature file chunk_rows
    # rows at a time (model/chunked_fit.py): the same model, a smaller peak.
    out_of_core: bool = True
    chunk_rows: int = 50_000
    name: str = "local"


@dataclass(frozen=True)
class RayEngine:
    workers: int
    cpus_per_worker: int
    max_retries: int  # fits restarted after a worker or node is lost
    name: str = "ray"


EngineSettings = LocalEngine | RayEngine


def engine_settings(params: dict[str, Any]) -> EngineSettings:
    """The checked `engine` section, or one line naming the key at fault."""
    name = get(params, "engine.name")
    if name == "local":
        found = section(params, "engine", ("name", "out_of_core", "chunk_rows"))
        if not isinstance(found["out_of_core"], bool):
            raise ReprolabError(
                f"engine.out_of_core: found {found['out_of_core']!r}; expected true or false"
            )
        return LocalEngine(
            out_of_core=found["out_of_core"],
            chunk_rows=whole(found["chunk_rows"], "engine.chunk_rows", low=1000),
        )
    if name == "ray":
        found = section(params, "engine", ("name", "workers", "cpus_per_worker", "max_retries"))
        return RayEngine(
            workers=whole(found["workers"], "engine.workers"),
            cpus_per_worker=whole(found["cpus_per_worker"], "engine.cpus_per_worker"),
            max_retries=whole(found["max_retries"], "engine.max_retries", low=0),
        )
    raise ReprolabError(f"engine.name: found {name!r}; expected 'local' or 'ray' (conf/engine)")
