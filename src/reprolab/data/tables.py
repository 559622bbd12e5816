"""Reading the tables users hand over (CSV, parquet) into plain pandas frames.

Shared by `ingest` (the training data), `monitor` (production batches) and batch
prediction: one reader, so a file that loads for one loads the same for the others.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pandas.api.types as ptypes

from reprolab.core.errors import ReprolabError
from reprolab.core.files import log
from reprolab.data.number_format import NumberFormat, parse_numeric_columns, sniff_format


def _header(path: Path, encoding: str, delimiter: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_csv(
    path: Path,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    numbers: dict[str, Any] | None = None,
    keep_text: set[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV, refusing what would silently load wrong (naming the file and the fix).

    `numbers`: `decimal`, `thousands` (None: sniffed) and `na_values` (extra missing
    markers) of `data.source`; `keep_text`: columns never to read as numbers."""
    if path.stat().st_size == 0:
        raise ReprolabError(f"{path}: empty file; expected a header row and data rows")
    try:
        delimiter = delimiter or _sniff_delimiter(path, encoding)
        header = _header(path, encoding, delimiter)
    except UnicodeDecodeError as error:
        raise ReprolabError(
            f"{path}: bytes at position {error.start} are not valid {encoding}; "
            "expected text in data.source.encoding (e.g. -S data.source.encoding=latin-1)"
        ) from None
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ReprolabError(f"{path}: duplicate column names {duplicates}; expected unique names")
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|,"):
        raise ReprolabError(
            f"{path}: found one column {header[0]!r}; expected several: set "
            "data.source.delimiter to the file's separator (e.g. -S \"data.source.delimiter=';'\")"
        )
    numbers = numbers or {}
    na_values = [str(v) for v in numbers.get("na_values") or []]
    try:
        sample = pd.read_csv(path, encoding=encoding, sep=delimiter, dtype=str, nrows=2000)
        number_format = _number_format(path, numbers, delimiter, sample, keep_text or set())
        thousands = number_format.thousands if number_format.thousands != delimiter else None
        frame = pd.read_csv(
            path,
            encoding=encoding,
            sep=delimiter,
            decimal=number_format.decimal,
            thousands=thousands,
            na_values=na_values or None,
        )
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as error:
        raise ReprolabError(f"{path}: cannot parse as CSV: {str(error).splitlines()[0]}") from None
    if frame.empty:
        raise ReprolabError(f"{path}: header only, no data rows; expected at least one row")
    frame, notes = parse_numeric_columns(
        frame, str(path), number_format, na_values, keep_text or set()
    )
    for note in notes:
        log.info("%s: %s", path, note)
    return frame


def _number_format(
    path: Path,
    numbers: dict[str, Any],
    delimiter: str,
    sample: pd.DataFrame,
    keep_text: set[str],
) -> NumberFormat:
    """The declared number format, else the one the file's values show."""
    decimal, thousands = numbers.get("decimal"), numbers.get("thousands")
    if decimal is None and thousands is None:
        columns = [sample[c] for c in sample.columns if c not in keep_text]
        return sniff_format(columns, str(path))
    decimal = decimal or ("," if thousands == "." else ".")
    if decimal == delimiter or decimal not in (".", ","):
        raise ReprolabError(
            f"data.source.decimal: found {decimal!r} with delimiter {delimiter!r}; expected "
            "'.' or ',' and not the delimiter"
        )
    return NumberFormat(decimal=decimal, thousands=thousands)


def require_flat(schema: Any, source: str) -> None:
    """Refuse a parquet schema with nested columns (list, struct, map), naming them: no
    check or model here reads them, and pandas would hold arrays in the cells."""
    import pyarrow as pa  # noqa: PLC0415

    nested = [field.name for field in schema if pa.types.is_nested(field.type)]
    if nested:
        raise ReprolabError(
            f"{source}: column(s) {nested} hold lists, structs or maps; expected one value "
            "per cell: flatten them (or drop them) first"
        )


def read_parquet_table(path: Path) -> pd.DataFrame:
    """A user's parquet file as a frame of plain columns: decimals become floats (said in
    the log), nested columns (list, struct, map) are refused naming them."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise ReprolabError(
            f"{path}: not a readable parquet file ({str(error).splitlines()[0]}); expected "
            "a complete parquet file"
        ) from None
    require_flat(table.schema, str(path))
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.float64()))
            log.info("%s: decimal column %r read as float64", path, field.name)
    return table.to_pandas()


def normalize_booleans(frame: pd.DataFrame) -> list[str]:
    """Store true/false columns as the strings 'True'/'False' (in place): they are then
    categories, which scikit-learn's imputers accept. Returns the columns changed."""
    changed = []
    for column in frame.columns:
        values = frame[column].dropna()
        if ptypes.is_bool_dtype(frame[column]) or (
            not values.empty
            and ptypes.is_object_dtype(frame[column])
            and values.map(type).eq(bool).all()
        ):
            frame[column] = frame[column].map({True: "True", False: "False"}).astype("str")
            changed.append(str(column))
    return changed
