import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from reprolab.core.errors import ReprolabError
from reprolab.model.estimators import build_estimator, fit_estimator, use_categorical_codes
from reprolab.model.persistence import save_model

# What conf/model/lightgbm.yaml sets so that LightGBM gives the same file every run.
LIGHTGBM_EXACT = {"deterministic": True, "force_row_wise": True, "verbose": -1}


def test_target_and_arguments_come_from_config():
    estimator = build_estimator(
        {"_target_": "sklearn.linear_model.LogisticRegression", "C": 0.5, "random_state": 3}
    )
    assert isinstance(estimator, LogisticRegression)
    assert (estimator.C, estimator.random_state) == (0.5, 3)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"C": 1.0}, r"model._target_: missing"),
        (
            {"_target_": "sklearn.linear_model.NoSuchModel"},
            r"model._target_: cannot instantiate 'sklearn.linear_model.NoSuchModel'",
        ),
        (
            {"_target_": "sklearn.linear_model.LogisticRegression", "bogus": 1},
            r"cannot instantiate 'sklearn.linear_model.LogisticRegression'.*bogus",
        ),
        (
            {"_target_": "sklearn.preprocessing.StandardScaler"},
            r"'sklearn.preprocessing.StandardScaler' is not a scikit-learn classifier",
        ),
        # Anything importable would be called: only estimator libraries are.
        ({"_target_": "os.system"}, r"model._target_: found 'os.system'; expected an estimator"),
        ({"_target_": "abc"}, r"model._target_: found 'abc'; expected an estimator"),
        ({"_target_": ["sklearn"]}, r"model._target_: found \['sklearn'\]"),
        # A function of an estimator library is not called either.
        ({"_target_": "xgboost.train"}, r"'xgboost.train', which is not an estimator class"),
        ({"_target_": "sklearn.utils.shuffle"}, r"'sklearn.utils.shuffle', which is not an"),
        (
            {"_target_": "sklearn.ensemble.RandomForestClassifier", "random_state": None},
            r"model.random_state: found None; expected a whole number",
        ),
    ],
)
def test_bad_model_config_names_the_key(model, message, capfd):
    with pytest.raises(ReprolabError, match=message):
        build_estimator(model)
    assert capfd.readouterr().err == ""  # the one line is ours: no library logs first


@pytest.mark.parametrize(
    "model",
    [
        {"_target_": "sklearn.ensemble.HistGradientBoostingClassifier", "max_iter": 20},
        {
            "_target_": "sklearn.ensemble.HistGradientBoostingClassifier",
            "max_iter": 20,
            "categorical_features": [False] * 5 + [True],
        },
        {"_target_": "sklearn.ensemble.RandomForestClassifier", "n_estimators": 20},
        {"_target_": "lightgbm.LGBMClassifier", "n_estimators": 20, **LIGHTGBM_EXACT},
        {"_target_": "xgboost.XGBClassifier", "n_estimators": 20},
    ],
)
def test_model_file_is_the_same_whatever_n_jobs(model, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3_000, 6)).astype("float32")
    x[:, 5] = rng.integers(0, 5, 3_000)  # category codes
    y = (x[:, 0] + rng.normal(size=3_000) > 0).astype(int)
    files = []
    for n_jobs in (1, 2, -1):
        estimator = build_estimator({**model, "random_state": 0})
        codes = use_categorical_codes(estimator, [False] * 5 + [True])
        fit_estimator(estimator, x, y, n_jobs, codes)
        files.append(tmp_path / f"{n_jobs}.skops")
        save_model(files[-1], estimator)
    assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()


@pytest.mark.parametrize("n_jobs", [0, -2, "all"])
def test_bad_n_jobs_names_the_key(n_jobs):
    estimator = build_estimator(
        {"_target_": "sklearn.linear_model.LogisticRegression", "random_state": 0}
    )
    with pytest.raises(ReprolabError, match=rf"n_jobs: found {n_jobs!r}; expected -1"):
        fit_estimator(estimator, np.zeros((4, 1)), [0, 1, 0, 1], n_jobs)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"_target_": "lightgbm.LGBMClassifier", "num_leaves": -5}, r"^model: LightGBMError: "),
        ({"_target_": "xgboost.XGBClassifier", "max_depth": -3}, r"^model: XGBoostError: "),
        ({"_target_": "xgboost.XGBClassifier", "learning_rate": "abc"}, r"^model: \w+Error: "),
    ],
)
def test_settings_the_boosting_libraries_refuse_at_fit_are_one_line(model, message, capfd):
    estimator = build_estimator({**model, "random_state": 0})
    x = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ReprolabError, match=message) as refused:
        fit_estimator(estimator, x, ["a", "b"] * 20, 1)
    assert "\n" not in str(refused.value)
    # Nothing else on the process's stderr (LightGBM's C++ prints its own Fatal line).
    assert capfd.readouterr().err == ""


def test_the_configured_model_is_named_not_a_forest_s_template_tree():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from reprolab.model.estimators import EncodedLabels, unwrapped

    forest, linear = RandomForestClassifier(), LogisticRegression()
    assert unwrapped(forest) is forest  # its `estimator` is a DecisionTreeClassifier
    assert unwrapped(EncodedLabels(linear)) is linear
