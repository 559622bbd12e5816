"""Behaviour of the model the default pipeline trains (Made With ML's model tests): the
pipeline runs in-process; the model is invariant to column order and extra columns,
moves the right way when a decisive measurement moves, and gets clear cases right."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data.columns import feature_columns
from reprolab.serve.scoring import model_rows, predictions


def test_the_whole_pipeline_runs_in_process_and_writes_every_output(pipeline_run):
    from reprolab.core.config import PIPELINE_OUTPUTS

    root = pipeline_run["root"]
    assert [p for p in PIPELINE_OUTPUTS if not (root / p).exists()] == []
    metrics = json.loads((root / "metrics/evaluate.json").read_text())
    assert metrics["test_rows"] > 50 and metrics["balanced_accuracy"] > 0.9
    assert "rows passed every check" in pipeline_run["summaries"]["validate"]


def test_predictions_do_not_depend_on_column_order_or_extra_columns(model, pipeline_run, test_rows):
    schema = pipeline_run["schema"]
    columns = feature_columns(schema)
    base = model.predict_proba(test_rows[columns])
    # Reversed, with the columns the training table had but the model does not read.
    extra = [schema["target"], schema["time_column"]]
    shuffled = test_rows[[*reversed(columns), *extra]]
    rows = model_rows(shuffled, schema, "shuffled rows")
    assert np.array_equal(model.predict_proba(rows), base)
    # A column the training table never had is a different file: refused, naming it.
    with pytest.raises(ReprolabError, match=r"unknown column\(s\) \['note'\]"):
        model_rows(shuffled.assign(note="x"), schema, "rows with a note")


def test_a_longer_flipper_and_heavier_body_moves_towards_gentoo(model, pipeline_run, test_rows):
    # Gentoo penguins have the longest flippers and the heaviest bodies of the three.
    schema = pipeline_run["schema"]
    rows = test_rows[feature_columns(schema)].copy()
    gentoo = list(model.classes_).index("Gentoo")
    before = model.predict_proba(rows)[:, gentoo]
    rows["flipper_length_mm"] += 15
    rows["body_mass_g"] += 800
    after = model.predict_proba(rows)[:, gentoo]
    assert (after >= before - 1e-9).mean() > 0.95 and after.mean() > before.mean()


def test_typical_penguins_of_each_species_are_recognised(model, pipeline_run):
    known = pd.DataFrame(
        {
            "island": ["Torgersen", "Dream", "Biscoe"],
            "bill_length_mm": [38.8, 48.8, 47.5],
            "bill_depth_mm": [18.3, 18.4, 15.0],
            "flipper_length_mm": [190.0, 196.0, 217.0],
            "body_mass_g": [3700.0, 3730.0, 5076.0],
            "sex": ["male", "female", "male"],
            "year": [2008, 2008, 2008],
        }
    )
    rows = model_rows(known, pipeline_run["schema"], "known penguins")
    out = predictions(model, pipeline_run["schema"], rows)
    assert out["prediction"].tolist() == ["Adelie", "Chinstrap", "Gentoo"]
