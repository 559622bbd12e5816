"""The `engine` config section as typed settings: `local`, or `ray` with its workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reprolab.core.config import get, section, whole
from reprolab.core.errors import ReprolabError


@dataclass(frozen=True)
class LocalEngine:
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
        section(params, "engine", ("name",))
        return LocalEngine()
    if name == "ray":
        found = section(params, "engine", ("name", "workers", "cpus_per_worker", "max_retries"))
        return RayEngine(
            workers=whole(found["workers"], "engine.workers"),
            cpus_per_worker=whole(found["cpus_per_worker"], "engine.cpus_per_worker"),
            max_retries=whole(found["max_retries"], "engine.max_retries", low=0),
        )
    raise ReprolabError(f"engine.name: found {name!r}; expected 'local' or 'ray' (conf/engine)")
