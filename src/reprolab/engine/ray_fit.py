"""A boosting fit spread over a Ray cluster with Ray Train (LightGBM, XGBoost).

The DVC-tracked feature file on the driver stays the source of truth: the driver
reads it, cuts it into one fixed share per rank (engine/shards.py) and puts each in
Ray's object store, so no node needs a filesystem the others see. Each worker fits
the configured estimator on its share through the library's own data-parallel mode
(LightGBM's `tree_learner=data` over the network Ray Train sets up, XGBoost's
collective); rank 0 sends the fitted estimator back as a skops file, which the driver
loads with the trusted types only. The model is then the estimator `engine=local`
would save, fitted data-parallel: evaluate, package, serve and predict take it as is.

The same workers, CPUs per worker, rows and seed give the same model bytes: the
shares are fixed, the threads are fixed, and what a run's network leaves in the model
(ports, addresses) is taken out.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_classifier

from reprolab.core.errors import ReprolabError
from reprolab.core.files import log
from reprolab.engine.cluster import ray_cluster
from reprolab.engine.settings import RayEngine
from reprolab.engine.shards import require_every_class_in_every_shard, shard_rows
from reprolab.model.chunked_fit import ChunkedMatrix
from reprolab.model.estimators import booster_models, fit_estimator, unwrapped
from reprolab.model.libraries import EstimatorLibrary, library_by_name, library_of
from reprolab.model.persistence import load_model_bytes, model_bytes

SUPPORTED_MODELS = "lightgbm, lightgbm_regressor, xgboost or xgboost_regressor"
# LightGBM's socket timeout (minutes) while the workers find each other.
_NETWORK_TIMEOUT_MINUTES = 10
# How often the driver says how far the fit is, and every how many rounds rank 0 says it.
_PROGRESS_SECONDS = 5.0
_PROGRESS_ROUNDS = 10


def require_ray_model(estimator: BaseEstimator) -> EstimatorLibrary:
    """The estimator's library, if Ray Train can fit it; else one line."""
    inner = unwrapped(estimator)
    library = library_of(inner)
    if library is None or library.data_parallel is None:
        target = f"{type(inner).__module__.split('.')[0]}.{type(inner).__name__}"
        raise ReprolabError(
            f"engine=ray: model {target} cannot be fitted on Ray; expected -S model="
            f"{SUPPORTED_MODELS}, or engine=local"
        )
    return library


def fit_on_ray(
    estimator: BaseEstimator,
    matrix: np.ndarray | ChunkedMatrix,
    labels: np.ndarray,
    fit_params: dict[str, Any],
    settings: RayEngine,
) -> BaseEstimator:
    """`estimator` fitted data-parallel on `settings.workers` Ray Train workers."""
    library = require_ray_model(estimator)
    shards = shard_rows(len(labels), settings.workers)
    if is_classifier(estimator):
        require_every_class_in_every_shard(labels, settings.workers)
    with ray_cluster(settings.workers * settings.cpus_per_worker) as ray:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # noqa: PLC0415

        # On the driver's node: a node lost mid-fit must not take the model with it.
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        inbox = ray.remote(num_cpus=0, scheduling_strategy=here)(_Inbox).remote()
        config = {
            "library": library.name,
            "estimator": estimator,
            "fit_params": fit_params,
            "threads": settings.cpus_per_worker,
            "shards": [ray.put((_share(matrix, rows), labels[rows])) for rows in shards],
            "inbox": inbox,
        }
        log.info(
            "fitting on Ray: %d workers x %d CPU(s), %s rows each",
            settings.workers,
            settings.cpus_per_worker,
            "/".join(str(len(rows)) for rows in shards),
        )
        storage = tempfile.mkdtemp(prefix="reprolab-train-")
        try:
            _run(ray, _trainer(library, config, settings, storage), inbox)
        finally:
            shutil.rmtree(storage, ignore_errors=True)
        data = ray.get(inbox.model.remote())
    if data is None:
        raise ReprolabError("engine=ray: the fit ended without a model from rank 0")
    return load_model_bytes(data, "the model from Ray worker 0")


def _share(matrix: Any, rows: np.ndarray) -> Any:
    """A rank's rows; from the feature file a column at a time when the matrix was left
    there (the driver then never holds more than one share)."""
    return matrix.take(rows) if isinstance(matrix, ChunkedMatrix) else matrix[rows]


def _trainer(
    library: EstimatorLibrary, config: dict[str, Any], settings: RayEngine, storage: str
) -> Any:
    # Train V2 (the default since Ray 2.51), named where it is: `ray.train` re-exports it
    # only at run time, so a type checker would read the old one.
    from ray.train.v2.api.config import FailureConfig, RunConfig, ScalingConfig  # noqa: PLC0415

    assert library.data_parallel is not None  # require_ray_model checked it
    trainer_class = _named(library.data_parallel.trainer)
    return trainer_class(
        train_loop_per_worker=_train_loop,
        train_loop_config=config,
        scaling_config=ScalingConfig(
            num_workers=settings.workers,
            resources_per_worker={"CPU": settings.cpus_per_worker},
        ),
        run_config=RunConfig(
            name="reprolab-train",
            storage_path=storage,
            # A lost worker restarts the fit; when the cluster no longer has the CPUs
            # for every worker, starting them times out (60 s, Ray's default), which
            # counts as a controller failure: bounded too, else Ray retries forever.
            failure_config=FailureConfig(
                max_failures=settings.max_retries,
                controller_failure_limit=settings.max_retries,
                max_preemption_failures=settings.max_retries,
            ),
        ),
    )


def _run(ray: Any, trainer: Any, inbox: Any) -> None:
    """Run the fit, saying every few seconds how far rank 0 is (rounds, elapsed)."""
    outcome: dict[str, BaseException] = {}

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as error:  # re-raised below, on the driver's thread
            outcome["error"] = error

    started = time.monotonic()
    thread = threading.Thread(target=fit, daemon=True)
    thread.start()
    said = None
    while thread.is_alive():
        thread.join(_PROGRESS_SECONDS)
        try:
            done, total = ray.get(inbox.progress.remote(), timeout=_PROGRESS_SECONDS)
        except Exception:  # progress is news only: the fit's outcome decides
            continue
        if thread.is_alive() and total and (done, total) != said:
            log.info("round %d of %d (%.0f s)", done, total, time.monotonic() - started)
            said = (done, total)
    if "error" in outcome:
        reason = _reason(outcome["error"])
        if "startup timed out" in str(outcome["error"]):
            # After a lost worker or node, the restart waits for CPUs that are gone.
            reason = (
                "a worker or node was lost and the cluster no longer has the CPUs of every "
                "worker to fit again (engine.workers x engine.cpus_per_worker); expected "
                "fewer workers, or the nodes back"
            )
        raise ReprolabError(f"engine=ray: the fit failed on the cluster: {reason}")


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    # Ray wraps the worker's error; its last line says what happened.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]


class _Inbox:
    """An actor where rank 0 leaves its progress and, at the end, the model."""

    def __init__(self) -> None:
        self._model: bytes | None = None
        self._progress = (0, 0)

    def put_progress(self, done: int, total: int) -> None:
        self._progress = (done, total)

    def progress(self) -> tuple[int, int]:
        return self._progress

    def put_model(self, data: bytes) -> None:
        self._model = data

    def model(self) -> bytes | None:
        return self._model


def _named(path: str) -> Any:
    """The object `module.name` names."""
    import importlib  # noqa: PLC0415

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _train_loop(config: dict[str, Any]) -> None:
    """One Ray Train worker: fit on this rank's share; rank 0 sends the model."""
    import ray  # noqa: PLC0415
    import ray.train  # noqa: PLC0415

    rank = ray.train.get_context().get_world_rank()
    features, labels = ray.get(config["shards"][rank])
    estimator = config["estimator"]
    parallel = library_by_name(config["library"]).data_parallel
    assert parallel is not None
    network: dict[str, Any] = {}
    if parallel.network:
        network = {**_named(parallel.network)(), "time_out": _NETWORK_TIMEOUT_MINUTES}
    inbox = config["inbox"] if rank == 0 else None
    report = _reporter(inbox) if inbox is not None else None
    fit_params = dict(config["fit_params"])
    for model in booster_models(estimator):
        fit_params.update(parallel.join(model, network, report))
    fitted = fit_estimator(estimator, features, labels, config["threads"], fit_params)
    for model in booster_models(fitted):
        parallel.leave(model)
    if inbox is not None:
        ray.get(inbox.put_model.remote(model_bytes(fitted)))


def _reporter(inbox: Any) -> Any:
    def report(done: int, total: int) -> None:
        if done % _PROGRESS_ROUNDS == 0 or done == total:
            inbox.put_progress.remote(done, total)

    return report
