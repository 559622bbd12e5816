import functools
import os
import re
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from reprolab.core.errors import ReprolabError
from reprolab.model.persistence import (
    canonical_skops,
    describe_saved_pipeline,
    load_model,
    save_model,
)


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    return LogisticRegression().fit(rng.normal(size=(30, 3)), [0, 1, 2] * 10)


def test_same_model_gives_same_bytes(model, tmp_path):
    save_model(tmp_path / "a.skops", model)
    save_model(tmp_path / "b.skops", model)
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()
    # skops' own dumps differ (ids and timestamps): the canonical form is what makes them equal.
    assert canonical_skops(sio.dumps(model)) == (tmp_path / "a.skops").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.skops") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_round_trip_predicts_identically(model, tmp_path):
    save_model(tmp_path / "m.skops", model)
    x = np.random.default_rng(1).normal(size=(5, 3))
    assert np.array_equal(load_model(tmp_path / "m.skops").predict_proba(x), model.predict_proba(x))


@pytest.mark.parametrize(
    ("estimator", "labels"),
    [
        (LogisticRegression(), ["b", "a", "c"] * 10),  # an object array: JSON in the file
        (LogisticRegression(), [2, 0, 1] * 10),  # an int array: an .npy member
        (HistGradientBoostingClassifier(max_iter=3), [True, False, False] * 10),
        (Ridge(), np.arange(30) / 7),
    ],
)
def test_the_description_read_from_the_file_equals_the_loaded_pipeline(estimator, labels, tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 3))
    pipeline = Pipeline([("scale", FunctionTransformer()), ("model", estimator)]).fit(x, labels)
    save_model(tmp_path / "m.skops", pipeline)
    loaded = load_model(tmp_path / "m.skops")
    classes = [str(c) for c in getattr(loaded, "classes_", [])]
    assert describe_saved_pipeline(tmp_path / "m.skops") == (type(estimator).__name__, classes)


def test_a_file_that_is_not_a_pipeline_cannot_be_described(tmp_path):
    (tmp_path / "junk.skops").write_bytes(b"not a zip")
    with pytest.raises(ReprolabError, match="not a skops model file"):
        describe_saved_pipeline(tmp_path / "junk.skops")
    save_model(tmp_path / "bare.skops", {"steps": 1})
    with pytest.raises(ReprolabError, match="not a skops model file"):
        describe_saved_pipeline(tmp_path / "bare.skops")


@pytest.mark.parametrize(
    ("function", "name"),
    [
        (np.log1p, "numpy.log1p"),
        # partial is trusted (gradient boosting keeps one); what it wraps is checked too.
        (functools.partial(os.system, "true"), "posix.system"),
    ],
)
def test_untrusted_types_are_refused_by_name(model, tmp_path, function, name):
    risky = Pipeline([("step", FunctionTransformer(function)), ("model", model)])
    (tmp_path / "risky.skops").write_bytes(sio.dumps(risky))
    with pytest.raises(
        ReprolabError,
        match=rf"risky.skops: refusing to load untrusted type\(s\) \['{re.escape(name)}'\]",
    ):
        load_model(tmp_path / "risky.skops")


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(ReprolabError, match=r"nothing\.skops: file not found"):
        load_model(tmp_path / "nothing.skops")
    (tmp_path / "junk.skops").write_bytes(b"not a zip")
    with pytest.raises(ReprolabError, match=r"junk\.skops: not a skops model file"):
        load_model(tmp_path / "junk.skops")


def _tampered(tmp_path, model, tamper):
    from reprolab.model.persistence import save_model

    tamper(model)
    path = tmp_path / "tampered.skops"
    save_model(path, model)
    return path


def test_tree_indices_out_of_range_are_refused_before_use(tmp_path):
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    from reprolab.core.errors import ReprolabError
    from reprolab.model.persistence import load_model

    x, y = np.random.default_rng(0).random((80, 3)), np.arange(80) % 2
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y)

    def far_child(model):
        model.estimators_[0].tree_.children_left[1] = 2_000_000_000

    def far_feature(model):
        tree = model.estimators_[1].tree_
        tree.feature[0] = 1_000_000

    for tamper in (far_child, far_feature):
        fitted = RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y)
        with pytest.raises(ReprolabError, match="out of range"):
            load_model(_tampered(tmp_path, fitted, tamper))
    boosting = HistGradientBoostingClassifier(max_iter=2).fit(x, y)

    def far_boosting_feature(model):
        model._predictors[0][0].nodes["feature_idx"][0] = 1_000_000

    with pytest.raises(ReprolabError, match="boosting tree's child, feature"):
        load_model(_tampered(tmp_path, boosting, far_boosting_feature))
    load_model(_tampered(tmp_path, forest, lambda m: None))  # an untouched model loads


def test_category_codes_that_do_not_match_their_categories_are_refused(tmp_path):
    import pandas as pd
    from sklearn.compose import ColumnTransformer

    from reprolab.core.errors import ReprolabError
    from reprolab.model.category_codes import CategoryCodes
    from reprolab.model.persistence import load_model

    frame = pd.DataFrame({"c": ["a", "b", "a"], "d": ["x", "y", "z"]})

    def short(encoder):
        encoder.codes_[1] = encoder.codes_[1][:-1]

    def far(encoder):
        encoder.codes_[0][0] = 10**9

    for tamper in (short, far):
        with pytest.raises(ReprolabError, match="category codes do not match"):
            load_model(_tampered(tmp_path, CategoryCodes().fit(frame), tamper))
    assert load_model(_tampered(tmp_path, CategoryCodes().fit(frame), lambda e: None)).codes_
    # A fitted preprocessor also holds its unfitted template encoder: that one loads.
    preprocessor = ColumnTransformer([("cat", CategoryCodes(), ["c", "d"])]).fit(frame)
    assert load_model(_tampered(tmp_path, preprocessor, lambda p: None)).transform(frame).shape == (
        3,
        2,
    )


def test_a_compression_bomb_is_refused_unread(tmp_path):
    import io
    import zipfile

    from reprolab.core.errors import ReprolabError
    from reprolab.model.persistence import load_model

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", '{"__class__": "dict", "__module__": "builtins"}')
        archive.writestr("1.npy", b"\0" * (200 << 20))
    (tmp_path / "bomb.skops").write_bytes(buffer.getvalue())
    with pytest.raises(ReprolabError, match="not a compression bomb"):
        load_model(tmp_path / "bomb.skops")


def test_a_file_skops_cannot_load_is_one_line(tmp_path):
    import io
    import zipfile

    from reprolab.core.errors import ReprolabError
    from reprolab.model.persistence import load_model

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", '{"__class__": "dict", "__module__": "builtins"}')
    (tmp_path / "odd.skops").write_bytes(buffer.getvalue())
    with pytest.raises(ReprolabError, match="skops cannot load it"):
        load_model(tmp_path / "odd.skops")
    nested = "[" * 100_000 + "]" * 100_000
    with zipfile.ZipFile(tmp_path / "deep.skops", "w") as archive:
        archive.writestr("schema.json", nested)
    with pytest.raises(ReprolabError):
        load_model(tmp_path / "deep.skops")
