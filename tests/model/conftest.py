"""The whole pipeline, run in-process on the default data (no dvc, no subprocess):
each stage body in order, in a copy of the repository, as `dvc repro` would run them."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from reprolab.workflow.compose import compose_to
from reprolab.workflow.verify import clean_copy

STAGES = ["ingest", "validate", "split", "featurize", "train", "evaluate", "package", "monitor"]


def run_in_process(root: Path, dest: Path, overrides: list[str]) -> dict[str, Any]:
    """Every stage of a clean copy of root at dest, composed with data=penguins and
    `overrides`; the copy's path, each stage's summary and the schema."""
    copy = clean_copy(root, dest)
    compose_to(copy / "params.yaml", copy, ["data=penguins", *overrides])
    summaries = {}
    with contextlib.chdir(copy):
        for stage in STAGES:
            module = importlib.import_module(f"reprolab.stages.{stage}")
            summaries[stage] = getattr(module, stage)()
    schema = yaml.safe_load((copy / "reports/schema.yaml").read_text(encoding="utf-8"))
    return {"root": copy, "summaries": summaries, "schema": schema}


@pytest.fixture(scope="session")
def in_process():
    """run_in_process, for modules that run the pipeline with other overrides."""
    return run_in_process


@pytest.fixture(scope="session")
def pipeline_run(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default pipeline, run once per session."""
    return run_in_process(root, tmp_path_factory.mktemp("in-process"), [])


@pytest.fixture(scope="session")
def model(pipeline_run: dict[str, Any]) -> Any:
    from reprolab.model.persistence import load_model

    return load_model(pipeline_run["root"] / "models/model.skops")


@pytest.fixture(scope="session")
def test_rows(pipeline_run: dict[str, Any]):
    import pandas as pd

    return pd.read_parquet(pipeline_run["root"] / "data/interim/test.parquet")
