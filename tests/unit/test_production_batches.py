"""Production batches as the monitor reads them: what monitoring measures passes (out of
range, missing, unseen categories); what it cannot measure is one line naming the column."""

import numpy as np
import pandas as pd
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.monitor.production import training_labels, typed_batch
from reprolab.monitor.verdict import production_performance

SCHEMA = {
    "task": "classification",
    "target": "label",
    "numeric": ["size"],
    "categorical": ["colour"],
    "date_features": [],
    "id_column": None,
    "time_column": None,
    "schema": {"classes": [0, 1], "ranges": {"size": [0.0, 10.0]}, "required": ["size"]},
}


def test_drift_passes_and_features_take_the_training_types():
    batch = pd.DataFrame(
        {
            "size": ["3.5", "500", None],  # text numbers, far out of range, missing
            "colour": [1.5, "violet", None],  # a number where text was trained, unseen
            "label": [1.0, 0.0, np.nan],
        }
    )
    typed = typed_batch(batch, SCHEMA, "b.csv")
    assert typed["size"].dtype == "float64"
    assert typed["size"].tolist()[:2] == [3.5, 500.0] and np.isnan(typed["size"].iloc[2])
    assert typed["colour"].tolist()[:2] == ["1.5", "violet"] and pd.isna(typed["colour"].iloc[2])
    assert typed["label"].tolist()[:2] == [1, 0]


@pytest.mark.parametrize(
    ("column", "values", "words"),
    [
        ("size", ["3.5", "long", "2"], "column 'size', check is_number: 1 failing (e.g. 'long')"),
        ("size", [1.0, np.inf, 2.0], "column 'size', check is_finite: 1 failing"),
    ],
)
def test_what_cannot_be_scored_is_named(column, values, words):
    batch = pd.DataFrame({"size": [1.0, 2.0, 3.0], "colour": ["a", "b", "c"], column: values})
    with pytest.raises(ReprolabError, match=r"b\.parquet: 1 schema check") as error:
        typed_batch(batch, SCHEMA, "b.parquet")
    assert words in str(error.value)


def test_a_missing_feature_column_is_named():
    with pytest.raises(ReprolabError, match=r"b.parquet: column\(s\) \['colour'\] not found"):
        typed_batch(pd.DataFrame({"size": [1.0]}), SCHEMA, "b.parquet")


def test_a_regression_label_that_is_not_a_number_is_named():
    schema = {**SCHEMA, "task": "regression", "schema": {}}
    batch = pd.DataFrame({"size": [1.0, 2.0], "colour": ["a", "b"], "label": ["3.5", "n/a"]})
    with pytest.raises(ReprolabError, match=r"column 'label' \(the target\): 1 label\(s\)"):
        typed_batch(batch, schema, "b.csv")
    batch["label"] = ["3.5", None]
    assert typed_batch(batch, schema, "b.csv")["label"].iloc[0] == 3.5


def test_labels_are_spelled_as_the_training_classes():
    assert training_labels(pd.Series([1, 1.0, "1", "0", 7, None]), SCHEMA).tolist()[:5] == [
        1,
        1,
        1,
        0,
        7,
    ]
    text = {**SCHEMA, "schema": {"classes": ["0", "1"]}}
    assert training_labels(pd.Series([0, 1.0]), text).tolist() == ["0", "1"]


def test_labels_of_a_class_never_trained_on_are_counted():
    current = pd.DataFrame({"label": [0, 1, 2, 2, None]})
    predicted = np.array([0, 1, 1, 0, 0])
    performance = production_performance(current, predicted, SCHEMA)
    assert performance == {"accuracy": 0.5, "labelled_rows": 4, "labels_of_new_classes": 2}


def test_columns_already_of_their_kind_keep_their_type():
    # float32 stays float32: cast to float64, the preprocessor would compute otherwise than
    # in training (1M synthetic production rows: accuracy 0.882433 -> 0.882289).
    batch = pd.DataFrame(
        {
            "size": np.array([1.5, 2.5], dtype="float32"),
            "colour": pd.Series(["a", "b"], dtype="category"),
        }
    )
    typed = typed_batch(batch, SCHEMA, "b.parquet")
    assert typed["size"].dtype == "float32"
    assert isinstance(typed["colour"].dtype, pd.CategoricalDtype)


def test_every_batch_empty_names_the_files(tmp_path):
    from reprolab.monitor.production import read_batches

    frame = pd.DataFrame({"bill_length_mm": pd.Series([], dtype=float)})
    paths = [tmp_path / "week1.parquet", tmp_path / "WEEK2.PARQUET"]
    for path in paths:
        frame.to_parquet(path)
    with pytest.raises(
        ReprolabError, match=r"every batch is empty \(week1.parquet, WEEK2.PARQUET\)"
    ):
        read_batches(paths, SCHEMA)
