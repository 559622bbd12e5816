"""Data sources the `ingest` stage can load, chosen by `data.source.kind`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from reprolab.core.errors import ReprolabError

# User files live here, versioned by DVC (`dvc add data/external/<file>`): ingest
# depends on the whole folder, so a new version of the file reruns the pipeline.
EXTERNAL_DIR = Path("data/external")


def _palmerpenguins(_: dict[str, Any]) -> pd.DataFrame:
    # The CSV ships inside the wheel, so this works offline.
    from palmerpenguins import load_penguins

    return load_penguins()


def _required_path(data: dict[str, Any]) -> Path:
    value = data.get("path")
    if value in (None, "", "???"):
        raise ReprolabError(
            "data.path: not set; expected the file to load, e.g. -S data.path=data/external/x.csv"
        )
    path = Path(value)
    if not path.exists():
        raise ReprolabError(f"data.path: file '{path}' not found; expected a CSV or parquet file")
    if EXTERNAL_DIR.resolve() not in path.resolve().parents:
        raise ReprolabError(
            f"data.path: '{path}' is outside {EXTERNAL_DIR}/; expected the file there, versioned "
            f"by DVC (`dvc add {EXTERNAL_DIR}/{path.name}`), so that a new version reruns the "
            "pipeline"
        )
    return path


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


def read_csv(path: Path, encoding: str = "utf-8", delimiter: str | None = None) -> pd.DataFrame:
    """Read a CSV, refusing what would silently load wrong (naming the file and the fix)."""
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
    try:
        frame = pd.read_csv(path, encoding=encoding, sep=delimiter)
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise ReprolabError(f"{path}: cannot parse as CSV: {str(error).splitlines()[0]}") from None
    if frame.empty:
        raise ReprolabError(f"{path}: header only, no data rows; expected at least one row")
    return frame


def _file(data: dict[str, Any]) -> pd.DataFrame:
    path = _required_path(data)
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        if frame.empty:
            raise ReprolabError(f"{path}: no rows; expected at least one row")
        if len(set(frame.columns)) != frame.shape[1]:
            raise ReprolabError(f"{path}: duplicate column names; expected unique names")
        return frame
    source = data.get("source") or {}
    return read_csv(path, source.get("encoding") or "utf-8", source.get("delimiter"))


def _synthetic(data: dict[str, Any]) -> pd.DataFrame:
    # In memory: for small tables. The ingest stage writes it chunk by chunk instead.
    from reprolab import synthetic

    spec = synthetic.spec_from_config(data.get("source") or {})
    return pd.concat(synthetic.generate(spec), ignore_index=True)


LOADERS = {"palmerpenguins": _palmerpenguins, "file": _file, "synthetic": _synthetic}


def load_source(data: dict[str, Any]) -> pd.DataFrame:
    """Load the table that a `data` config section describes."""
    kind = (data.get("source") or {}).get("kind")
    if kind not in LOADERS:
        raise ReprolabError(
            f"data.source.kind: unknown source {kind!r}; expected one of {sorted(LOADERS)}"
        )
    return LOADERS[kind](data)
