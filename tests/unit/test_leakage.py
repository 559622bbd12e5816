"""Leakage guards: what the model sees comes from training rows only, never the answer."""

import numpy as np
import pandas as pd
import pytest

from reprolab.core.config import Paths
from reprolab.core.files import read_parquet, write_parquet, write_yaml
from reprolab.data.contract import validate_frame
from reprolab.data.schema_inference import effective_schema
from reprolab.data.split_settings import split_settings
from reprolab.data.splitting import split_dataset
from reprolab.model.persistence import load_model


def split_of(method, **keys):
    """The checked split settings of `method`, the overlap limit of conf/split."""
    return split_settings({"method": method, "max_test_overlap": 0.5, **keys})


@pytest.fixture
def frame(penguins):
    return penguins.assign(row=np.arange(len(penguins)))


def test_train_and_test_are_disjoint_and_complete(frame, data_cfg):
    schema = {**data_cfg, "task": "classification"}
    train, test = split_dataset(frame, schema, split_of("stratified", test_size=0.3), 3)
    assert set(train["row"]).isdisjoint(test["row"])
    assert set(train["row"]) | set(test["row"]) == set(frame["row"])


def test_time_split_never_trains_on_rows_after_the_test_rows(frame, data_cfg):
    train, test = split_dataset(frame, data_cfg, split_of("time", test_from=2008), 3)
    assert train["year"].max() < test["year"].min()


def test_target_time_and_id_are_never_features(frame):
    data = {
        "target": "species",
        "id_column": "row",
        "time_column": "year",
        "numeric": None,
        "categorical": None,
    }
    schema = effective_schema(frame, data)
    features = set(schema["numeric"]) | set(schema["categorical"])
    assert features.isdisjoint({"species", "row", "year"})
    assert features == {
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "island",
        "sex",
    }


def test_a_declared_feature_equal_to_the_target_fails_validation(frame, data_cfg):
    leaky = frame.assign(label_copy=frame["species"])
    schema = {
        **data_cfg,
        "task": "classification",
        "categorical": [*data_cfg["categorical"], "label_copy"],
    }
    schema["schema"]["min_rows"] = 10
    report = validate_frame(leaky, schema)
    assert {"column": "label_copy", "check": "not_a_copy_of_the_target"} in [
        {k: f[k] for k in ("column", "check")} for f in report["failures"]
    ]


def test_featurize_fits_on_the_training_rows_only(frame, data_cfg, params, tmp_path, monkeypatch):
    import yaml

    from reprolab.stages.featurize import featurize

    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    train, test = frame.iloc[:40], frame.iloc[40:].assign(body_mass_g=1e6)  # test far off
    write_yaml(Paths.schema, {**data_cfg, "task": "classification"})
    write_parquet(Paths.train, train)
    write_parquet(Paths.test, test)
    featurize()
    scaler = load_model(Paths.preprocessor).named_transformers_["num"].named_steps["scale"]
    imputed = train[data_cfg["numeric"]].fillna(train[data_cfg["numeric"]].median())
    assert np.allclose(scaler.mean_, imputed.mean())
    features = read_parquet(Paths.train_features)
    assert len(features) == len(train)
    assert [c for c in features.columns if "species" in c] == ["species"]  # only the label
    assert not any(isinstance(c, str) and c.endswith("row") for c in features.columns)
    assert pd.api.types.is_float_dtype(features["num__body_mass_g"])
