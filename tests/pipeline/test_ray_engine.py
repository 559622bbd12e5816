"""One run's fit and predictions on a Ray cluster (`engine=ray`): Ray's own
`cluster_utils.Cluster`, a head with no CPUs and two 1-CPU nodes, so each of the two
Ray Train workers is on a node of its own and the rows reach them through Ray only.
The same run twice gives the same model bytes; predictions made through Ray Data
equal the model's own, made here."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

from .helpers import exp_run, run
from .tables import HOUSE_DATA, add_own_files

pytestmark = pytest.mark.pipeline

ON_RAY = ["engine=ray", "engine.workers=2", "engine.cpus_per_worker=1"]


@pytest.fixture(scope="module", autouse=True)
def own_files(repo):
    add_own_files(repo)  # committed before any experiment is applied


@pytest.fixture(scope="module")
def nodes():
    # In-process nodes on loopback, without a token (as test_ray_nodes); the runs find
    # the cluster through RAY_ADDRESS, as a user's would.
    keys = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_ADDRESS")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.pop("RAY_AUTH_TOKEN", None)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    os.environ["RAY_ADDRESS"] = cluster.address
    yield cluster
    cluster.shutdown()
    for key, value in saved.items():
        os.environ.pop(key, None) if value is None else os.environ.update({key: value})


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _train_again(repo) -> str:
    """The train stage run again from the same inputs (DVC would restore it)."""
    run(repo, "dvc", "repro", "--force", "--single-item", "train")
    return _md5(repo / "models/model.skops")


@pytest.fixture(scope="module")
def lightgbm_on_ray(repo, nodes):
    """A LightGBM classifier fitted on the two nodes; the model file's md5."""
    result = exp_run(repo, "lightgbm-on-ray", "model=lightgbm", *ON_RAY)
    return result, _md5(repo / "models/model.skops")


def test_a_lightgbm_fit_on_two_nodes_gives_the_same_bytes_twice(repo, lightgbm_on_ray):
    result, first = lightgbm_on_ray
    run(repo, "dvc", "exp", "apply", "lightgbm-on-ray")
    run(repo, "dvc", "checkout", "-q", "--force")
    assert "fitting on Ray: 2 workers x 1 CPU(s), 129/129 rows each" in result.stderr
    assert "predict_proba on Ray: 86 rows" in result.stderr  # evaluate
    assert _md5(repo / "models/model.skops") == first
    assert _train_again(repo) == first
    # What the workers fitted is one model, as a model fitted here would be.
    assert json.loads((repo / "metrics/evaluate.json").read_text())["accuracy"] > 0.9


def test_predictions_through_ray_data_equal_the_models_own(repo, lightgbm_on_ray):
    import pandas as pd

    from reprolab.engine.ray_predict import predict_on_ray
    from reprolab.engine.settings import RayEngine
    from reprolab.model.persistence import load_model

    run(repo, "dvc", "exp", "apply", "lightgbm-on-ray")
    run(repo, "dvc", "checkout", "-q", "--force")
    path = repo / "models/model.skops"
    assert _md5(path) == lightgbm_on_ray[1]
    rows = pd.read_parquet(repo / "data/interim/test.parquet").drop(columns=["species"])
    rows = pd.concat([rows] * 5, ignore_index=True)  # several blocks per worker
    settings = RayEngine(workers=2, cpus_per_worker=1, max_retries=0)
    model = load_model(path)
    for method in ("predict_proba", "predict"):
        on_ray = predict_on_ray(path, rows, method, settings)
        here = getattr(model, method)(rows)
        assert on_ray.shape == here.shape
        assert np.array_equal(on_ray, here), method


def test_an_xgboost_regressor_on_two_nodes_gives_the_same_bytes_twice(repo, nodes):
    # Up to train only: predictions through Ray Data are checked on the LightGBM run.
    overrides = [*HOUSE_DATA, "model=xgboost_regressor", *ON_RAY]
    args = [a for o in overrides for a in ("-S", o)]
    result = run(repo, "dvc", "exp", "run", "-n", "houses-on-ray", *args, "train")
    assert "fitting on Ray: 2 workers x 1 CPU(s)" in result.stderr
    first = _md5(repo / "models/model.skops")
    assert _train_again(repo) == first


@pytest.mark.parametrize(
    ("overrides", "address", "words"),
    [
        (
            ["model=logistic_regression", *ON_RAY],
            None,
            "engine=ray: model sklearn.LogisticRegression cannot be fitted on Ray; expected "
            "-S model=lightgbm, lightgbm_regressor, xgboost or xgboost_regressor",
        ),
        (
            ["model=lightgbm", *ON_RAY, "engine.workers=3"],
            None,
            "engine: engine.workers x engine.cpus_per_worker = 3 CPUs, and the cluster at",
        ),
        # Another n_estimators: a fit DVC's run-cache does not hold, so train runs.
        (
            ["model=lightgbm", "model.n_estimators=7", *ON_RAY],
            "127.0.0.1:1",
            "train: error: RAY_ADDRESS=127.0.0.1:1: cannot connect",
        ),
    ],
)
def test_bad_cases_are_one_line_and_write_no_model(repo, nodes, overrides, address, words):
    run(repo, "dvc", "checkout", "-q", "--force")
    model = repo / "models/model.skops"
    before = _md5(model)
    env_address = os.environ["RAY_ADDRESS"]
    if address:
        os.environ["RAY_ADDRESS"] = address
    try:
        args = [a for o in overrides for a in ("-S", o)]
        result = run(repo, "dvc", "exp", "run", *args, check=False)
    finally:
        os.environ["RAY_ADDRESS"] = env_address
    assert result.returncode != 0
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    # No model of that run: DVC removes a stage's outputs before running it, and the
    # stage wrote none.
    assert not model.exists() or _md5(model) == before
    run(repo, "dvc", "checkout", "-q", "--force")
