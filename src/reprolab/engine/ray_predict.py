"""Predictions through Ray Data (`engine=ray`): the rows in blocks over the cluster's
workers, the answers back in the rows' order.

Each worker loads the model from the skops file's bytes with the trusted types only
(never a pickled model), and predicts on its blocks with `cpus_per_worker` threads.
Predictions of a row do not depend on the other rows of its batch, so the result is
the one a local `model.predict` gives (a test holds both equal).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprolab.core.files import log
from reprolab.engine.cluster import ray_cluster
from reprolab.engine.settings import EngineSettings, RayEngine

# Blocks per worker: enough for every worker to stay busy, few enough to keep a block's
# overhead small.
_BLOCKS_PER_WORKER = 4


class _Scorer:
    """A Ray Data callable class: one model per worker, loaded once."""

    def __init__(self, data: bytes, method: str, threads: int) -> None:
        from reprolab.model.persistence import load_model_bytes  # noqa: PLC0415

        self.model = load_model_bytes(data, "models/model.skops (on a Ray worker)")
        self.method = method
        self.threads = threads

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        with threadpool_limits(self.threads):
            answer = np.asarray(getattr(self.model, self.method)(batch))
        if answer.ndim == 1:
            return pd.DataFrame({"answer": answer})
        return pd.DataFrame(answer, columns=[f"answer_{i}" for i in range(answer.shape[1])])


def predict_on_ray(
    model_path: Path, frame: pd.DataFrame, method: str, settings: RayEngine
) -> np.ndarray:
    """`model.<method>(frame)` computed by Ray Data workers, in the rows' order."""
    data = model_path.read_bytes()
    with ray_cluster(settings.workers * settings.cpus_per_worker):
        import ray.data  # noqa: PLC0415

        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        blocks = max(1, min(len(frame), settings.workers * _BLOCKS_PER_WORKER))
        # Blocks cut here, in order: Ray's own split (override_num_blocks) goes through
        # numpy.array_split, which gives arrays, not frames, under pandas 3.
        bounds = np.linspace(0, len(frame), blocks + 1).astype(int)
        pieces = [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]
        dataset = ray.data.from_pandas(pieces)
        scored = dataset.map_batches(
            _Scorer,
            fn_constructor_kwargs={
                "data": data,
                "method": method,
                "threads": settings.cpus_per_worker,
            },
            batch_format="pandas",
            concurrency=settings.workers,
            num_cpus=settings.cpus_per_worker,
        )
        result = scored.to_pandas()
    log.info(
        "%s on Ray: %d rows in %d blocks, %d workers", method, len(frame), blocks, settings.workers
    )
    if len(result) != len(frame):
        raise RuntimeError(f"Ray Data returned {len(result)} predictions for {len(frame)} rows")
    values: Any = result.to_numpy()
    return values[:, 0] if result.shape[1] == 1 and list(result.columns) == ["answer"] else values


def predict_with(
    settings: EngineSettings,
    model: Any,
    model_path: Path,
    frames: list[pd.DataFrame],
    method: str,
) -> list[np.ndarray]:
    """`model.<method>(frame)` for each frame, here (engine=local), or on Ray's workers
    (engine=ray) in one Ray session for all the frames: each session costs seconds to
    start."""
    if not isinstance(settings, RayEngine):
        return [getattr(model, method)(frame) for frame in frames]
    answers = predict_on_ray(model_path, pd.concat(frames, ignore_index=True), method, settings)
    ends = np.cumsum([len(frame) for frame in frames])
    return [answers[end - len(frame) : end] for frame, end in zip(frames, ends, strict=True)]
