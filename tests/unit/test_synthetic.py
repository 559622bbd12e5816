"""The synthetic data generator: shape, dtypes, seeding, structure and drift knobs."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data import synthetic

SOURCE = {
    "seed": 0,
    "rows": 5_000,
    "numeric": 6,
    "categorical": 3,
    "cardinality": [3, 8],
    "informative": 0.5,
    "separation": 1.0,
    "missing_rate": 0.05,
    "class_balance": [0.6, 0.3, 0.1],
    "days": 100,
}


@pytest.fixture
def spec():
    return synthetic.spec_from_config(SOURCE)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 1,000 rows, so a few thousand rows cross chunk boundaries."""
    monkeypatch.setattr(synthetic, "CHUNK_ROWS", 1_000)


def frame(spec, **kwargs):
    return pd.concat(synthetic.generate(spec, **kwargs), ignore_index=True)


def test_columns_dtypes_and_row_count(spec, small_chunks):
    chunks = list(synthetic.generate(replace(spec, rows=4_321)))
    assert [len(c) for c in chunks] == [1_000] * 4 + [321]
    data = pd.concat(chunks, ignore_index=True)
    numeric, categorical = synthetic.column_names(spec)
    assert list(data.columns) == [*numeric, *categorical, "event_day", "label"]
    assert numeric == [f"num_{i:02d}" for i in range(6)]
    assert all(data[c].dtype == "float32" for c in numeric)
    assert all(isinstance(data[c].dtype, pd.CategoricalDtype) for c in [*categorical, "label"])
    # Cardinalities cycle over the categorical features.
    assert [len(data[c].cat.categories) for c in categorical] == [3, 8, 3]
    assert data["event_day"].dtype == "int32"
    assert data["event_day"].is_monotonic_increasing
    assert (data["event_day"].min(), data["event_day"].max()) == (0, 99)
    assert data["label"].notna().all()


def test_same_seed_same_bytes_and_another_seed_other_rows(spec, small_chunks, tmp_path):
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"]
    for path, seed in zip(paths, [0, 0, 1], strict=True):
        synthetic.write(path, synthetic.generate(replace(spec, seed=seed)), spec.rows)
    digests = [hashlib.md5(p.read_bytes()).hexdigest() for p in paths]
    assert digests[0] == digests[1] != digests[2]
    # One row group per chunk: a reader can stream it back chunk by chunk too.
    assert pq.ParquetFile(paths[0]).num_row_groups == 5
    assert pd.read_parquet(paths[0]).shape == (5_000, 11)


def test_class_balance_and_missing_rate_are_honoured(spec):
    data = frame(replace(spec, rows=50_000))
    shares = data["label"].value_counts(normalize=True).sort_index()
    assert shares.to_numpy() == pytest.approx([0.6, 0.3, 0.1], abs=0.01)
    features = data.drop(columns=["label", "event_day"])
    assert features.isna().mean().to_numpy() == pytest.approx([0.05] * 9, abs=0.01)


def test_informative_features_depend_on_the_class_and_noise_does_not(spec):
    data = frame(replace(spec, rows=30_000, missing_rate=0.0))

    def spread(column):
        # Between-class spread of the class means, in units of the feature's spread.
        means = data.groupby("label", observed=True)[column].mean()
        return means.std() / data[column].std()

    numeric, categorical = synthetic.column_names(spec)
    assert min(spread(c) for c in numeric[:3]) > 0.2  # ceil(6 * 0.5) informative
    assert max(spread(c) for c in numeric[3:]) < 0.05

    def dependence(column):
        table = pd.crosstab(data[column], data["label"], normalize="columns")
        return float((table.max(axis=1) - table.min(axis=1)).max())

    assert min(dependence(c) for c in categorical[:2]) > 0.1  # ceil(3 * 0.5) informative
    assert dependence(categorical[2]) < 0.03


def test_drift_moves_only_the_drifting_features(spec):
    plain = frame(replace(spec, rows=20_000), row_seed=5)
    drift = synthetic.Drift(shift=2.0, scale=1.5, category_shift=0.5, unseen=0.1)
    moved = frame(replace(spec, rows=20_000), drift=drift, row_seed=5, first_day=100)
    numeric, categorical = synthetic.column_names(spec)
    for column in numeric:
        shift = (moved[column].mean() - plain[column].mean()) / plain[column].std()
        if column in numeric[:3]:
            assert shift > 1.0, column
            assert moved[column].std() > 1.3 * plain[column].std()
        else:
            assert moved[column].equals(plain[column]), column
    for column in categorical[:2]:
        assert moved[column].value_counts(normalize=True)["unseen"] == pytest.approx(0.1, abs=0.01)
        rarest = plain[column].value_counts().idxmin()
        assert (moved[column] == rarest).mean() > (plain[column] == rarest).mean() + 0.3
    assert "unseen" not in moved[categorical[2]].cat.categories
    assert (moved["event_day"] == 100).all()


def test_drift_of_chosen_columns_missing_values_and_class_balance(spec):
    drift = synthetic.Drift(
        shift=3.0, columns=("num_05",), missing_rate=0.4, class_balance=(0.1, 0.1, 0.8)
    )
    data = frame(replace(spec, rows=20_000), drift=drift)
    plain = frame(replace(spec, rows=20_000))
    assert data["num_05"].mean() > plain["num_05"].mean() + 2 * plain["num_05"].std()
    assert data["num_00"].isna().mean() == pytest.approx(0.4, abs=0.02)
    assert (data["label"] == "class_2").mean() == pytest.approx(0.8, abs=0.02)
    with pytest.raises(ReprolabError, match=r"drift columns \['nope'\] not found"):
        frame(spec, drift=synthetic.Drift(columns=("nope",)))
    with pytest.raises(ReprolabError, match="2 shares; expected 3"):
        frame(spec, drift=synthetic.Drift(class_balance=(0.5, 0.5)))


def test_row_seed_draws_new_rows_from_the_same_distribution(spec):
    training = frame(replace(spec, rows=20_000, missing_rate=0.0))
    batch = frame(replace(spec, rows=20_000, missing_rate=0.0), row_seed=9)
    assert not training["num_00"].equals(batch["num_00"])
    for column in ("num_00", "num_01"):
        gap = abs(training[column].mean() - batch[column].mean()) / training[column].std()
        assert gap < 0.05
    # Another data seed is another distribution: the class means move.
    other = frame(replace(spec, seed=1, rows=20_000, missing_rate=0.0))
    gap = abs(other["num_00"].mean() - training["num_00"].mean())
    assert gap > 0.2 * training["num_00"].std()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rows", 0, r"data.source.rows: found 0; expected at least 1"),
        ("rows", "many", r"data.source.rows: found 'many'; expected a int"),
        ("cardinality", [1], r"data.source.cardinality: found \[1\]; expected an integer"),
        ("missing_rate", 1.5, r"data.source.missing_rate: found 1.5; expected a fraction"),
        ("informative", -0.1, r"data.source.informative: found -0.1; expected a fraction"),
        ("class_balance", [1.0], r"data.source.class_balance: found \[1.0\]; expected at least 2"),
        ("class_balance", [0.5, -1], r"expected at least 2 positive class shares"),
        ("separation", -1, r"data.source.separation: found -1.0; expected 0 or more"),
        ("seed", None, r"data.source.seed: not set"),
    ],
)
def test_bad_settings_name_the_key(key, value, message):
    with pytest.raises(ReprolabError, match=message):
        synthetic.spec_from_config({**SOURCE, key: value})


def test_no_features_is_refused():
    with pytest.raises(ReprolabError, match="expected a feature"):
        synthetic.spec_from_config({**SOURCE, "numeric": 0, "categorical": 0})


def test_class_shares_are_normalised():
    spec = synthetic.spec_from_config({**SOURCE, "class_balance": [3, 1]})
    assert spec.class_balance == (0.75, 0.25)
    assert np.isclose(sum(spec.class_balance), 1.0)
