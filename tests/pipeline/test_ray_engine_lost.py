"""`engine=ray` when a worker or a node is lost mid-fit. A worker's process killed: Ray
Train starts the fit again from the start (engine.max_retries), and the model is the
undisturbed fit's, to the byte. A node lost, so that the cluster can no longer start
every worker again: one line, in bounded time, and no model (Ray's controller alone
would try to start the workers again without end)."""

from __future__ import annotations

import logging
import os
import threading
import time

import numpy as np
import psutil
import pytest

from reprolab.core.errors import ReprolabError

pytestmark = pytest.mark.pipeline


@pytest.fixture
def nodes():
    keys = (
        "RAY_AUTH_MODE",
        "RAY_AUTH_TOKEN",
        "RAY_ADDRESS",
        "RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S",
    )
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.pop("RAY_AUTH_TOKEN", None)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    # Ray waits 60 s for workers it cannot place; 5 s keeps the test short.
    os.environ["RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S"] = "5"
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    os.environ["RAY_ADDRESS"] = cluster.address
    yield cluster, workers
    cluster.shutdown()
    for key, value in saved.items():
        os.environ.pop(key, None) if value is None else os.environ.update({key: value})


def _fitting_workers() -> list[psutil.Process]:
    return [
        p
        for p in psutil.process_iter(["cmdline"])
        if any("RayTrainWorker" in part for part in (p.info["cmdline"] or []))
    ]


def _rows(rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(rows, 10))
    labels = np.where(features[:, 0] + rng.normal(size=len(features)) > 0, "a", "b")
    return features, labels.astype(object)


class _RoundsSaid(logging.Handler):
    """Set once the driver says a round of the fit is done."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.said = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("round "):
            self.said.set()


def test_a_worker_killed_mid_fit_is_fitted_again_to_the_same_bytes(nodes, caplog, monkeypatch):
    from lightgbm import LGBMClassifier
    from sklearn.base import clone

    from reprolab.engine import ray_fit
    from reprolab.engine.settings import RayEngine
    from reprolab.model.persistence import model_bytes

    features, labels = _rows(50_000)
    model = LGBMClassifier(n_estimators=300, verbose=-1, deterministic=True, random_state=1)
    settings = RayEngine(2, 1, max_retries=1)
    undisturbed = model_bytes(ray_fit.fit_on_ray(clone(model), features, labels, {}, settings))
    # The driver asks rank 0 how far it is every half second: the kill lands mid-rounds.
    monkeypatch.setattr(ray_fit, "_PROGRESS_SECONDS", 0.5)
    caplog.set_level(logging.INFO, logger="reprolab")
    rounds = _RoundsSaid()
    logging.getLogger("reprolab").addHandler(rounds)
    outcome: dict[str, object] = {}

    def fit() -> None:
        try:
            outcome["model"] = ray_fit.fit_on_ray(clone(model), features, labels, {}, settings)
        except ReprolabError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=fit, daemon=True)
    try:
        thread.start()
        assert rounds.said.wait(timeout=120), "the fit never reached its rounds"
        first = _fitting_workers()
        assert len(first) == 2
        first[1].kill()
        seen = {p.pid for p in first}
        while thread.is_alive():
            seen |= {p.pid for p in _fitting_workers()}
            thread.join(timeout=0.2)
    finally:
        logging.getLogger("reprolab").removeHandler(rounds)
    assert "error" not in outcome, outcome
    assert len(seen) > 2, "no worker was started again after the kill"
    assert model_bytes(outcome["model"]) == undisturbed


def test_a_node_lost_mid_fit_ends_in_one_line_without_a_model(nodes):
    from lightgbm import LGBMClassifier

    from reprolab.engine.ray_fit import fit_on_ray
    from reprolab.engine.settings import RayEngine

    cluster, workers = nodes
    features, labels = _rows(100_000)
    model = LGBMClassifier(n_estimators=5000, verbose=-1, deterministic=True, random_state=1)
    outcome: dict[str, object] = {}

    def fit() -> None:
        try:
            outcome["model"] = fit_on_ray(
                model, features, labels, {}, RayEngine(2, 1, max_retries=1)
            )
        except ReprolabError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=fit, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while len(_fitting_workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(_fitting_workers()) == 2, "the fit never started on both nodes"
    time.sleep(3)  # inside the fit
    cluster.remove_node(workers[1], allow_graceful=False)
    thread.join(timeout=240)
    assert not thread.is_alive(), "the fit still waits for a node that is gone"
    assert "model" not in outcome
    message = outcome["error"]
    assert isinstance(message, str) and "\n" not in message
    assert message.startswith(
        "engine=ray: the fit failed on the cluster: a worker or node was lost"
    )
