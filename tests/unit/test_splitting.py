import numpy as np
import pandas as pd
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data.split_settings import split_settings
from reprolab.data.splitting import split_dataset


def split_of(method, **keys):
    """The checked split settings of `method`, the overlap limit of conf/split."""
    return split_settings({"method": method, "max_test_overlap": 0.5, **keys})


def test_stratified_split_keeps_class_shares_and_all_rows(penguins, data_cfg):
    train, test = split_dataset(penguins, data_cfg, split_of("stratified", test_size=0.25), 1)
    assert len(train) + len(test) == len(penguins)
    assert len(test) == 15
    assert test["species"].value_counts().to_dict() == {"Adelie": 5, "Chinstrap": 5, "Gentoo": 5}


def test_stratified_split_is_seeded(penguins, data_cfg):
    cfg = split_of("stratified", test_size=0.25)
    first, _ = split_dataset(penguins, data_cfg, cfg, 7)
    again, _ = split_dataset(penguins, data_cfg, cfg, 7)
    other, _ = split_dataset(penguins, data_cfg, cfg, 8)
    assert first.equals(again)
    assert not first.equals(other)


def test_class_with_one_row_is_refused_by_name(penguins, data_cfg):
    frame = penguins.copy()
    frame.loc[0, "species"] = "Emperor"
    with pytest.raises(ReprolabError, match=r"column 'species'.*\['Emperor'\].*at least 2"):
        split_dataset(frame, data_cfg, split_of("stratified", test_size=0.25), 1)


def test_time_split_puts_the_future_in_test(penguins, data_cfg):
    train, test = split_dataset(penguins, data_cfg, split_of("time", test_from=2009), 1)
    assert set(test["year"]) == {2009}
    assert set(train["year"]) == {2007, 2008}


def test_time_split_that_empties_a_side_names_the_key(penguins, data_cfg):
    with pytest.raises(ReprolabError, match=r"split.test_from: 2020 leaves an empty test set"):
        split_dataset(penguins, data_cfg, split_of("time", test_from=2020), 1)


def test_unknown_method_names_the_key(penguins, data_cfg):
    with pytest.raises(ReprolabError, match=r"split\.method: unknown method 'kfold'"):
        split_dataset(penguins, data_cfg, split_of("kfold"), 1)


def test_duplicated_rows_on_both_sides_of_the_split_are_counted_and_refused():
    import pandas as pd

    from reprolab.data.columns import row_keys
    from reprolab.data.splitting import (
        count_test_rows_in_train,
        require_small_overlap,
        stratified_test_rows,
    )

    # 10 distinct rows, each repeated 10 times, with random-looking labels.
    frame = pd.DataFrame({"x": [i % 10 for i in range(100)], "y": [i % 10 % 2 for i in range(100)]})
    is_test = stratified_test_rows(frame["y"], 0.25, seed=0)
    keys = row_keys(frame, ["x", "y"])
    seen = count_test_rows_in_train(keys[~is_test], keys[is_test])
    assert seen == is_test.sum() == 25
    unique = row_keys(frame.assign(x=range(100)), ["x", "y"])
    assert count_test_rows_in_train(unique[~is_test], unique[is_test]) == 0
    with pytest.raises(ReprolabError, match=r"split: 25 of 25 test rows \(100.0%\) are also"):
        require_small_overlap(seen, 25, 0.5)
    require_small_overlap(seen, 25, 1.0)  # allowed when the user says so
    with pytest.raises(ReprolabError, match=r"split.max_test_overlap: found 'lots'"):
        split_of("stratified", test_size=0.25, max_test_overlap="lots")


def test_the_split_streamed_to_files_equals_the_split_in_memory(tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from reprolab.data import parquet_stream
    from reprolab.data.splitting import split_dataset, test_rows, write_split

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=500),
            "c": pd.Categorical(rng.choice(["p", "q", "r"], 500)),
            "y": rng.choice(["a", "b", "c"], 500, p=[0.6, 0.3, 0.1]).astype(object),
        }
    )
    frame.to_parquet(tmp_path / "raw.parquet", index=False)
    monkeypatch.setattr(parquet_stream, "BATCH_ROWS", 64)
    table = parquet_stream.ParquetColumns(tmp_path / "raw.parquet")
    data, split = (
        {"target": "y", "task": "classification"},
        split_of("stratified", test_size=0.2),
    )
    is_test = test_rows(table, data, split, 4)
    paths = (tmp_path / "train.parquet", tmp_path / "test.parquet")
    assert write_split(table, is_test, paths, ["x", "c", "y"], 0.5) == (400, 100, 0)
    train, test = split_dataset(pd.read_parquet(tmp_path / "raw.parquet"), data, split, 4)
    pd.testing.assert_frame_equal(pd.read_parquet(paths[0]), train)
    pd.testing.assert_frame_equal(pd.read_parquet(paths[1]), test)
    # Too many test rows seen in training: neither file is replaced.
    doubled = parquet_stream.ParquetColumns(tmp_path / "raw.parquet")
    with pytest.raises(ReprolabError, match="are also training rows"):
        write_split(doubled, is_test, paths, ["c"], 0.5)
    pd.testing.assert_frame_equal(pd.read_parquet(paths[0]), train)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "raw.parquet",
        "test.parquet",
        "train.parquet",
    ]


def test_a_test_size_that_is_not_a_number_is_one_line():
    import pandas as pd

    from reprolab.data.splitting import split_dataset

    frame = pd.DataFrame({"x": range(20), "y": [0, 1] * 10})
    schema = {"target": "y", "task": "classification"}
    with pytest.raises(ReprolabError, match=r"split.test_size: found 'abc'; expected a number"):
        split_dataset(frame, schema, split_of("stratified", test_size="abc"), 0)


@pytest.mark.parametrize("test_from", ["2024-03-01", __import__("datetime").date(2024, 3, 1)])
def test_time_split_on_a_date_column(test_from):
    import pandas as pd

    from reprolab.data.splitting import split_dataset

    days = pd.date_range("2024-01-01", periods=120, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"listed_on": days, "y": [0, 1] * 60, "year": 2020})

    def split(column, test_from):
        data = {"target": "y", "time_column": column}
        return split_dataset(frame, data, split_of("time", test_from=test_from), 1)

    train, test = split("listed_on", test_from)
    assert train["listed_on"].max() == "2024-02-29" and test["listed_on"].min() == "2024-03-01"
    with pytest.raises(ReprolabError, match="expected a date such as 2015-01-01"):
        split("listed_on", "next spring")
    with pytest.raises(ReprolabError, match="holds numbers, so expected a number"):
        split("year", "2015-01-01")


def test_a_date_time_column_validates_and_is_recorded_in_the_schema():
    import pandas as pd

    from reprolab.data.contract import validate_frame
    from reprolab.data.schema_inference import effective_schema

    frame = pd.DataFrame(
        {
            "listed_on": pd.date_range("2024-01-01", periods=40, freq="D").strftime("%Y-%m-%d"),
            "x": range(40),
            "y": [0, 1] * 20,
        }
    )
    data = {"target": "y", "time_column": "listed_on", "numeric": None, "categorical": None}
    schema = effective_schema(frame, data)
    assert schema["time_kind"] == "date"
    assert schema["dates"] == {
        "listed_on": "time column: orders rows for split.method=time; not a feature"
    }
    assert validate_frame(frame, schema)["passed"]
    broken = frame.assign(listed_on=["soon", *frame["listed_on"][1:]])
    failures = validate_frame(broken, schema)["failures"]
    assert [(f["column"], f["check"]) for f in failures] == [("listed_on", "is_date")]
    # The same column also a date feature: the schema says it is one (it said "not a feature").
    featured = effective_schema(frame, {**data, "date_features": ["listed_on"]})
    assert featured["dates"] == {
        "listed_on": "time column: orders rows for split.method=time; also a feature: "
        "calendar parts (features.date_parts)"
    }


def test_the_card_lists_the_date_parts_a_date_feature_gives_the_model():
    from reprolab.model.card import model_card, render_markdown

    schema = {"task": "regression", "target": "y", "numeric": ["x"], "categorical": [],
              "date_features": ["listed_on"], "excluded": {}, "time_column": "listed_on"}  # fmt: skip
    raw = {"dtypes": {"x": "int64", "listed_on": "str"}, "rows": 40, "latest": "2024-02-09"}
    params = {"features": {"date_parts": ["year", "dayofweek"]}}
    card = model_card(("Ridge", []), schema, raw, params, {"rmse": 1.0}, {"data": "d", "code": "c"})
    assert card["input_schema"]["features"][1]["parts"] == ["year", "dayofweek"]
    assert "| listed_on | date | str | parts: year, dayofweek |" in render_markdown(card)


def test_a_group_split_never_puts_one_group_on_both_sides():
    from reprolab.data.splitting import group_test_rows

    rng = np.random.default_rng(3)
    groups = pd.Series(rng.integers(0, 40, 2000), name="school").astype(str)
    groups[:7] = None  # missing: a group of its own
    is_test = group_test_rows(groups, 0.25, seed=1)
    assert not set(groups[is_test].fillna("?")) & set(groups[~is_test].fillna("?"))
    assert 0.25 <= is_test.mean() < 0.25 + 0.1  # whole groups, so a little over the share
    assert (group_test_rows(groups, 0.25, seed=1) == is_test).all()  # seeded
    assert (group_test_rows(groups, 0.25, seed=2) != is_test).any()


def test_a_group_split_needs_a_group_column_with_two_groups():
    from reprolab.data.splitting import test_rows

    frame = pd.DataFrame({"store": ["a"] * 10, "y": [0, 1] * 5})
    with pytest.raises(ReprolabError, match=r"^split.group_column: required and not set"):
        split_of("group", test_size=0.25, group_column="???")
    with pytest.raises(ReprolabError, match=r"column 'shop' not found"):
        test_rows(frame, {"target": "y"}, split_of("group", test_size=0.25, group_column="shop"), 0)
    with pytest.raises(ReprolabError, match=r"column 'store' holds 1 group\(s\)"):
        test_rows(
            frame, {"target": "y"}, split_of("group", test_size=0.25, group_column="store"), 0
        )


def test_the_split_says_what_it_did():
    from reprolab.data.splitting import describe_split, time_index_hint

    stratified = split_of("stratified", test_size=0.25)
    assert describe_split(stratified, {"task": "regression"}) == "random"
    assert describe_split(stratified, {"task": "classification"}) == "stratified"
    hint = time_index_hint(stratified, {"time_column": None, "excluded": {"day": "datetime ..."}})
    assert hint.startswith("hint: column 'day' orders the rows in time, and the split is random")
    assert time_index_hint(split_of("time", test_from=2009), {"time_column": "day"}) is None
    assert time_index_hint(stratified, {"time_column": None, "excluded": {}}) is None


def test_a_training_side_of_one_class_is_refused_naming_the_cause():
    from reprolab.data.splitting import require_classes_to_learn

    labels = pd.Series(["a"] * 6 + ["a", "b"])
    with pytest.raises(
        ReprolabError, match=r"every one of the 6 training rows is of class \['a'\]"
    ):
        require_classes_to_learn(labels, np.array([False] * 6 + [True] * 2))
    require_classes_to_learn(labels, np.array([True] * 6 + [False] * 2))


def test_a_schema_without_features_is_refused_naming_what_was_excluded():
    from reprolab.data.schema_inference import require_features

    schema = {"target": "t", "numeric": [], "categorical": [], "date_features": [],
              "excluded": {"id": "id-like: a distinct value on every row"}}  # fmt: skip
    with pytest.raises(ReprolabError, match=r"^data: no feature columns .*excluded id: id-like"):
        require_features(schema)
    require_features({**schema, "numeric": ["x"]})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"method": "time", "test_from": 2009}, r"^split.max_test_overlap: missing; split.method=time needs"),
        ({"method": "stratified", "test_size": 0.2, "max_test_overlap": 0.5, "test_from": 2009},
         r"^split.test_from: not a setting of split.method=stratified; expected method, test_size"),
        ({"method": "stratified", "test_sise": 0.2, "max_test_overlap": 0.5},
         r"^split.test_sise: not a setting"),
        ({"method": "stratified", "test_size": 1.0, "max_test_overlap": 0.5},
         r"^split.test_size: found 1.0; expected a fraction in \(0, 1\)"),
        ({"method": "group", "test_size": 0.2, "max_test_overlap": 0.5, "group_column": [1]},
         r"^split.group_column: found \[1\]; expected a column name"),
        ({"method": "time", "test_from": "???", "max_test_overlap": 0.5},
         r"^split.test_from: required and not set"),
        ({"method": "time", "test_from": None, "max_test_overlap": 0.5},
         r"^split.test_from: found None; expected a number or a date"),
        ("stratified", r"^split: found 'stratified'; expected a mapping"),
    ],
)  # fmt: skip
def test_a_split_section_out_of_shape_is_refused_by_key(section, message):
    with pytest.raises(ReprolabError, match=message):
        split_settings(section)


def test_split_settings_are_typed_per_method():
    from reprolab.data.split_settings import GroupSplit, RandomSplit, TimeSplit

    assert split_of("stratified", test_size=0.2) == RandomSplit(test_size=0.2, max_test_overlap=0.5)
    assert split_of("time", test_from="2015-01-01") == TimeSplit("2015-01-01", 0.5)
    # A group column YAML read as a number is the column named by that text.
    assert split_of("group", test_size=0.2, group_column=7) == GroupSplit("7", 0.2, 0.5)
