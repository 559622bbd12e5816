"""A real Ray head on this machine for the tests: `ray start --head`, token auth on."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .helpers import BIN, project_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def ray_head(cpus: int = 2) -> Iterator[str]:
    """Start a head (dashboard off, a token of its own); yield its address; stop it.
    The token is set in this process's environment, as a user's driver would have it.

    `ray start --block` in a process group of its own, stopped by a signal: it stops
    the processes it started and only those (`ray stop` would stop every Ray process on
    the machine, another test's cluster too)."""
    token = secrets.token_hex(16)
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    port = free_port()
    # Unix socket paths are short: a short temp dir of its own.
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    start = [
        f"{BIN}/ray", "start", "--head", f"--port={port}", f"--num-cpus={cpus}",
        "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}", "--block",
    ]  # fmt: skip
    head = subprocess.Popen(
        start,
        env=project_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_until_started(head, Path(temp))
        yield f"127.0.0.1:{port}"
    finally:
        _stop(head)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _wait_until_started(head: subprocess.Popen, temp: Path) -> None:
    # `ray start` writes the cluster's address once the head's processes are up.
    deadline = time.monotonic() + 120
    while not (temp / "ray_current_cluster").exists():
        if head.poll() is not None:
            raise RuntimeError(f"ray start exited {head.returncode}: {head.stderr.read()}")
        if time.monotonic() > deadline:
            raise RuntimeError("ray start: no head after 120 s")
        time.sleep(0.2)


def _stop(head: subprocess.Popen) -> None:
    head.terminate()  # `ray start` then stops what it started
    try:
        head.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
    # Workers the raylet started are in the group too; none may outlive the test.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(head.pid, signal.SIGKILL)
