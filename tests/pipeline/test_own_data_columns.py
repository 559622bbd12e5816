"""A user's own file through the real pipeline, continued: rows with no target, and a
date column as features and as the split's time (a module of its own so that the two
halves run on two workers)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from .helpers import exp_run, predict_file, run
from .tables import HOUSE_DATA, add_own_files, houses

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module", autouse=True)
def own_files(repo):
    add_own_files(repo)


def test_rows_with_no_target_are_dropped_and_counted_or_refused(repo):
    unlabelled = houses()
    unlabelled.loc[[3, 50, 51, 100, 150, 200, 201, 239], "price"] = None
    unlabelled.to_csv(repo / "data/external/houses_unlabelled.csv", index=False)
    run(repo, "dvc", "add", "data/external/houses_unlabelled.csv")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "houses with 8 unknown prices")
    data = ["data=csv", "data.path=data/external/houses_unlabelled.csv", "data.target=price"]
    # This test's own split, whatever conf/ holds: a quarter of the rows, at random.
    split = ["split=stratified", "split.test_size=0.25"]
    result = exp_run(repo, "houses-unlabelled", *data, *split, "model=ridge",
                     "data.missing_target=drop")  # fmt: skip
    assert "validate: dropped 8 rows with no target 'price' (data.missing_target: drop)" in (
        result.stderr
    )
    report = json.loads((repo / "reports/validation.json").read_text())
    assert report["dropped_missing_target"] == 8 and report["rows"] == 232
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert metrics["test_rows"] == 58  # a quarter of the 232 labelled rows
    refused = run(
        repo,
        "dvc",
        "exp",
        "run",
        *(a for o in [*data, "model=ridge", "data.missing_target=fail"] for a in ("-S", o)),
        check=False,
    )
    assert refused.returncode != 0
    assert "column 'price', check not_nullable: 8 failing" in refused.stderr


def test_a_date_column_as_features_and_as_the_time_split(repo, tmp_path):
    exp_run(
        repo,
        "houses-dates",
        *HOUSE_DATA,
        "model=ridge",
        "data.date_features=[listed_on]",
        "features.date_parts=[year,month,dayofweek]",
    )
    schema = yaml.safe_load((repo / "reports/schema.yaml").read_text())
    assert schema["date_features"] == ["listed_on"]
    assert schema["dates"] == {"listed_on": "feature: calendar parts (features.date_parts)"}
    assert "listed_on" not in schema["excluded"]
    # The shipped model takes the raw date: batch prediction on the table's own rows.
    houses().drop(columns=["price"]).head(30).to_csv(tmp_path / "new.csv", index=False)
    predict_file(repo, tmp_path / "new.csv", tmp_path / "scored.csv")
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 30
    # The same column orders an out-of-time split by date.
    exp_run(
        repo,
        "houses-by-date",
        *HOUSE_DATA,
        "model=ridge",
        "split=time",
        "data.time_column=listed_on",
        "split.test_from=2024-07-01",
    )
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert metrics["test_rows"] == 58  # 2024-07-01 .. 2024-08-27 of the 240 daily rows
