"""LightGBM and XGBoost as a user meets them (`-S model=lightgbm`, `model=xgboost`): the
whole pipeline in-process, native categories, the shipped model loaded with its types
trusted explicitly, predictions in the data's own labels, and byte-identical model
files whatever the thread count."""

from __future__ import annotations

import pytest

from reprolab.core.lockfile import file_md5
from reprolab.data.columns import feature_columns
from reprolab.model.persistence import describe_saved_pipeline, load_model
from reprolab.serve.scoring import model_rows, predictions

MODELS = {"lightgbm": "LGBMClassifier", "xgboost": "XGBClassifier"}


@pytest.fixture(scope="module", params=list(MODELS))
def boosted(request, root, tmp_path_factory, in_process):
    option = request.param
    one = in_process(root, tmp_path_factory.mktemp(option), [f"model={option}"])
    single = in_process(
        root, tmp_path_factory.mktemp(f"{option}-1"), [f"model={option}", "n_jobs=1"]
    )
    return option, one, single


def _inner(model):
    final = model.named_steps["model"]
    return getattr(final, "estimator_", final)  # XGBoost's classifier is wrapped


def test_categories_are_split_natively_not_one_hot(boosted):
    option, run, _ = boosted
    assert "categories: ordinal" in run["summaries"]["featurize"]
    model = load_model(run["root"] / "models/model.skops")
    names = list(model.named_steps["preprocess"].get_feature_names_out())
    codes = [i for i, name in enumerate(names) if name.startswith("cat__")]
    assert len(codes) == len(run["schema"]["categorical"]) > 0  # one column per feature
    inner = _inner(model)
    if option == "lightgbm":
        assert f"[categorical_feature: {','.join(map(str, codes))}]" in (
            inner.booster_.model_to_string()
        )
    else:
        assert [i for i, kind in enumerate(inner.get_params()["feature_types"]) if kind == "c"] == (
            codes
        )


def test_the_model_predicts_the_data_labels_and_scores_well(boosted):
    option, run, _ = boosted
    import pandas as pd

    model = load_model(run["root"] / "models/model.skops")
    schema = run["schema"]
    test = pd.read_parquet(run["root"] / "data/interim/test.parquet")
    scored = predictions(model, schema, model_rows(test[feature_columns(schema)], schema, "test"))
    assert set(scored["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert (scored["prediction"] == test[schema["target"]].to_numpy()).mean() > 0.9
    card = describe_saved_pipeline(run["root"] / "models/model.skops")
    assert card == (MODELS[option], ["Adelie", "Chinstrap", "Gentoo"])


def test_the_model_file_is_the_same_on_one_thread_as_on_all(boosted):
    _, run, single = boosted
    assert file_md5(run["root"] / "models/model.skops") == file_md5(
        single["root"] / "models/model.skops"
    )
    assert (run["root"] / "metrics/evaluate.json").read_bytes() == (
        single["root"] / "metrics/evaluate.json"
    ).read_bytes()
