"""Performance estimated without labels: CBPE tracks realized accuracy when the
probabilities are calibrated, and its interval covers it; DLE tracks RMSE and MAE when
the errors depend on the features; both fail visibly where they are known to (a
concept shift), and the same seed gives the same numbers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score

from reprolab.monitor import estimation


def calibrated_batch(rows, seed, classes=3, scale=2.0):
    """Probabilities, and labels drawn from them: calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(rows, classes)) * scale
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = (rng.random(rows)[:, None] >= np.cumsum(proba, axis=1)).sum(axis=1)
    return proba, np.minimum(labels, classes - 1)


def test_cbpe_tracks_realized_and_its_interval_covers_it():
    errors, inside = {m: [] for m in estimation.MAXIMIZED}, dict.fromkeys(estimation.MAXIMIZED, 0)
    batches = 60
    for seed in range(batches):
        proba, labels = calibrated_batch(800, seed, scale=1.0 + seed % 3)
        found = estimation.cbpe(proba, 300, 0.95, seed)
        real = estimation.realized("classification", labels, proba.argmax(axis=1), [0, 1, 2])
        for metric in estimation.MAXIMIZED:
            estimate = found[metric]
            errors[metric].append(abs(estimate.value - real[metric]))
            inside[metric] += estimate.low <= real[metric] <= estimate.high
    for metric in estimation.MAXIMIZED:
        assert np.mean(errors[metric]) < 0.03, metric
        assert inside[metric] / batches >= 0.88, metric


def test_certain_probabilities_estimate_exactly_with_no_spread():
    """A model certain of every row is right on every row, if calibrated: the estimate
    is 1 with an interval of width 0, whatever the draws."""
    predicted = np.array([0, 1, 1, 2, 1, 2, 0, 2])
    found = estimation.cbpe(np.eye(3)[predicted], 50, 0.95, seed=1)
    for metric in estimation.MAXIMIZED:
        assert found[metric].value == found[metric].low == found[metric].high == 1.0
    # Half sure of class 0, half of class 1, always predicting 0: accuracy 1/2.
    halves = np.tile([0.5, 0.5, 0.0], (400, 1))
    found = estimation.cbpe(halves, 400, 0.95, seed=1)
    assert found["accuracy"].value == pytest.approx(0.5)
    assert found["accuracy"].low < 0.5 < found["accuracy"].high
    # Balanced accuracy: recall of class 0 is 1, of class 1 is 0.
    assert found["balanced_accuracy"].value == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=60),
)
def test_realized_metrics_are_scikit_learns(pairs):
    labels, predicted = (np.array(v) for v in zip(*pairs, strict=True))
    real = estimation.realized("classification", labels, predicted, [0, 1, 2, 3])
    assert real["accuracy"] == pytest.approx(accuracy_score(labels, predicted), abs=1e-6)
    # scikit-learn averages recall over the classes present in the labels.
    present = np.unique(labels)
    recall = [np.mean(predicted[labels == c] == c) for c in present]
    assert real["balanced_accuracy"] == pytest.approx(np.mean(recall), abs=1e-6)


def test_expected_confusion_sums_each_predicted_columns_probabilities():
    proba = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    confusion = estimation.expected_confusion(proba, proba.argmax(axis=1))
    assert confusion[:, 0] == pytest.approx([1.3, 0.5, 0.2])
    assert confusion[:, 2] == pytest.approx([0.1, 0.1, 0.8])
    assert confusion[:, 1] == pytest.approx([0, 0, 0])
    metrics = estimation.confusion_metrics(confusion)
    assert metrics["accuracy"] == pytest.approx((1.3 + 0.8) / 3)


def test_estimates_are_seeded():
    proba, _ = calibrated_batch(500, 3)
    first = estimation.cbpe(proba, 200, 0.95, seed=7)
    assert first == estimation.cbpe(proba, 200, 0.95, seed=7)
    assert first["accuracy"].low != estimation.cbpe(proba, 200, 0.95, seed=8)["accuracy"].low
    # The point estimate does not depend on the draws.
    assert first["accuracy"].value == estimation.cbpe(proba, 200, 0.95, seed=8)["accuracy"].value


def test_cbpe_misses_a_concept_shift():
    """Where P(label | features) changes, the probabilities are wrong and so is the
    estimate: the benchmark reports it; here, it must not pretend otherwise."""
    proba, labels = calibrated_batch(2000, 11)
    moved = np.random.default_rng(0).random(len(labels)) < 0.4
    labels = np.where(moved, (labels + 1) % 3, labels)
    found = estimation.cbpe(proba, 200, 0.95, seed=1)["accuracy"]
    real = estimation.realized("classification", labels, proba.argmax(axis=1), [0, 1, 2])
    assert not found.low <= real["accuracy"] <= found.high
    assert found.value - real["accuracy"] > 0.1


def heteroscedastic(rows, seed, centre=0.0, spread=1.0):
    """y = x + noise whose spread grows with |x|; the model predicts x exactly."""
    rng = np.random.default_rng(seed)
    x = rng.normal(centre, spread, rows)
    y = x + rng.normal(0, 0.2 + np.abs(x), rows)
    return x[:, None], x, y


def test_dle_tracks_rmse_and_mae_under_covariate_shift():
    # The loss models learn where errors are large from reference rows that cover the
    # batches (trees do not extrapolate beyond them).
    features, predicted, y = heteroscedastic(4000, 0, spread=1.5)
    inputs = estimation.loss_inputs(features, predicted)
    models = estimation.fit_loss_models(inputs, y - predicted, seed=0)
    for centre in (0.0, 1.2):  # the second batch sits where errors are larger
        features, predicted, y = heteroscedastic(3000, 10 + int(centre), centre)
        found = estimation.dle(models, estimation.loss_inputs(features, predicted), 200, 0.95, 3)
        real = estimation.realized("regression", y, predicted, [])
        for metric in ("rmse", "mae"):
            assert found[metric].value == pytest.approx(real[metric], rel=0.08), (centre, metric)
            assert found[metric].low < found[metric].value < found[metric].high
    assert real["rmse"] > 1.5  # the shifted batch's error is far above the reference's (~1)


def test_worse_by_follows_each_metrics_direction():
    assert estimation.worse_by("accuracy", 0.8, 1.0) == pytest.approx(0.2)
    assert estimation.worse_by("accuracy", 1.0, 0.8) < 0
    assert estimation.worse_by("rmse", 1.2, 1.0) == pytest.approx(0.2)
    assert estimation.worse_by("mae", 0.5, 1.0) < 0


@pytest.mark.parametrize("rows", [1, 5, 200])
def test_dle_on_tiny_or_perfectly_predicted_data_estimates_the_mean_loss(rows):
    x = np.arange(rows, dtype=float)[:, None]
    for errors in (np.zeros(rows), np.linspace(-1, 1, rows) if rows < 40 else None):
        if errors is None:
            continue
        models = estimation.fit_loss_models(estimation.loss_inputs(x, x[:, 0]), errors, seed=0)
        found = estimation.dle(models, estimation.loss_inputs(x, x[:, 0]), 50, 0.95, 0)
        assert found["rmse"].value == pytest.approx(np.sqrt(np.mean(errors**2)))
        assert found["mae"].value == pytest.approx(np.mean(np.abs(errors)))
