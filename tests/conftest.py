"""Shared fixtures: the repository root, the composed default config, small frames."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the modules that start Ray clusters `ray`: `make test` runs them after the
    others (a machine busy with pipeline runs makes Ray miss heartbeats and declare
    nodes dead), one module per worker: each cluster stops only its own processes
    (ray_cluster.ray_head). The others run one module per worker too (-n auto
    --dist loadfile).

    The pipeline modules (tens of seconds each) are handed out first and the many small
    ones last, where they fill the gaps: the workers then finish together, not one of
    them alone on the last long module."""
    for item in items:
        if "/test_ray_" in item.nodeid.split("::")[0]:
            item.add_marker(pytest.mark.ray)
    items.sort(key=lambda item: not item.nodeid.startswith("tests/pipeline/"))  # stable


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def _params() -> dict[str, Any]:
    """conf/ composed with the penguins data, whatever the committed default is: a user
    who points the default at their own data keeps a green unit suite."""
    from reprolab.workflow.compose import composed_text

    return yaml.safe_load(composed_text(ROOT, ["data=penguins"]))


@pytest.fixture
def params(_params: dict[str, Any]) -> dict[str, Any]:
    """The composition of conf/ with data=penguins, safe to modify in a test."""
    return copy.deepcopy(_params)


@pytest.fixture
def data_cfg(params: dict[str, Any]) -> dict[str, Any]:
    return params["data"]


@pytest.fixture
def penguins() -> pd.DataFrame:
    """A small penguins-shaped frame with missing values, as `ingest` writes it."""
    rng = np.random.default_rng(0)
    n = 60
    species = np.array(["Adelie", "Chinstrap", "Gentoo"])[np.arange(n) % 3]
    offset = (np.arange(n) % 3) * 5.0
    frame = pd.DataFrame(
        {
            "species": species,
            "island": np.array(["Biscoe", "Dream", "Torgersen"])[rng.integers(0, 3, n)],
            "bill_length_mm": 40.0 + offset + rng.normal(0, 1, n),
            "bill_depth_mm": 18.0 - offset / 5 + rng.normal(0, 0.5, n),
            "flipper_length_mm": 190.0 + 2 * offset + rng.normal(0, 2, n),
            "body_mass_g": 3500.0 + 100 * offset + rng.normal(0, 50, n),
            "sex": np.array(["female", "male"])[np.arange(n) % 2],
            "year": 2007 + np.arange(n) % 3,
        }
    )
    frame.loc[[1, 7], "bill_length_mm"] = np.nan
    frame.loc[[2, 9], "sex"] = np.nan
    return frame.astype({"species": "str", "island": "str", "sex": "str"})
