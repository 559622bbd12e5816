"""Reading the tables users hand over (CSV, parquet) into plain pandas frames.

Shared by `ingest` (the training data), `monitor` (production batches) and batch
prediction: one reader, so a file that loads for one loads the same for the others.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import io
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import pandas as pd
import pandas.api.types as ptypes

from reprolab.core.config import SOURCE_FORMAT
from reprolab.core.errors import ReprolabError
from reprolab.core.files import log, table_kind
from reprolab.data.number_format import NumberFormat, parse_numeric_columns, sniff_format

# The first bytes of the compressed files a CSV arrives in: gzip, bz2 and xz are read
# (the standard library has them), whatever the file's name; the others are named, so
# that the user unpacks them.
_COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_READABLE_COMPRESSION = ("gzip", "bz2", "xz")


def compression_of(path: Path) -> str | None:
    """How the file's bytes are compressed (by their first bytes, not the name), or None."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((kind for magic, kind in _COMPRESSION_MAGIC if head.startswith(magic)), None)


def _open_bytes(path: Path, compression: str | None) -> BinaryIO:
    if compression is None:
        return path.open("rb")
    module = importlib.import_module({"gzip": "gzip", "bz2": "bz2", "xz": "lzma"}[compression])
    return module.open(path, "rb")


def _open_text(path: Path, encoding: str, compression: str | None) -> TextIO:
    return io.TextIOWrapper(_open_bytes(path, compression), encoding=encoding, newline="")


def _header(path: Path, encoding: str, delimiter: str, compression: str | None) -> list[str]:
    with _open_text(path, encoding, compression) as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def _sniff_delimiter(path: Path, encoding: str, compression: str | None) -> str:
    with _open_text(path, encoding, compression) as handle:
        sample = handle.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def first_undecodable_line(
    path: Path, encoding: str, compression: str | None
) -> tuple[int, bytes] | None:
    """The line number and bytes of the first text that is not valid `encoding`: the
    codec's own message gives a position inside whatever block it was decoding."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with _open_bytes(path, compression) as handle:
        for raw in handle:  # binary lines; the decoder carries what a line splits
            try:
                lines += decoder.decode(raw).count("\n")
            except UnicodeDecodeError as error:
                return lines, error.object[error.start : error.end]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            return lines, error.object[error.start : error.end]
    return None


def _not_text(path: Path, encoding: str, compression: str | None, key: str | None) -> ReprolabError:
    where = first_undecodable_line(path, encoding, compression)
    found = f"line {where[0]} has bytes {where[1]!r} that are" if where else "bytes"
    fix = (
        f"the encoding {key} sets (e.g. -S {key}=latin-1, or cp1252, utf-16)"
        if key
        else f"{encoding}: convert the file (e.g. `iconv -f latin1 -t utf-8`)"
    )
    return ReprolabError(f"{path}: {found} not valid {encoding}; expected text in {fix}")


def _require_rows_fit_header(
    path: Path, encoding: str, delimiter: str, compression: str | None, header: list[str]
) -> None:
    """The first data row holds one value per column name. pandas otherwise reads a row
    one value longer by making its first value the row's index (a column silently
    lost), and pads a shorter one with missing values (every column shifted)."""
    with _open_text(path, encoding, compression) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        row = next(reader, None)
        if row and len(row) != len(header):
            raise ReprolabError(
                f"{path}: line {reader.line_num} has {len(row)} values but the header names "
                f"{len(header)} columns; expected one value per column (a stray or missing "
                "separator in the header, or the wrong data.source.delimiter?)"
            )


def csv_compression(path: Path) -> str | None:
    """The compression pandas is to undo (gzip, bz2, xz), or a one-line refusal of the
    others; None for plain text."""
    compression = compression_of(path)
    if compression is not None and compression not in _READABLE_COMPRESSION:
        raise ReprolabError(
            f"{path}: a {compression} archive, not text; expected a CSV, plain or compressed "
            f"with {', '.join(_READABLE_COMPRESSION)}: unpack it (e.g. `unzip`) first"
        )
    return compression


def read_csv(
    path: Path,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    numbers: dict[str, Any] | None = None,
    keep_text: set[str] | None = None,
    encoding_key: str | None = "data.source.encoding",
) -> pd.DataFrame:
    """Read a CSV (plain, or gzip/bz2/xz whatever its name), refusing what would
    silently load wrong (naming the file and the fix).

    `numbers`: `decimal`, `thousands` (None: sniffed) and `na_values` (extra missing
    markers) of `data.source`; `keep_text`: columns never to read as numbers (their
    values are labels, e.g. categories whose names happen to be digits)."""
    if path.stat().st_size == 0:
        raise ReprolabError(f"{path}: empty file; expected a header row and data rows")
    compression = csv_compression(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ReprolabError(
            f"{encoding_key or 'encoding'}: found {encoding!r}; expected a Python codec name such as "
            "utf-8, latin-1, cp1252 or utf-16"
        ) from None
    try:
        delimiter = delimiter or _sniff_delimiter(path, encoding, compression)
        header = _header(path, encoding, delimiter, compression)
        if header:
            _require_rows_fit_header(path, encoding, delimiter, compression, header)
    except UnicodeDecodeError:
        raise _not_text(path, encoding, compression, encoding_key) from None
    except (OSError, EOFError) as error:  # a truncated or corrupt archive
        raise ReprolabError(f"{path}: cannot read it ({error}); expected a complete file") from None
    if not header:
        raise ReprolabError(f"{path}: no header row; expected column names on the first line")
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
    options = {"encoding": encoding, "sep": delimiter, "compression": compression}
    try:
        sample = pd.read_csv(path, dtype=str, nrows=2000, **options)
        number_format = _number_format(path, numbers, delimiter, sample, keep_text or set())
        thousands = number_format.thousands if number_format.thousands != delimiter else None
        # low_memory would type each block of rows on its own: a column of numbers with
        # a word late in the file came back mixing numbers and text.
        frame = pd.read_csv(
            path,
            decimal=number_format.decimal,
            thousands=thousands,
            na_values=na_values or None,
            low_memory=False,
            **options,
        )
    except UnicodeDecodeError:
        raise _not_text(path, encoding, compression, encoding_key) from None
    except (OSError, EOFError, pd.errors.ParserError, ValueError) as error:
        raise ReprolabError(f"{path}: cannot parse as CSV: {str(error).splitlines()[0]}") from None
    if frame.empty:
        raise ReprolabError(f"{path}: header only, no data rows; expected at least one row")
    frame, notes = parse_numeric_columns(
        frame, str(path), number_format, na_values, keep_text or set()
    )
    for note in notes:
        log.info("%s: %s", path, note)
    frame.attrs[SOURCE_FORMAT] = {
        "encoding": encoding,
        "delimiter": delimiter,
        "decimal": number_format.decimal,
        "thousands": number_format.thousands,
        "na_values": na_values,
    }
    return frame


def csv_options(source_format: dict[str, Any] | None) -> dict[str, Any]:
    """read_csv's arguments for a recorded source format ({} when there is none)."""
    if not source_format:
        return {}
    numbers = {k: source_format.get(k) for k in ("decimal", "thousands", "na_values")}
    return {
        "encoding": source_format.get("encoding") or "utf-8",
        "delimiter": source_format.get("delimiter"),
        "numbers": numbers,
    }


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


def read_table(path: Path, **csv_options: Any) -> pd.DataFrame:
    """A parquet file by its name, else a CSV (read_csv's options)."""
    if table_kind(path) == "parquet":
        return read_parquet_table(path)
    return read_csv(path, **csv_options)


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
    if table.num_columns == 0:
        raise ReprolabError(f"{path}: no columns; expected a table with named columns")
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
