"""CSV numbers in the formats users hand over: decimal commas, thousands separators,
missing markers; a column that looks numeric but is not is named, never a category."""

from __future__ import annotations

import pandas as pd
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data.tables import read_csv


def write(tmp_path, text: str):
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_semicolon_file_with_decimal_commas_reads_numbers(tmp_path):
    rows = "\n".join(f"{i},5;{i * 10},25;{'ab'[i % 2]}" for i in range(40))
    frame = read_csv(write(tmp_path, "width;height;kind\n" + rows + "\n"))
    assert pd.api.types.is_float_dtype(frame["width"]) and frame["width"][3] == 3.5
    assert frame["height"][2] == 20.25
    assert frame["kind"].tolist()[:2] == ["a", "b"]


def test_thousands_separators_in_quotes_read_as_numbers(tmp_path):
    rows = "\n".join(f'"{1000 + i * 7:,}.5",x{i % 3}' for i in range(40))
    frame = read_csv(write(tmp_path, "price,kind\n" + rows + "\n"))
    assert frame["price"][1] == 1007.5


def test_european_thousands_points_with_decimal_commas(tmp_path):
    rows = "\n".join(f"{i + 1}.234,5;{i}" for i in range(40))
    frame = read_csv(write(tmp_path, "amount;n\n" + rows + "\n"))
    assert frame["amount"][0] == 1234.5


def test_question_mark_is_read_as_missing_and_said(tmp_path, caplog):
    rows = "\n".join(("?" if i % 10 == 0 else f"{i}.5") + f",{i % 2}" for i in range(40))
    with caplog.at_level("INFO", logger="reprolab"):
        frame = read_csv(write(tmp_path, "horsepower,label\n" + rows + "\n"))
    assert frame["horsepower"].isna().sum() == 4
    assert pd.api.types.is_float_dtype(frame["horsepower"])
    assert "column 'horsepower': 4 values '?' read as missing" in caplog.text


def test_declared_markers_and_format(tmp_path):
    rows = "\n".join(("n.d." if i == 0 else f"{i},5") + f";{i % 2}" for i in range(40))
    path = write(tmp_path, "dose;label\n" + rows + "\n")
    frame = read_csv(path, numbers={"decimal": ",", "na_values": ["n.d."]})
    assert frame["dose"].isna().sum() == 1 and frame["dose"][1] == 1.5


def test_a_column_that_looks_numeric_but_is_not_is_named(tmp_path):
    values = [f"{i}.5" for i in range(36)] + ["twelve", "12a", "1O", "7 kg"]
    rows = "\n".join(f"{v},{i % 2}" for i, v in enumerate(values))
    with pytest.raises(
        ReprolabError, match=r"column 'weight' looks numeric \(36 of its 40 values .*'twelve'"
    ):
        read_csv(write(tmp_path, "weight,label\n" + rows + "\n"))


def test_both_decimal_formats_in_one_file_are_refused(tmp_path):
    rows = "\n".join(f'"{i},5";{i}.25' for i in range(40))
    with pytest.raises(ReprolabError, match=r"both with decimal commas .* set data.source.decimal"):
        read_csv(write(tmp_path, "a;b\n" + rows + "\n"))


def test_ordinary_file_reads_as_before(tmp_path):
    rows = "\n".join(f"{i}.25,{i},cat{i % 3}" for i in range(40))
    frame = read_csv(write(tmp_path, "x,n,c\n" + rows + "\n"))
    assert frame["x"][1] == 1.25 and frame["n"].dtype == "int64" and frame["c"][0] == "cat0"


def test_a_file_replaced_while_ingest_reads_it_is_refused(tmp_path, monkeypatch):
    import reprolab.data.sources as sources

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/external").mkdir(parents=True)
    path = tmp_path / "data/external/t.csv"
    path.write_text("x,y\n1,a\n2,b\n")
    real = sources.read_csv

    def read_then_replace(*args, **kwargs):
        frame = real(*args, **kwargs)
        replacement = tmp_path / "data/external/new.csv"
        replacement.write_text("x,y\n1,a\n2,b\n3,c\n")
        replacement.replace(path)  # as an upload or `cp` would, mid-read
        return frame

    monkeypatch.setattr(sources, "read_csv", read_then_replace)
    data = {"source": {"kind": "file"}, "path": "data/external/t.csv", "target": "y"}
    with pytest.raises(ReprolabError, match="changed while ingest read it"):
        sources.load_source(data)


def test_parquet_decimals_become_floats_and_nested_columns_are_named(tmp_path):
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from reprolab.data.tables import read_parquet_table

    table = pa.table({"price": pa.array([Decimal("1.25"), Decimal("2.50")], pa.decimal128(5, 2))})
    pq.write_table(table, tmp_path / "d.parquet")
    assert read_parquet_table(tmp_path / "d.parquet")["price"].tolist() == [1.25, 2.5]
    pq.write_table(pa.table({"tags": [[1, 2], [3]], "x": [1, 2]}), tmp_path / "n.parquet")
    with pytest.raises(ReprolabError, match=r"column\(s\) \['tags'\] hold lists"):
        read_parquet_table(tmp_path / "n.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ReprolabError, match="not a readable parquet file"):
        read_parquet_table(tmp_path / "junk.parquet")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"source": {"kind": ["file"]}}, "data.source.kind"),
        ({"source": "file"}, "data.source"),
        ({"source": {"kind": "file"}, "path": ["x.csv"]}, "data.path"),
        ({"source": {"kind": "file"}, "path": 5}, "data.path"),
    ],
)
def test_a_wrong_source_shape_names_the_key(data, named):
    from reprolab.data.sources import load_source

    with pytest.raises(ReprolabError, match=rf"^{named}: "):
        load_source(data)
