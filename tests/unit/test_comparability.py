import pandas as pd

from reprolab.workflow.comparability import EvaluationData, differences, shared_rows


def data(**changes):
    base = {
        "test_md5": "a",
        "model_md5": "m",
        "target": "species",
        "task": "classification",
        "test_rows": 86,
    }
    return EvaluationData(**{**base, **changes})


def test_same_test_split_is_comparable():
    assert differences(data(), data(model_md5="other")) == ([], True)


def test_other_test_rows_are_named_and_can_be_compared_on_shared_rows():
    reasons, rescuable = differences(data(), data(test_md5="b", test_rows=120))
    assert reasons == ["the test sets differ (86 vs 120 rows; data version, split or seed changed)"]
    assert rescuable


def test_another_target_or_task_cannot_be_compared_at_all():
    reasons, rescuable = differences(data(), data(test_md5="b", target="island"))
    assert "the target differs ('species' vs 'island')" in reasons
    assert not rescuable
    assert not differences(data(), data(task="regression"))[1]


def test_shared_rows_leave_out_what_the_challenger_trained_on():
    base_test = pd.DataFrame({"x": [1, 2, 3, 4], "y": ["a", "b", "a", "b"]})
    head_train = pd.DataFrame({"x": [2, 4, 9], "y": ["b", "b", "a"], "extra": [0, 0, 0]})
    rows, left_out = shared_rows(base_test, head_train)
    assert rows.to_dict("list") == {"x": [1, 3], "y": ["a", "a"]}
    assert left_out == 2


def test_other_class_sets_cannot_be_compared():
    three = ("rain", "snow", "sun")
    reasons, rescuable = differences(
        data(classes=three), data(classes=three, absent_classes=("snow",))
    )
    assert reasons == ["the classes absent from the test set differ ([] vs ['snow'])"]
    assert not rescuable
    assert not differences(data(classes=three), data(classes=("rain", "sun")))[1]
