"""Calibration: the settings are checked in one line naming the key; the held-out rows
are a seeded stratified share; a calibrated model is stored and loaded with the trusted
types and named after the configured model; the calibration error is what its
definition says, and calibrating an over-confident model lowers it."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from reprolab.core.errors import ReprolabError
from reprolab.model.calibration import (
    CalibrationSettings,
    calibrated,
    estimator_arguments,
    holdout_rows,
    reliability,
)


@pytest.mark.parametrize(
    ("model", "task", "words"),
    [
        ({"calibration": "platt"}, "classification", "model.calibration: found 'platt'"),
        ({"calibration": "isotonic"}, "regression", "the task is regression"),
        ({"calibration_holdout": 1.0}, "classification", "model.calibration_holdout: found 1.0"),
        ({"calibration_holdout": True}, "classification", "model.calibration_holdout: found True"),
        ({"calibration_holdout": "a"}, "classification", "model.calibration_holdout: found 'a'"),
    ],
)
def test_wrong_settings_are_one_line_naming_the_key(model, task, words):
    with pytest.raises(ReprolabError, match=words) as error:
        CalibrationSettings.from_model({"_target_": "x", **model}, task)
    assert "\n" not in str(error.value)


def test_settings_default_to_none_and_stay_out_of_the_estimators_arguments():
    model = {"_target_": "sklearn.linear_model.LogisticRegression", "C": 2.0}
    assert not CalibrationSettings.from_model(model, "regression").enabled
    with_keys = {**model, "calibration": "sigmoid", "calibration_holdout": 0.3}
    assert CalibrationSettings.from_model(with_keys, "classification") == CalibrationSettings(
        "sigmoid", 0.3
    )
    assert estimator_arguments(with_keys) == model


def test_held_out_rows_are_a_seeded_stratified_share_in_file_order():
    labels = np.array(["a"] * 60 + ["b"] * 30 + ["c"] * 10)
    fit, held = holdout_rows(labels, 0.2, seed=1)
    assert len(held) == 20 and len(fit) == 80
    assert not set(fit) & set(held)
    assert list(held) == sorted(held) and list(fit) == sorted(fit)
    assert pd.Series(labels[held]).value_counts().to_dict() == {"a": 12, "b": 6, "c": 2}
    assert np.array_equal(held, holdout_rows(labels, 0.2, seed=1)[1])
    assert not np.array_equal(held, holdout_rows(labels, 0.2, seed=2)[1])


def test_a_class_too_small_to_hold_out_is_named():
    with pytest.raises(ReprolabError, match=r"class\(es\) \['c'\] have a single training row"):
        holdout_rows(np.array(["a", "a", "b", "b", "c"]), 0.4, seed=1)
    with pytest.raises(ReprolabError, match="leaves 0 to calibrate on"):
        holdout_rows(np.array(["a", "a", "b", "b"] * 3), 0.01, seed=1)


def test_reliability_is_its_definition():
    y_true = np.array(["a", "a", "b", "b", "a"])
    proba = np.array([[0.95, 0.05], [0.55, 0.45], [0.3, 0.7], [0.6, 0.4], [0.92, 0.08]])
    error, curve = reliability(y_true, proba, ["a", "b"], bins=10)
    # Bins: (0.5, 0.6] holds rows 2 and 4 (0.55 right, 0.6 wrong); (0.6, 0.7] row 3
    # (0.7, right); (0.9, 1] rows 1 and 5 (0.95, 0.92, both right).
    assert [(r["bin"], r["rows"]) for r in curve] == [("0.5-0.6", 2), ("0.6-0.7", 1), ("0.9-1", 2)]
    expected = (2 * abs(0.5 - 0.575) + abs(1 - 0.7) + 2 * abs(1 - 0.935)) / 5
    assert error == pytest.approx(expected, abs=1e-6)


def overconfident_data(rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2))
    p = 1 / (1 + np.exp(-(x[:, 0] + 0.5 * x[:, 1])))
    return x, np.where(rng.random(rows) < p, "yes", "no")


def test_calibrating_an_over_confident_model_lowers_its_error():
    x, y = overconfident_data(4000, 0)
    test_x, test_y = overconfident_data(4000, 1)
    model = LogisticRegression().fit(x[:3000], y[:3000])
    model.coef_ *= 4  # the same boundary, probabilities pushed towards 0 and 1
    raw_error, _ = reliability(test_y, model.predict_proba(test_x), list(model.classes_))
    assert raw_error > 0.1
    for method in ("isotonic", "sigmoid"):
        fixed = calibrated(model, x[3000:], y[3000:], method)
        error, _ = reliability(test_y, fixed.predict_proba(test_x), list(fixed.classes_))
        assert error < raw_error / 3, (method, error, raw_error)


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_a_calibrated_pipeline_is_stored_with_trusted_types_and_named_after_its_model(
    tmp_path, method
):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from reprolab.model.estimators import build_estimator
    from reprolab.model.persistence import describe_saved_pipeline, load_model, save_model

    x, y = overconfident_data(600, 2)
    estimator = build_estimator(
        {
            "_target_": "xgboost.XGBClassifier",
            "n_estimators": 5,
            "random_state": 0,
            "calibration": method,
        }
    )
    estimator.fit(x[:400], y[:400])
    pipeline = Pipeline(
        [
            ("preprocess", StandardScaler().fit(x)),
            ("model", calibrated(estimator, x[400:], y[400:], method)),
        ]
    )
    save_model(tmp_path / "model.skops", pipeline)
    loaded = load_model(tmp_path / "model.skops")
    assert np.array_equal(loaded.predict_proba(x), pipeline.predict_proba(x))
    assert describe_saved_pipeline(tmp_path / "model.skops") == ("XGBClassifier", ["no", "yes"])


def test_data_too_small_to_hold_rows_out_is_fitted_uncalibrated_and_said(caplog):
    from reprolab.model.calibration import fit_calibrated

    fitted = []
    x = np.arange(40, dtype=float)[:, None]
    y = np.array(["a"] * 39 + ["b"])  # one row of "b": nothing to hold out

    def fit(model, rows, labels):
        fitted.append(len(rows))
        model.fit(rows, labels)

    settings = CalibrationSettings("isotonic", 0.2)
    with caplog.at_level("INFO", logger="reprolab"):
        model = fit_calibrated(LogisticRegression(), x, y, settings, 1, fit)
    assert isinstance(model, LogisticRegression) and fitted == [40]
    assert "model.calibration isotonic: not applied, fitted on every row" in caplog.text
    assert "single training row" in caplog.text
    # 60 rows: 12 held out, fewer than 20.
    fitted.clear()
    y = np.array(["a", "b"] * 30)
    model = fit_calibrated(LogisticRegression(), np.arange(60.0)[:, None], y, settings, 1, fit)
    assert isinstance(model, LogisticRegression) and fitted == [60]
    x, y = overconfident_data(200, 3)
    model = fit_calibrated(LogisticRegression(), x, y, settings, 1, fit)
    assert type(model).__name__ == "CalibratedProbabilities" and fitted[-1] == 160
