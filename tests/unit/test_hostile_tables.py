"""Files as users hand them over, each class of surprise refused in one line naming the
file (and line, column or key) or read right: compressed CSVs, other encodings, a word
late in a numeric column, a parquet file without columns, a full disk, bad YAML."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reprolab.core.config import load_params
from reprolab.core.errors import ReprolabError
from reprolab.core.files import table_files, table_kind
from reprolab.data.sources import load_source
from reprolab.data.tables import read_csv, read_parquet_table

TEXT = b"a,b\n1,x\n2,y\n3,z\n"


@pytest.mark.parametrize(
    ("name", "packed"),
    [
        ("t.csv.gz", gzip.compress(TEXT, mtime=0)),
        ("t.csv", gzip.compress(TEXT, mtime=0)),  # gzip bytes under a plain name
        ("t.csv.bz2", bz2.compress(TEXT)),
    ],
    ids=["gzip", "gzip named .csv", "bz2"],  # the same ids in every xdist worker
)
def test_compressed_csv_reads_as_the_plain_one(tmp_path, name, packed):
    (tmp_path / name).write_bytes(packed)
    frame = read_csv(tmp_path / name)
    assert frame["a"].tolist() == [1, 2, 3] and frame["b"].tolist() == ["x", "y", "z"]


def test_a_zip_archive_is_named_not_read_as_text(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("t.csv", TEXT)
    (tmp_path / "t.csv").write_bytes(buffer.getvalue())
    with pytest.raises(ReprolabError, match=r"t.csv: a zip archive, not text; .* unpack it"):
        read_csv(tmp_path / "t.csv")


def test_a_truncated_gzip_is_one_line(tmp_path):
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(TEXT * 1000, mtime=0)[:60])
    with pytest.raises(ReprolabError, match=r"t.csv.gz: cannot"):
        read_csv(tmp_path / "t.csv.gz")


def test_another_encoding_names_the_line_and_the_key(tmp_path):
    rows = b"".join(b"%d,plain\n" % i for i in range(5000))
    (tmp_path / "t.csv").write_bytes(b"n,word\n" + rows + b"5000,caf\xe9\n")
    with pytest.raises(ReprolabError) as refused:
        read_csv(tmp_path / "t.csv")
    message = str(refused.value)
    assert "line 5002 has bytes b'\\xe9'" in message
    assert "-S data.source.encoding=latin-1" in message
    assert read_csv(tmp_path / "t.csv", encoding="latin-1")["word"].iloc[-1] == "café"


def test_an_unknown_encoding_names_the_key(tmp_path):
    (tmp_path / "t.csv").write_bytes(TEXT)
    with pytest.raises(ReprolabError, match=r"data.source.encoding: found 'klingon'"):
        read_csv(tmp_path / "t.csv", encoding="klingon")


def test_a_column_of_numbers_then_words_reads_as_one_type(tmp_path):
    # pandas' low_memory reader typed each block of rows on its own: this came back as a
    # column of ints and strs, which Arrow could not store (a traceback in ingest).
    rows = b"".join(b"%d,x\n" % i for i in range(150_000))
    words = b"".join(b"w%d,y\n" % i for i in range(150_000))
    (tmp_path / "t.csv").write_bytes(b"n,k\n" + rows + words)
    frame = read_csv(tmp_path / "t.csv")
    assert {type(v) for v in frame["n"]} == {str}


def test_a_mixed_column_that_reaches_the_writer_is_named(tmp_path):
    from reprolab.core.files import write_parquet

    frame = pd.DataFrame({"ok": [1, 2], "mixed": pd.Series([1, "a"], dtype=object)})
    with pytest.raises(ReprolabError, match=r"out.parquet: column 'mixed': values of types"):
        write_parquet(tmp_path / "out.parquet", frame)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_the_target_reads_numbers_as_every_other_column_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/external").mkdir(parents=True)
    rows = "".join(f'{i},"{852_883 + i * 1_001:,}"\n' for i in range(30))
    (tmp_path / "data/external/t.csv").write_text("rooms,price\n" + rows)
    data = {"source": {"kind": "file"}, "path": "data/external/t.csv", "target": "price"}
    frame = load_source(data)
    assert pd.api.types.is_integer_dtype(frame["price"]) and frame["price"][0] == 852_883


def test_a_parquet_file_without_columns_says_so(tmp_path):
    pq.write_table(pa.table({}), tmp_path / "t.parquet")
    with pytest.raises(ReprolabError, match=r"t.parquet: no columns"):
        read_parquet_table(tmp_path / "t.parquet")


def test_params_that_are_not_yaml_are_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text("data:\n  target: [species\nseed: 1\n")
    with pytest.raises(
        ReprolabError, match=r"params.yaml: not valid YAML \(line \d+\).*make params"
    ):
        load_params(tmp_path / "params.yaml")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("WEEK.CSV", "csv"),
        ("week.csv.gz", "csv"),
        ("Week.Parquet", "parquet"),
        ("w.pq", "parquet"),
        ("notes.md", None),
        ("week.gz", None),
    ],
)
def test_table_kind_ignores_the_case_of_extensions(name, kind):
    assert table_kind(Path(name)) == kind


def test_table_files_name_what_they_leave_out(tmp_path, caplog):
    for name in ("WEEK.CSV", "b.parquet", "notes.md", ".gitkeep", "README.md"):
        (tmp_path / name).write_text("x")
    with caplog.at_level("INFO", logger="reprolab"):
        found = table_files(tmp_path)
    assert [p.name for p in found] == ["WEEK.CSV", "b.parquet"]
    assert "ignored" in caplog.text and "notes.md" in caplog.text
    assert ".gitkeep" not in caplog.text and "README" not in caplog.text


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from reprolab.core.files import write_json
from reprolab.core.shell import user_errors
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a killed process
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
with user_errors("evaluate"):
    write_json(Path(sys.argv[1]), {"values": list(range(10_000))})
"""


def test_a_write_that_fails_for_space_is_one_line_and_keeps_the_old_file(tmp_path, root):
    target = tmp_path / "metrics.json"
    target.write_text('{"accuracy": 0.9}\n')
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"evaluate: error: {target}: cannot write it (File too large)")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert target.read_text() == '{"accuracy": 0.9}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left


@pytest.mark.parametrize(
    ("header", "row"),
    [("n,a,b,c\n", "1,x,2\n"), ("a,b\n", "1,x,2\n")],
    ids=["header one longer", "rows one longer"],
)
def test_a_header_that_does_not_fit_its_rows_is_refused_naming_the_line(tmp_path, header, row):
    """pandas shifted every column (or made the first one the row index) without a word."""
    (tmp_path / "t.csv").write_text(header + row * 30)
    with pytest.raises(ReprolabError, match=r"t.csv: line 2 has 3 values but the header names"):
        read_csv(tmp_path / "t.csv")


@pytest.mark.parametrize(
    ("values", "unit", "numbers"),
    [
        (["12%", "5 %", "-3%", "7%"], "%", [12, 5, -3, 7]),
        (["$1,234.5", "-$5", "$ 7", "$0.5"], "$", [1234.5, -5, 7, 0.5]),
        (["3 €", "4€", "5 €", "1€"], "€", [3, 4, 5, 1]),
    ],
)
def test_numbers_written_with_a_unit_are_numbers_and_it_is_said(tmp_path, caplog, values, unit,
                                                                 numbers):  # fmt: skip
    rows = "".join(f'"{v}",{i % 2}\n' for i, v in enumerate(values * 10))
    (tmp_path / "t.csv").write_text("amount,label\n" + rows)
    with caplog.at_level("INFO", logger="reprolab"):
        frame = read_csv(tmp_path / "t.csv")
    assert frame["amount"].tolist()[:4] == numbers
    assert f"column 'amount': values written with {unit!r} read as numbers" in caplog.text
