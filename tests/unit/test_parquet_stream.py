"""validate reads the raw table a column or a batch at a time: the report must equal
the one of the whole table read at once, whatever the batch boundaries."""

import numpy as np
import pandas as pd
import pytest

from reprolab.data import parquet_stream
from reprolab.data.contract import rows_with_target, validate_frame, validate_table
from reprolab.data.parquet_stream import ParquetColumns
from reprolab.data.schema_inference import distinct_count, effective_schema


def _hostile_table(rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(rows),
            "x": rng.normal(size=rows).astype("float32"),
            "size": rng.integers(0, 100, rows),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], rows)),
            "label": rng.choice(["a", "b"], rows).astype(object),
        }
    )
    frame.loc[[3, 997], "x"] = np.inf  # one failure in the first batch, one in the last
    frame.loc[[10, 500, 990], "size"] = 1000  # out of range, in three batches
    frame.loc[[5, 6, 7], "x"] = np.nan
    frame.loc[[20, 21], "label"] = None
    frame.loc[[400, 800], "row_id"] = 0  # ids repeated across batches
    frame.iloc[900] = frame.iloc[100]  # a duplicate row, far from its original
    return frame


DATA = {
    "target": "label",
    "task": "classification",
    "numeric": ["x", "size", "not_there"],
    "categorical": ["colour"],
    "id_column": "row_id",
    "schema": {"min_rows": 5000, "ranges": {"size": [0, 99]}, "classes": ["a", "b"]},
}


@pytest.mark.parametrize("batch_rows", [7, 128, 100_000])
def test_the_batched_report_equals_the_whole_tables(tmp_path, monkeypatch, batch_rows):
    frame = _hostile_table()
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    monkeypatch.setattr(parquet_stream, "BATCH_ROWS", batch_rows)
    table = ParquetColumns(tmp_path / "t.parquet")
    whole = validate_frame(pd.read_parquet(tmp_path / "t.parquet"), DATA)
    assert validate_table(table, table.batches(), DATA) == whole
    checks = {(f["column"], f["check"]): f for f in whole["failures"]}
    assert checks["x", "is_finite"]["failing"] == 2
    assert checks["size", "in_range[0, 99]"]["failing"] == 3
    assert checks["size", "in_range[0, 99]"]["examples"] == ["1000", "1000", "1000"]
    assert checks["row_id", "field_uniqueness"]["failing"] == 5  # 0 three times, 100 twice
    assert checks["not_there", "column_in_dataframe"]["failing"] == 1
    assert checks["<table>", "min_rows[5000]"]["failing"] == 1
    assert checks["label", "not_nullable"]["failing"] == 2
    assert whole["duplicate_rows"] == 1
    assert whole["missing_values"] == {"x": 3, "label": 2}


def test_kept_rows_are_the_rows_with_a_target(tmp_path, monkeypatch):
    frame = _hostile_table()
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    monkeypatch.setattr(parquet_stream, "BATCH_ROWS", 64)
    keep = rows_with_target(ParquetColumns(tmp_path / "t.parquet")["label"], "drop")
    assert int((~keep).sum()) == 2
    assert rows_with_target(frame["label"], "fail") is None
    table = ParquetColumns(tmp_path / "t.parquet", keep)
    kept = frame[frame["label"].notna()].reset_index(drop=True)
    assert len(table) == len(kept) == 998
    pd.testing.assert_series_equal(
        table["x"], pd.read_parquet(tmp_path / "t.parquet")["x"][keep].reset_index(drop=True)
    )
    assert (
        pd.concat(list(table.batches()), ignore_index=True)["row_id"].tolist()
        == kept["row_id"].tolist()
    )


def test_the_schema_inferred_column_by_column_equals_the_whole_tables(tmp_path):
    frame = _hostile_table().dropna(subset=["label"])
    frame["row_id"] = np.arange(len(frame))
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    data = {"target": "label", "numeric": None, "categorical": None, "schema": {}}
    read = pd.read_parquet(tmp_path / "t.parquet")
    assert effective_schema(ParquetColumns(tmp_path / "t.parquet"), data) == effective_schema(
        read, data
    )
    assert effective_schema(read, data)["excluded"] == {
        "row_id": "id-like: a distinct value on every row"
    }


def test_an_empty_table_still_shows_its_columns(tmp_path):
    _hostile_table().head(0).to_parquet(tmp_path / "t.parquet", index=False)
    batches = list(ParquetColumns(tmp_path / "t.parquet").batches())
    assert len(batches) == 1 and batches[0].empty
    assert list(batches[0].columns) == ["row_id", "x", "size", "colour", "label"]


@pytest.mark.parametrize(
    "values",
    [
        [0.0, -0.0, 1.5, 1.5, 2.0],
        [3, 1, 3, 2],
        [True, False, True],
        ["b", "a", "b"],
        pd.array([1, 2, 2], dtype="Int64"),
        [],
    ],
)
def test_distinct_count_equals_pandas(values):
    series = pd.Series(values)
    assert distinct_count(series) == series.nunique()


def test_a_sample_of_rows_is_read_without_the_table(tmp_path, monkeypatch):
    from reprolab.monitor.verdict import reference_sample

    frame = _hostile_table()
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    monkeypatch.setattr(parquet_stream, "BATCH_ROWS", 64)
    keep = frame["label"].notna().to_numpy()
    table = ParquetColumns(tmp_path / "t.parquet", keep)
    kept = pd.read_parquet(tmp_path / "t.parquet")[keep].reset_index(drop=True)
    pd.testing.assert_frame_equal(reference_sample(table, 100), reference_sample(kept, 100))
    rows = np.array([0, 63, 64, 500, 997])
    pd.testing.assert_frame_equal(
        table.take(rows, ["x", "colour"]), kept[["x", "colour"]].take(rows).reset_index(drop=True)
    )


def test_a_frame_read_column_by_column_equals_pandas_read(tmp_path):
    frame = _hostile_table()
    frame.to_parquet(tmp_path / "t.parquet", index=False, row_group_size=300)
    columns = ["colour", "x", "label", "size"]  # an order of our own
    pd.testing.assert_frame_equal(
        ParquetColumns(tmp_path / "t.parquet").frame(columns),
        pd.read_parquet(tmp_path / "t.parquet", columns=columns),
    )


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["b", "a", "b", "c"] * 5, dtype="category"),
        pd.Series([3, 1, 3, 2] * 5).astype("category"),
        pd.Series(["b", None, "a"], dtype="category"),  # with missing: pandas' own way
        pd.Series([1.5, 2.5]),
    ],
)
def test_values_array_equals_pandas_and_shares_category_strings(series):
    from reprolab.data.columns import values_array

    values = values_array(series)
    expected = series.to_numpy()
    assert values.dtype == expected.dtype
    assert pd.isna(values).tolist() == pd.isna(expected).tolist()
    assert [v for v in values if not pd.isna(v)] == [v for v in expected if not pd.isna(v)]
    if series.dtype == "category" and values.dtype == object and not series.hasnans:
        assert len({id(v) for v in values}) == len(series.cat.categories)


def test_a_frame_with_a_column_the_file_lacks_is_refused_in_one_line(tmp_path):
    from reprolab.core.errors import ReprolabError

    _hostile_table().to_parquet(tmp_path / "t.parquet", index=False)
    with pytest.raises(ReprolabError, match=r"t.parquet: column\(s\) \['nope'\] not found"):
        ParquetColumns(tmp_path / "t.parquet").frame(["x", "nope"])
