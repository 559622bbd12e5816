"""Connecting to a Ray cluster: the one of RAY_ADDRESS, else a local Ray instance.

Both the sweep (many runs) and the ray engine (one run) reach Ray through `connect`,
so an unreachable address is the same one line wherever it is met.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reprolab.core.errors import ReprolabError

_HINT = (
    "expected a running Ray cluster (`ray start --head` on the head node; with token "
    "authentication, RAY_AUTH_MODE=token and the cluster's RAY_AUTH_TOKEN here too), or "
    "no RAY_ADDRESS for a local one"
)


def _reachable(address: str, timeout: float = 10.0) -> str | None:
    """None if the head answers on its port, else why not (Ray itself would retry for
    minutes before giving up)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return "expected host:port"
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def connect(address: str | None, runtime_env: dict[str, Any] | None = None) -> Any:
    """`ray`, initialised on the cluster at `address` (None: a local instance)."""
    import ray  # noqa: PLC0415

    where = f"RAY_ADDRESS={address}" if address else "a local Ray instance"
    problem = _reachable(address) if address else None
    if problem:
        raise ReprolabError(f"{where}: cannot connect ({problem}); {_HINT}")
    try:
        ray.init(
            address=address or None,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
            configure_logging=False,
            runtime_env=runtime_env,
        )
    except (ConnectionError, RuntimeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ReprolabError(f"{where}: cannot connect ({reason}); {_HINT}") from None
    return ray


@contextlib.contextmanager
def ray_cluster(cpus_needed: int) -> Iterator[Any]:
    """Ray, connected for the time of one stage (RAY_ADDRESS, else a local instance),
    refusing in one line a cluster with fewer CPUs than the work asks for: Ray would
    otherwise wait for them without end."""
    address = os.environ.get("RAY_ADDRESS") or None
    # This checkout's code on every worker, whatever version a node has installed: the
    # workers fit with the classes the driver saves.
    package = Path(__file__).resolve().parents[1]
    ray = connect(address, {"py_modules": [str(package)]})
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < cpus_needed:
            where = f"the cluster at RAY_ADDRESS={address}" if address else "local Ray"
            raise ReprolabError(
                f"engine: engine.workers x engine.cpus_per_worker = {cpus_needed} CPUs, and "
                f"{where} has {cpus}; expected fewer workers or CPUs per worker, or a larger "
                "cluster"
            )
        yield ray
    finally:
        ray.shutdown()
