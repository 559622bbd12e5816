"""A real Ray head on this machine for the tests: `ray start --head`, token auth on."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import tempfile
from collections.abc import Iterator

from .helpers import BIN, project_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def ray_head(cpus: int = 2) -> Iterator[str]:
    """Start a head (dashboard off, a token of its own); yield its address; stop it.
    The token is set in this process's environment, as a user's driver would have it."""
    token = secrets.token_hex(16)
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    port = free_port()
    # Unix socket paths are short: a short temp dir of its own.
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    env = project_env()
    start = [
        f"{BIN}/ray", "start", "--head", f"--port={port}", f"--num-cpus={cpus}",
        "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
    ]  # fmt: skip
    subprocess.run(start, env=env, check=True, capture_output=True, text=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([f"{BIN}/ray", "stop", "--force"], env=env, capture_output=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
