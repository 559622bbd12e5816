import functools
import os
import re
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from reprolab.core.errors import ReprolabError
from reprolab.persistence import canonical_skops, load_model, save_model


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
