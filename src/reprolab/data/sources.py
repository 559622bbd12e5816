"""Data sources the `ingest` stage can load, chosen by `data.source.kind`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from reprolab.core.config import EXTERNAL_DIR
from reprolab.core.errors import ReprolabError
from reprolab.data.tables import read_csv, read_parquet_table, table_kind


def _palmerpenguins(_: dict[str, Any]) -> pd.DataFrame:
    # The CSV ships inside the wheel, so this works offline.
    from palmerpenguins import load_penguins  # noqa: PLC0415

    return load_penguins()


def _required_path(data: dict[str, Any]) -> Path:
    value = data.get("path")
    if value in (None, "", "???"):
        raise ReprolabError(
            "data.path: not set; expected the file to load, e.g. -S data.path=data/external/x.csv"
        )
    if not isinstance(value, str):
        raise ReprolabError(f"data.path: found {value!r}; expected a file path (text)")
    path = Path(value)
    if not path.exists():
        raise ReprolabError(f"data.path: file '{path}' not found; expected a CSV or parquet file")
    if not path.is_file():  # a directory, or a FIFO that would block the read forever
        raise ReprolabError(
            f"data.path: '{path}' is not a regular file; expected a CSV or parquet file"
        )
    if EXTERNAL_DIR.resolve() not in path.resolve().parents:
        raise ReprolabError(
            f"data.path: '{path}' is outside {EXTERNAL_DIR}/; expected the file there, versioned "
            f"by DVC (`dvc add {EXTERNAL_DIR}/{path.name}`), so that a new version reruns the "
            "pipeline"
        )
    return path


def _identity(path: Path) -> tuple[int, int, int, int]:
    """What changes when a file is rewritten in place or replaced by another one."""
    stat = path.stat()
    return stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns


def _file(data: dict[str, Any]) -> pd.DataFrame:
    path = _required_path(data)
    before = _identity(path)
    frame = _read_file(path, data)
    # DVC hashes the deps after the stage: a file replaced while we read it would be
    # recorded in dvc.lock next to outputs made from the old rows.
    if _identity(path) != before:
        raise ReprolabError(
            f"data.path: '{path}' changed while ingest read it; expected it unchanged during "
            "the run: run `dvc repro` again once it is complete"
        )
    return frame


def _read_file(path: Path, data: dict[str, Any]) -> pd.DataFrame:
    if table_kind(path) == "parquet":
        frame = read_parquet_table(path)
        if frame.empty:
            raise ReprolabError(f"{path}: no rows; expected at least one row")
        if len(set(frame.columns)) != frame.shape[1]:
            raise ReprolabError(f"{path}: duplicate column names; expected unique names")
        return frame
    source = data.get("source") or {}
    # Declared categories stay text (codes such as `01` keep their spelling); the target
    # is read by the same number format as every other column (`"852,883"` a number).
    keep_text = {str(name) for name in data.get("categorical") or []}
    return read_csv(
        path, source.get("encoding") or "utf-8", source.get("delimiter"), source, keep_text
    )


def _synthetic(data: dict[str, Any]) -> pd.DataFrame:
    # In memory: for small tables. The ingest stage writes it chunk by chunk instead.
    from reprolab.data import synthetic  # noqa: PLC0415

    spec = synthetic.spec_from_config(data.get("source") or {})
    return pd.concat(synthetic.generate(spec), ignore_index=True)


LOADERS = {"palmerpenguins": _palmerpenguins, "file": _file, "synthetic": _synthetic}


def load_source(data: dict[str, Any]) -> pd.DataFrame:
    """Load the table that a `data` config section describes."""
    source = data.get("source") or {}
    if not isinstance(source, dict):
        raise ReprolabError(f"data.source: found {source!r}; expected a mapping with a `kind`")
    kind = source.get("kind")
    if not isinstance(kind, str) or kind not in LOADERS:
        raise ReprolabError(
            f"data.source.kind: unknown source {kind!r}; expected one of {sorted(LOADERS)}"
        )
    return LOADERS[kind](data)
