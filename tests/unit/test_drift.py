"""Drift detection: quiet on samples from the training distribution, loud on each kind
of drift, and governed by the configured thresholds."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from reprolab.core.errors import ReprolabError
from reprolab.monitor.batch import BatchDrift, drifted_batch
from reprolab.monitor.drift import prediction_drift
from reprolab.monitor.verdict import (
    MonitorSettings,
    monitor_summary,
    reference_sample,
    render_markdown,
)

CFG = MonitorSettings.from_params(
    {
        "monitor": yaml.safe_load(
            (Path(__file__).parents[2] / "conf/monitor/default.yaml").read_text()
        )
    }
)
SCHEMA = {
    "task": "classification",
    "target": "label",
    "numeric": ["x", "y"],
    "categorical": ["colour"],
}


def population(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(10, 2, rows),
            "y": rng.exponential(3, rows),
            "colour": rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3, 0.2]),
            "label": rng.choice(["a", "b"], rows),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "y"] = np.nan
    return frame.astype({"colour": "str", "label": "str"})


REFERENCE = population(3000, seed=0)


def summary(current, cfg=CFG, predictions=None):
    predictions = predictions or (REFERENCE["label"].to_numpy(), current["label"].to_numpy())
    return monitor_summary(REFERENCE, current, SCHEMA, predictions, cfg, None)


def warned(result):
    """Drift alone warns: it never recommends retraining on its own."""
    assert not result["retrain_recommended"], result["reasons"]
    return result["verdict"] == "warning"


def first_feature_row(text):
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| feature |"))
    return lines[header + 2]


def test_no_alert_on_samples_from_the_training_distribution():
    alerts = [warned(summary(population(1000, seed))) for seed in range(1, 31)]
    assert sum(alerts) <= 1  # false-positive rate bounded (here at most 1 in 30)


@pytest.mark.parametrize(
    ("drift", "feature", "words"),
    [
        ({"shift": [("x", "1.0")]}, "x", "PSI"),
        ({"mix": [("colour", "blue:0.7")]}, "colour", "chi-square"),
        ({"missing": [("y", "0.4")]}, "y", "missing rate"),
        ({"mix": [("colour", "purple:0.2")]}, "colour", "unseen categories"),
    ],
)
def test_each_kind_of_drift_alerts_and_names_the_feature(drift, feature, words):
    current = drifted_batch(REFERENCE, "label", 1000, 7, BatchDrift(**drift))
    result = summary(current)
    assert warned(result)
    assert list(result["drifted_features"]) == [feature]
    assert words in " ".join(result["drifted_features"][feature])
    assert any(line.startswith(f"feature {feature} drifted") for line in result["warnings"])
    # Without importances (no model), the worst drift first.
    assert first_feature_row(render_markdown(result)).startswith(f"| {feature} |")


def test_label_shift_shows_as_prediction_drift():
    current = drifted_batch(REFERENCE, "label", 1000, 7, BatchDrift(label_shift=[("b", "0.9")]))
    shifted = prediction_drift(
        REFERENCE["label"].to_numpy(), current["label"].to_numpy(), "classification", CFG
    )
    assert shifted["drifted"]
    assert not prediction_drift(
        REFERENCE["label"].to_numpy(),
        population(1000, 3)["label"].to_numpy(),
        "classification",
        CFG,
    )["drifted"]


def test_the_verdict_follows_the_thresholds():
    current = drifted_batch(REFERENCE, "label", 1000, 7, BatchDrift(shift=[("x", "0.5")]))
    assert warned(summary(current))
    relaxed = replace(CFG, psi_threshold=5.0)
    assert summary(current, relaxed)["verdict"] == "ok"
    assert summary(current, replace(CFG, min_drifted_features=2))["verdict"] == "ok"


def test_simulated_batches_are_seeded_and_shift_as_asked():
    first = drifted_batch(REFERENCE, "label", 500, 3, BatchDrift(shift=[("x", "1.0")]))
    assert first.equals(drifted_batch(REFERENCE, "label", 500, 3, BatchDrift(shift=[("x", "1.0")])))
    assert first["x"].mean() - REFERENCE["x"].mean() == pytest.approx(2.0, abs=0.4)
    assert drifted_batch(REFERENCE, "label", 2000, 3, BatchDrift(missing=[("y", "0.5")]))[
        "y"
    ].isna().mean() == pytest.approx(0.5, abs=0.05)


def test_reports_end_with_exactly_one_newline():
    from reprolab.monitor.verdict import no_data_summary

    for result in (no_data_summary(), summary(population(500, 9))):
        text = render_markdown(result)
        assert text.endswith("\n") and not text.endswith("\n\n")


def test_reference_sample_is_capped_and_evenly_spaced():
    train = pd.DataFrame({"x": np.arange(1_000)})
    sample = reference_sample(train, 100)
    assert len(sample) == 100
    assert sample["x"].iloc[0] == 0 and sample["x"].iloc[-1] == 999
    assert reference_sample(train, 5_000)["x"].tolist() == train["x"].tolist()
    with pytest.raises(ReprolabError, match=r"monitor.reference_rows: found 0"):
        reference_sample(train, 0)
