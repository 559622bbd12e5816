import pytest
from sklearn.linear_model import LogisticRegression

from reprolab.errors import ReprolabError
from reprolab.models import build_estimator


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
    ],
)
def test_bad_model_config_names_the_key(model, message):
    with pytest.raises(ReprolabError, match=message):
        build_estimator(model)
