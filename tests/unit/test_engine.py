"""The engine section and the shares of rows each Ray worker holds."""

from __future__ import annotations

import numpy as np
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.engine.settings import LocalEngine, RayEngine, engine_settings
from reprolab.engine.shards import require_every_class_in_every_shard, shard_rows


def test_the_composed_default_is_the_local_engine(params):
    assert engine_settings(params) == LocalEngine()


def test_the_ray_option_composes_to_typed_settings(params):
    params["engine"] = {"name": "ray", "workers": 3, "cpus_per_worker": 2, "max_retries": 0}
    assert engine_settings(params) == RayEngine(workers=3, cpus_per_worker=2, max_retries=0)


@pytest.mark.parametrize(
    ("engine", "message"),
    [
        ({"name": "spark"}, r"^engine.name: found 'spark'; expected 'local' or 'ray'"),
        ({"name": "local", "workers": 2}, r"^engine.workers: not a setting of engine"),
        (
            {"name": "ray", "workers": 0, "cpus_per_worker": 1, "max_retries": 1},
            r"^engine.workers: found 0; expected a whole number >= 1",
        ),
        (
            {"name": "ray", "workers": 2, "cpus_per_worker": 1.5, "max_retries": 1},
            r"^engine.cpus_per_worker: found 1.5",
        ),
        ({"name": "ray", "workers": 2, "cpus_per_worker": 1}, r"missing key 'engine.max_retries'"),
        (
            {"name": "local", "out_of_core": "yes", "chunk_rows": 1000},
            r"^engine.out_of_core: found 'yes'; expected true or false$",
        ),
        (
            {"name": "local", "out_of_core": True, "chunk_rows": 10},
            r"^engine.chunk_rows: found 10; expected a whole number >= 1000$",
        ),
    ],
)
def test_a_wrong_engine_section_is_one_line_naming_the_key(params, engine, message):
    params["engine"] = engine
    with pytest.raises(ReprolabError, match=message):
        engine_settings(params)


@pytest.mark.parametrize(("rows", "workers"), [(10, 1), (10, 2), (11, 3), (3, 3)])
def test_every_row_is_in_exactly_one_share_in_file_order(rows, workers):
    shares = shard_rows(rows, workers)
    assert len(shares) == workers
    joined = np.concatenate(shares)
    assert sorted(joined.tolist()) == list(range(rows))
    for rank, share in enumerate(shares):
        assert share.tolist() == list(range(rank, rows, workers))  # fixed and ordered
    assert shard_rows(rows, workers)[0].tolist() == shares[0].tolist()  # the same every run


def test_more_workers_than_rows_is_refused():
    with pytest.raises(ReprolabError, match=r"^engine.workers: found 4, for 3 training rows"):
        shard_rows(3, 4)


def test_a_table_sorted_by_class_gives_every_worker_every_class():
    labels = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 20, dtype=object)
    for rows in shard_rows(len(labels), 4):
        assert set(labels[rows]) == {"a", "b", "c"}
    require_every_class_in_every_shard(labels, 4)
    with pytest.raises(ReprolabError, match=r"class\(es\) 'c' \(20\) have fewer training rows"):
        require_every_class_in_every_shard(labels, 21)
