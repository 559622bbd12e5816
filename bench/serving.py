"""Benchmark: prediction latency (HTTP and in-process) and batch prediction throughput.

    make bench-serving     # after make repro; or: PATH=.venv/bin:$PATH python bench/serving.py

Single-record latency p50/p99 through a real uvicorn process on loopback and through the
same function in-process, and requests/s at 20 concurrent clients, each against a floor
measured in the same run (bench/floor_app.py: a bare FastAPI endpoint calling the same
model's predict_proba on a prepared one-row frame) and with one worker per core; rows/s
and peak memory (max RSS of the predict process) for batch prediction of 10k and 1M
rows (penguins rows sampled with replacement).
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {**os.environ, "PYTHONPATH": "src"}
RECORD = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750.0,
    "island": "Torgersen",
    "sex": "male",
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


def in_process(n: int) -> tuple[float, float]:
    sys.path.insert(0, "src")
    from reprolab.core.config import Paths  # noqa: PLC0415
    from reprolab.core.files import read_yaml  # noqa: PLC0415
    from reprolab.model.persistence import load_model  # noqa: PLC0415
    from reprolab.serve.scoring import score_records  # noqa: PLC0415

    model, schema = load_model(Paths.model), read_yaml(Paths.schema)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        score_records(model, schema, [RECORD])
        times.append(time.perf_counter() - started)
    return percentiles(times)


def _serve(app: str, extra: list[str]) -> tuple[subprocess.Popen, str]:
    import httpx  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Server and load generator on cores of their own, where there are two or more:
    # sharing them, the client's own work swung the throughput ratio 0.65-0.80.
    cores = sorted(os.sched_getaffinity(0))
    pin = (lambda: os.sched_setaffinity(0, cores[1:])) if len(cores) > 1 else None
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--factory", "--port", str(port),
         "--log-level", "warning", *extra],
        env=ENV,
        preexec_fn=pin,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.post(f"{url}/predict", json={"records": [RECORD]})
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return server, url


def latency(url: str, n: int) -> tuple[float, float]:
    import httpx  # noqa: PLC0415

    times = []
    with httpx.Client() as client:
        for _ in range(n):
            started = time.perf_counter()
            client.post(f"{url}/predict", json={"records": [RECORD]}).raise_for_status()
            times.append(time.perf_counter() - started)
    return percentiles(times)


def throughput(url: str, clients: int = 20, seconds: float = 10.0) -> float:
    """Requests/s with `clients` concurrent clients, each posting one record at a time."""
    import asyncio  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    async def client(deadline: float, session: httpx.AsyncClient) -> int:
        done = 0
        while time.perf_counter() < deadline:
            (await session.post(f"{url}/predict", json={"records": [RECORD]})).raise_for_status()
            done += 1
        return done

    async def run() -> int:
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(limits=limits, timeout=60) as session:
            deadline = time.perf_counter() + seconds
            return sum(await asyncio.gather(*(client(deadline, session) for _ in range(clients))))

    return asyncio.run(run()) / seconds


def over_http(app: str, extra: list[str], n: int) -> tuple[float, float, float]:
    """p50 and p99 of one-record requests one at a time, then requests/s at 20 clients."""
    server, url = _serve(app, extra)
    try:
        p50, p99 = latency(url, n)
        return p50, p99, throughput(url)
    finally:
        server.terminate()
        server.wait()


def batch(rows: int, folder: Path) -> tuple[float, float]:
    """rows/s and peak RSS (MiB) of `python -m reprolab.serve.predict` on `rows` rows."""
    from palmerpenguins import load_penguins  # noqa: PLC0415

    source = load_penguins().drop(columns=["species"]).dropna()
    source.sample(rows, replace=True, random_state=0).to_parquet(folder / "in.parquet")
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reprolab.serve.predict",
            "--input",
            str(folder / "in.parquet"),
            "--output",
            str(folder / "out.parquet"),
        ],
        env=ENV,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"predict failed on {rows} rows")
    return rows / elapsed, usage.ru_maxrss / 1024


def pin_client() -> None:
    """This process (the load generator) on the first core; servers get the others."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:
        os.sched_setaffinity(0, cores[:1])


def main() -> None:
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| measurement | value |\n|---|---|")
    p50, p99 = in_process(500)
    print(f"| single record, in-process p50 / p99 | {p50:.2f} / {p99:.2f} ms |")
    pin_client()
    ours = over_http("reprolab.serve.app:create_app", [], 500)
    floor = over_http("floor_app:create_app", ["--app-dir", "bench"], 500)
    workers = os.cpu_count() or 1
    many = over_http("reprolab.serve.app:create_app", ["--workers", str(workers)], 500)
    print(f"| single record, HTTP p50 / p99 | {ours[0]:.2f} / {ours[1]:.2f} ms |")
    print(
        f"| floor (bare endpoint, prepared frame) p50 / p99 | {floor[0]:.2f} / {floor[1]:.2f} ms |"
    )
    print(f"| p50 ÷ floor p50 (goal <= 2) | {ours[0] / floor[0]:.2f} |")
    print(f"| requests/s at 20 clients, 1 worker / floor | {ours[2]:.0f} / {floor[2]:.0f} |")
    print(f"| requests/s ÷ floor's (goal >= 0.8) | {ours[2] / floor[2]:.2f} |")
    print(f"| requests/s at 20 clients, {workers} workers (serve.workers) | {many[2]:.0f} |")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (10_000, 1_000_000):
            rate, peak = batch(rows, Path(tmp))
            print(f"| batch {rows:,} rows | {rate:,.0f} rows/s, peak RSS {peak:,.0f} MiB |")


if __name__ == "__main__":
    main()
