from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data.columns import feature_columns, require_columns
from reprolab.model.feature_settings import feature_settings
from reprolab.model.features import (
    MAX_NATIVE_CATEGORIES,
    build_preprocessor,
    categorical_encoding,
    keep_sparse,
    native_categorical_mask,
    transform_to_frame,
)


def _fitted(frame, data_cfg, features):
    pre = build_preprocessor(data_cfg["numeric"], data_cfg["categorical"], features)
    return pre.fit(frame[feature_columns(data_cfg)])


def test_features_are_named_scaled_and_complete(penguins, data_cfg, params):
    pre = _fitted(penguins, data_cfg, feature_settings(params))
    out = transform_to_frame(pre, penguins)
    assert list(out.columns[:4]) == [f"num__{c}" for c in data_cfg["numeric"]]
    assert "cat__island_Dream" in out.columns
    assert not out.isna().any().any()
    assert np.allclose(out[[f"num__{c}" for c in data_cfg["numeric"]]].mean(), 0, atol=1e-9)


def test_imputation_uses_training_statistics_only(penguins, data_cfg, params):
    params["features"]["numeric"]["scaler"] = "none"
    train = penguins.iloc[:30]
    pre = _fitted(train, data_cfg, feature_settings(params))
    row = penguins.iloc[[1]].copy()  # bill_length_mm is missing here
    out = transform_to_frame(pre, row)
    assert out.loc[0, "num__bill_length_mm"] == pytest.approx(train["bill_length_mm"].median())


def test_unknown_category_encodes_as_zeros(penguins, data_cfg, params):
    pre = _fitted(penguins, data_cfg, feature_settings(params))
    row = penguins.iloc[[0]].copy()
    row["island"] = "Atlantis"
    out = transform_to_frame(pre, row)
    island = [c for c in out.columns if c.startswith("cat__island_")]
    assert out.loc[0, island].sum() == 0


def test_rare_categories_grouped_when_min_frequency_set(penguins, data_cfg, params):
    frame = penguins.copy()
    frame.loc[0, "island"] = "Rare"
    params["features"]["categorical"]["min_frequency"] = 3
    out = transform_to_frame(_fitted(frame, data_cfg, feature_settings(params)), frame)
    assert "cat__island_infrequent_sklearn" in out.columns


def test_unknown_option_names_the_key(data_cfg, params):
    params["features"]["numeric"]["imputer"] = "mode"
    with pytest.raises(ReprolabError, match=r"features.numeric.imputer: found 'mode'"):
        build_preprocessor(data_cfg["numeric"], data_cfg["categorical"], feature_settings(params))


@pytest.mark.parametrize("value", ["abc", -5, 0, 1.5, [1], True])
def test_a_wrong_min_frequency_names_the_key(data_cfg, params, value):
    params["features"]["categorical"]["min_frequency"] = value
    with pytest.raises(ReprolabError, match=r"^features.categorical.min_frequency: found"):
        build_preprocessor(data_cfg["numeric"], data_cfg["categorical"], feature_settings(params))


def test_missing_columns_are_named_with_their_file():
    with pytest.raises(ReprolabError, match=r"train.parquet: column\(s\) \['sex'\] not found"):
        require_columns(pd.DataFrame({"a": [1]}), ["a", "sex"], "train.parquet")


@pytest.mark.parametrize(
    ("setting", "model", "expected"),
    [
        ("auto", "sklearn.ensemble.HistGradientBoostingClassifier", "ordinal"),
        ("auto", "sklearn.ensemble.HistGradientBoostingRegressor", "ordinal"),
        ("auto", "sklearn.linear_model.LogisticRegression", "onehot"),
        ("auto", None, "onehot"),
        ("onehot", "sklearn.ensemble.HistGradientBoostingClassifier", "onehot"),
        ("ordinal", "sklearn.ensemble.RandomForestClassifier", "ordinal"),
    ],
)
def test_auto_encoding_follows_the_model(params, setting, model, expected):
    params["features"]["categorical"]["encoding"] = setting
    assert categorical_encoding(feature_settings(params), model) == expected


def test_ordinal_encoding_keeps_one_code_column_per_feature(penguins, data_cfg, params):
    features = feature_settings(params)
    pre = build_preprocessor(data_cfg["numeric"], data_cfg["categorical"], features, "ordinal")
    pre.fit(penguins[feature_columns(data_cfg)])
    rows = penguins.iloc[[0, 3]].copy()
    rows["island"] = ["Atlantis", None]  # unseen, missing
    out = transform_to_frame(pre, rows, "float32")
    assert list(out.columns[-2:]) == ["cat__island", "cat__sex"]
    assert (out.dtypes == "float32").all()
    # Both unseen and missing become missing, which the trees route on their own.
    assert out["cat__island"].isna().all()
    codes = transform_to_frame(pre, penguins)["cat__island"]
    assert sorted(codes.unique()) == [0.0, 1.0, 2.0]
    mask = native_categorical_mask(pre)
    assert mask == [False] * len(data_cfg["numeric"]) + [True, True]
    assert native_categorical_mask(_fitted(penguins, data_cfg, features)) is None


def test_feature_dtype_is_checked(params):
    params["features"]["dtype"] = "float16"
    with pytest.raises(ReprolabError, match=r"features.dtype: found 'float16'"):
        feature_settings(params)


def test_ordinal_codes_stay_within_what_the_trees_bin(params):
    # 300 categories: more than histogram gradient boosting's 255 bins.
    frame = pd.DataFrame({"c": [f"v{i % 300:03d}" for i in range(3_000)]})
    pre = build_preprocessor([], ["c"], feature_settings(params), "ordinal", cardinality=300)
    codes = transform_to_frame(pre.fit(frame), frame)["cat__c"]
    assert codes.max() == MAX_NATIVE_CATEGORIES - 1


def test_one_hot_stays_sparse_only_above_the_size_limit(params):
    features = replace(feature_settings(params), dtype="float32", max_dense_mib=1)
    # 10,000 rows x (2 + 50 + 1) columns x 4 bytes = 2.0 MiB dense.
    assert keep_sparse(10_000, 2, [50], "onehot", features)
    assert not keep_sparse(1_000, 2, [50], "onehot", features)
    assert not keep_sparse(10_000, 2, [50], "ordinal", features)
    assert not keep_sparse(10_000, 2, [50], "onehot", replace(features, max_dense_mib=None))
    for wrong in (-1, 0, "1 GiB", True):
        params["features"]["max_dense_mib"] = wrong
        with pytest.raises(ReprolabError, match=rf"^features.max_dense_mib: found {wrong!r}"):
            feature_settings(params)


def test_sparse_one_hot_holds_the_same_values(penguins, data_cfg, params):
    import scipy.sparse

    columns = feature_columns(data_cfg)
    dense = build_preprocessor(
        data_cfg["numeric"], data_cfg["categorical"], feature_settings(params)
    )
    sparse = build_preprocessor(
        data_cfg["numeric"], data_cfg["categorical"], feature_settings(params), sparse=True
    )
    values = sparse.fit(penguins[columns]).transform(penguins[columns])
    assert scipy.sparse.issparse(values)
    assert np.allclose(values.toarray(), dense.fit(penguins[columns]).transform(penguins[columns]))


def test_date_features_become_calendar_parts_inside_the_shipped_model(tmp_path):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from reprolab.model.estimators import build_inference_pipeline
    from reprolab.model.features import build_preprocessor
    from reprolab.model.persistence import load_model, save_model

    days = pd.Series(pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d"))
    frame = pd.DataFrame({"x": range(60), "listed_on": days, "y": [0, 1] * 30})
    frame.loc[3, "listed_on"] = None
    section = {
        "numeric": {"imputer": "median", "scaler": "none"},
        "categorical": {"imputer": "most_frequent", "encoding": "onehot", "min_frequency": None},
        "date_parts": ["year", "month", "dayofweek"],
        "dtype": "float64",
        "max_dense_mib": None,
    }
    config = feature_settings({"features": section})
    preprocessor = build_preprocessor(["x"], [], config, dates=["listed_on"])
    features = preprocessor.fit_transform(frame[["x", "listed_on"]])
    assert list(preprocessor.get_feature_names_out()) == [
        "num__x",
        "date__listed_on_year",
        "date__listed_on_month",
        "date__listed_on_dayofweek",
    ]
    assert features[0].tolist() == [0.0, 2024.0, 1.0, 0.0]  # 2024-01-01 was a Monday
    model = build_inference_pipeline(preprocessor, LogisticRegression().fit(features, frame["y"]))
    save_model(tmp_path / "model.skops", model)
    loaded = load_model(tmp_path / "model.skops")  # trusted: reprolab.model.features.CalendarParts
    rows = frame[["x", "listed_on"]].head(5)
    assert (loaded.predict_proba(rows) == model.predict_proba(rows)).all()


def test_unknown_date_parts_are_named():
    import pandas as pd

    from reprolab.core.errors import ReprolabError
    from reprolab.model.features import CalendarParts

    with pytest.raises(ReprolabError, match=r"features.date_parts: found \['weekday'\]"):
        CalendarParts(["weekday"]).fit(pd.DataFrame({"d": ["2024-01-01"]}))


@pytest.mark.parametrize("value", ["abc", -5, [1], [], ["year", "fortnight"], None])
def test_wrong_date_parts_are_refused_even_without_date_features(data_cfg, params, value):
    params["features"]["date_parts"] = value
    with pytest.raises(ReprolabError, match=r"^features.date_parts: found"):
        build_preprocessor(data_cfg["numeric"], data_cfg["categorical"], feature_settings(params))


@pytest.mark.parametrize("encoding", ["onehot", "ordinal"])
def test_features_written_batch_by_batch_equal_the_whole_transform(
    tmp_path, monkeypatch, penguins, data_cfg, params, encoding
):
    from reprolab.core.files import write_parquet_batches
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.model import features

    monkeypatch.setattr(features, "BATCH_ROWS", 25)  # several batches
    pre = build_preprocessor(
        data_cfg["numeric"], data_cfg["categorical"], feature_settings(params), encoding
    ).fit(penguins[feature_columns(data_cfg)])
    path = tmp_path / "features.parquet"
    encoded = pre.transform(penguins[feature_columns(data_cfg)]).astype("float32")
    names = list(pre.get_feature_names_out())
    write_parquet_batches(path, features.feature_batches(encoded, names, penguins["species"]))
    whole = transform_to_frame(pre, penguins[feature_columns(data_cfg)], "float32")
    whole["species"] = penguins["species"].reset_index(drop=True)
    written = pd.read_parquet(path)
    pd.testing.assert_frame_equal(written, whole)
    # train reads the encoded columns one by one into one array, in the precision asked.
    table = ParquetColumns(path)
    matrix = features.training_matrix(table, pre, "species", "float64")
    assert matrix.dtype == np.float64 and matrix.shape == (len(penguins), whole.shape[1] - 1)
    np.testing.assert_array_equal(matrix, whole.drop(columns="species").to_numpy("float64"))
    assert features.training_matrix(table, pre, "species").dtype == np.float32
    # Input columns kept (the sparse layout): encoded by the saved preprocessor.
    kept, columns = tmp_path / "kept.parquet", feature_columns(data_cfg)
    write_parquet_batches(
        kept, features.feature_batches(penguins[columns], columns, penguins["species"])
    )
    with pytest.raises(ReprolabError, match=r"kept.parquet: feature columns do not match"):
        features.training_matrix(ParquetColumns(kept), pre, "species")


def test_the_histogram_booster_is_given_the_precision_it_fits_in():
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
    from xgboost import XGBClassifier

    from reprolab.model.estimators import EncodedLabels, fit_dtype

    assert fit_dtype(HistGradientBoostingRegressor()) == "float64"
    # With category columns it copies twice through its own encoder: float32 is smaller.
    assert fit_dtype(HistGradientBoostingRegressor(categorical_features=[True, False])) is None
    assert (
        fit_dtype(HistGradientBoostingRegressor(categorical_features=[False, False])) == "float64"
    )
    assert fit_dtype(RandomForestClassifier()) is None
    assert fit_dtype(EncodedLabels(XGBClassifier())) is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_column_by_column_median_equals_the_imputers_own(dtype):
    from sklearn.impute import SimpleImputer

    from reprolab.model.features import median_of

    rng = np.random.default_rng(3)
    values = rng.normal(size=(1001, 6)).astype(dtype)
    values[rng.random(values.shape) < 0.2] = np.nan  # odd and even counts per column
    values[:, 5] = 7.0  # constant
    own = SimpleImputer(strategy="median").fit(values)
    ours = SimpleImputer(strategy=median_of).fit(values)
    np.testing.assert_array_equal(ours.statistics_, own.statistics_)
    np.testing.assert_array_equal(ours.transform(values), own.transform(values))


def test_columns_whose_every_category_is_infrequent_are_named(params):
    from reprolab.model.features import merged_columns

    frame = pd.DataFrame({"city": ["a", "a", "b", "c"], "plan": ["x", "x", "x", "y"]})
    settings = feature_settings(params)
    count = replace(settings, min_frequency=3)
    assert merged_columns(frame, ["city", "plan"], count) == ["city"]
    share = replace(settings, min_frequency=0.8)  # 3.2 rows of 4
    assert merged_columns(frame, ["city", "plan"], share) == ["city", "plan"]
    assert merged_columns(frame, ["city"], replace(settings, min_frequency=None)) == []


def test_a_features_key_missing_from_the_config_is_named_not_defaulted(params):
    params["features"] = {k: v for k, v in params["features"].items() if k != "dtype"}
    with pytest.raises(ReprolabError, match=r"missing key 'features.dtype'"):
        feature_settings(params)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("features", "dtyp"), r"^features.dtyp: not a setting of features; expected one of"),
        (("features", "numeric", "scale"), r"^features.numeric.scale: not a setting"),
        (("features", "categorical", "min_freq"), r"^features.categorical.min_freq: not a set"),
    ],
)
def test_a_misspelt_features_key_is_refused_not_ignored(params, path, message):
    *parents, key = path
    node = params
    for parent in parents:
        node = node[parent]
    node[key] = 1
    with pytest.raises(ReprolabError, match=message):
        feature_settings(params)
