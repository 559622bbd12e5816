"""A sweep on a simulated multi-node Ray cluster (Ray's own `cluster_utils.Cluster`: a
head with no CPUs and two worker nodes, each with a temp directory of its own, so runs
share nothing but the DVC remote): a node removed mid-sweep, every grid point still
arrives exactly once."""

from __future__ import annotations

import os
import re
import sys
import time

import pytest
import yaml

from .helpers import commit_remote_and_grid, run, start

pytestmark = pytest.mark.pipeline

GRID = {"three": ["model.C=0.25,0.5,2.0"]}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    # In-process nodes on loopback, for this test only: no token (Ray reads its token
    # setting once per process; the `ray start` tests cover token authentication).
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.pop("RAY_AUTH_TOKEN", None)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    roots = [tmp_path_factory.mktemp(f"node{i}") for i in range(2)]
    workers = [cluster.add_node(num_cpus=1, env_vars={"TMPDIR": str(root)}) for root in roots]
    cluster.wait_for_nodes()
    yield cluster, workers, roots
    cluster.shutdown()
    for key, value in saved.items():
        os.environ.pop(key, None) if value is None else os.environ.update({key: value})


@pytest.fixture(scope="module")
def baseline(repo, tmp_path_factory):
    return commit_remote_and_grid(repo, tmp_path_factory.mktemp("dvc-remote"), GRID)


def _runs_started_in(root) -> list[str]:
    return [p.name for p in root.iterdir() if p.name.startswith("reprolab-three-")]


def test_a_node_lost_mid_sweep_still_gives_every_grid_point_once(baseline, nodes):
    cluster, workers, roots = nodes
    sweep = start(
        baseline, sys.executable, "-m", "reprolab.workflow.sweep", "--grid", "three",
        "--mode", "ray", "--address", cluster.address,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _runs_started_in(roots[1]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _runs_started_in(roots[1]), "no run reached the second node"
    time.sleep(3)  # well inside the run: cloning done, the pipeline running
    cluster.remove_node(workers[1], allow_graceful=False)
    out, err = sweep.communicate(timeout=900)
    assert sweep.returncode == 0, out + err
    assert "3 of 3 experiments succeeded" in out and "Traceback" not in err
    # The run lost with the node was made again on the node that survived.
    assert len(set(re.findall(r" s on (\w+)\)", out))) == 1, out
    refs = run(baseline, "git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    names = sorted(ref.rsplit("/", 1)[-1] for ref in refs if "/three-" in ref)
    assert len(names) == 3 == len(set(names))
    estimators = set()
    for ref in (r for r in refs if "/three-" in r):
        params = yaml.safe_load(run(baseline, "git", "show", f"{ref}:params.yaml").stdout)
        estimators.add(params["model"]["C"])
    assert estimators == {0.25, 0.5, 2.0}
    # Every run cleaned its scratch directory on the node that survived.
    assert _runs_started_in(roots[0]) == []
