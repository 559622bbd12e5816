"""Generated input for the readers and the config checks (hypothesis): whatever the
bytes, encoding, separator, number format, column names or YAML, the answer is a table
(with the numbers the file wrote, read as those numbers) or one line naming the file,
column or key. Never a traceback, never a silent change of meaning.

Bounded to run in seconds: `make test-fast` runs them."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reprolab.core.config import load_params
from reprolab.core.errors import ReprolabError
from reprolab.data import config_shapes
from reprolab.data.tables import read_csv

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _one_line(error: ReprolabError, names: str) -> None:
    message = str(error)
    assert message.startswith(names), message
    assert "Traceback" not in message and len(message) < 2000


def _read(data: bytes, name: str = "t.csv", **options) -> pd.DataFrame | None:
    """read_csv of `data` in a file of its own: a frame, or None after a one-line refusal
    naming that file. Any other exception fails the test."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return read_csv(path, **options)
        except ReprolabError as error:
            _one_line(error, str(path))
            return None


@FAST
@given(st.binary(max_size=400), st.booleans())
def test_any_bytes_are_a_table_or_one_line_naming_the_file(data, packed):
    _read(gzip.compress(data) if packed else data)


CELL = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
    st.none(),
)
NAMES = st.lists(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=6),
    min_size=1,
    max_size=4,
    unique=True,
)


@FAST
@given(NAMES, st.lists(st.lists(CELL, min_size=4, max_size=4), min_size=1, max_size=6),
       st.sampled_from([",", ";", "\t", "|"]),
       st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]))  # fmt: skip
def test_generated_tables_in_any_encoding_and_separator_never_traceback(
    names, rows, separator, encoding
):
    frame = pd.DataFrame([row[: len(names)] for row in rows], columns=names)
    try:
        data = frame.to_csv(index=False, sep=separator).encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    _read(data, encoding=encoding)


NUMBER = st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False)


@FAST
@given(st.lists(NUMBER, min_size=3, max_size=30), st.sampled_from(["point", "comma"]),
       st.booleans())  # fmt: skip
def test_numbers_in_either_format_read_as_the_numbers_written(numbers, style, grouped):
    """1,234.5 or 1.234,5 (grouped or not): the values come back as written, or the
    file is refused naming it (never text, never other numbers)."""
    decimal, thousands, separator = (".", ",", ",") if style == "point" else (",", ".", ";")

    def written(value) -> str:
        text = f"{abs(value):,.2f}" if grouped else f"{abs(value):.2f}"
        text = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
        return ("-" if value < 0 else "") + text

    lines = [f'"{written(v)}"{separator}x{i % 2}' for i, v in enumerate(numbers)]
    frame = _read(("amount" + separator + "kind\n" + "\n".join(lines) + "\n").encode())
    if frame is None:
        return
    assert pd.api.types.is_numeric_dtype(frame["amount"])
    assert frame["amount"].round(2).tolist() == [float(v) for v in numbers]


YAML_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
DATA_KEYS = st.sampled_from(
    ["target", "numeric", "categorical", "id_column", "time_column", "drop", "date_features",
     "schema", "schema_file", "name", "categories_normalize", "excluded"]
)  # fmt: skip


@FAST
@given(st.dictionaries(DATA_KEYS, YAML_VALUE, max_size=6))
def test_any_data_section_passes_or_names_its_key(section):
    try:
        config_shapes.data_section(section)
    except ReprolabError as error:
        _one_line(error, "data")
    else:
        # What passes has the shapes the stages rely on.
        assert config_shapes.text_names(section)["target"] not in (None, "", "???")


@FAST
@given(st.text(max_size=200))
def test_any_params_text_is_params_or_one_line_naming_the_file(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "params.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            assert isinstance(load_params(path), dict)
        except ReprolabError as error:
            _one_line(error, str(path))


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_bad_byte_deep_in_a_file_is_named_by_its_line(encoding):
    data = b"a,b\n" + b"1,x\n" * 3000 + b"2,\xff\xfe\n"
    frame = _read(data, encoding=encoding)
    if encoding == "utf-8":
        assert frame is None
    else:
        assert len(frame) == 3001


ARROW_COLUMN = st.sampled_from(["int", "float", "text", "bool", "null", "decimal", "list"])


@FAST
@given(st.lists(ARROW_COLUMN, max_size=4), st.integers(0, 5))
def test_any_flat_or_nested_parquet_is_a_table_or_one_line(kinds, rows):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from reprolab.data.tables import read_parquet_table

    values = {
        "int": pa.array(range(rows), pa.int64()),
        "float": pa.array([0.5 * i for i in range(rows)]),
        "text": pa.array([f"v{i}" for i in range(rows)]),
        "bool": pa.array([i % 2 == 0 for i in range(rows)]),
        "null": pa.nulls(rows),
        "decimal": pa.array([decimal.Decimal(i) for i in range(rows)], pa.decimal128(5, 1)),
        "list": pa.array([[i] for i in range(rows)]),
    }
    table = pa.table({f"c{i}_{kind}": values[kind] for i, kind in enumerate(kinds)})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.parquet"
        pq.write_table(table, path)
        try:
            frame = read_parquet_table(path)
        except ReprolabError as error:
            _one_line(error, str(path))
            assert not kinds or "list" in kinds
        else:
            assert list(frame.columns) == table.column_names and len(frame) == rows
