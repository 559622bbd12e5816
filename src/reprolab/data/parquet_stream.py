"""A pipeline parquet file read a column or a batch of rows at a time, never whole.

The stages that only check, split or filter the data (validate, split) hold one
column, or one batch of rows, of a table that may not fit in memory twice: a 10M-row
table is ~1 GB decoded and another ~1 GB of file buffers when read in one go.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reprolab.core.errors import ReprolabError
from reprolab.core.files import atomic_path, log, parquet_options
from reprolab.data.columns import require_columns

# Rows per batch: large enough that pandas and pandera work vectorised, small enough
# that a batch and its temporaries stay near a hundred MiB.
BATCH_ROWS = 250_000


def open_parquet(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise ReprolabError(
            f"{path}: file not found; expected the output of an earlier stage (run `dvc repro`)"
        )
    try:
        # No pre-buffering: it reads a whole row group's file bytes ahead (3x the memory).
        return pq.ParquetFile(path, pre_buffer=False)
    except (pa.ArrowException, OSError) as error:
        raise ReprolabError(f"{path}: not a readable parquet file ({error})") from None


class ParquetColumns:
    """The columns of a parquet file as a read-only frame: `columns`, `len()`, and
    `table[name]` reading that one column as pandas reads it (dtype included).

    `keep`: a boolean mask of the file's rows; columns come back with those rows
    only, renumbered from 0 (as `frame[mask].reset_index(drop=True)` would)."""

    def __init__(self, path: Path, keep: np.ndarray | None = None):
        self.path = path
        self._file = open_parquet(path)
        self.columns = pd.Index(self._file.schema_arrow.names)
        self.keep = keep
        self._cached: dict[str, pd.Series] = {}

    def metadata(self, key: str) -> str | None:
        """A key-value pair of the file's schema metadata (what the writer kept)."""
        found = (self._file.schema_arrow.metadata or {}).get(key.encode("utf-8"))
        return None if found is None else found.decode("utf-8")

    def __len__(self) -> int:
        if self.keep is not None:
            return int(self.keep.sum())
        return self._file.metadata.num_rows

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.columns)

    def __getitem__(self, column: str) -> pd.Series:
        if column in self._cached:
            return self._cached[column]
        if column not in self.columns:
            raise KeyError(column)
        series = self._file.read(columns=[column]).to_pandas()[column]
        if self.keep is not None:
            series = series[self.keep].reset_index(drop=True)
        return series

    def matrix(self, columns: list[str], dtype: Any = None) -> np.ndarray:
        """`columns` as one 2-D array (rows x columns), filled a column at a time: the
        table is never in memory twice. `dtype`: the array's (default: the columns')."""
        dtype = np.dtype(dtype or self.stored_dtype(columns))
        values = np.empty((len(self), len(columns)), dtype=dtype)
        for index, column in enumerate(columns):
            values[:, index] = self[column].to_numpy(dtype=dtype, na_value=np.nan)
        return values

    def stored_dtype(self, columns: list[str]) -> np.dtype:
        """The type all of `columns` fit in, as stored (float32 for featurize's output)."""
        stored = [self._file.schema_arrow.field(c).type.to_pandas_dtype() for c in columns]
        return np.dtype(np.result_type(*stored))

    def matrix_batches(self, columns: list[str], dtype: Any, rows: int) -> Iterator[np.ndarray]:
        """`columns` as 2-D arrays of `dtype` of up to `rows` rows each, in order: what
        `matrix` gives, a batch at a time (the values converted the same way)."""
        for batch in self.arrow_batches(columns, rows):
            frame = pa.Table.from_batches([batch]).to_pandas()
            values = np.empty((len(frame), len(columns)), dtype=dtype)
            for index, column in enumerate(columns):
                values[:, index] = frame[column].to_numpy(dtype=dtype, na_value=np.nan)
            yield values

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """`columns` as one pandas frame (as `pd.read_parquet` reads them), read a column
        at a time: the peak is the frame plus one column, where reading the table in one
        go holds its Arrow and pandas copies together (10M x 26: 1.5 GiB vs 0.7 GiB).
        A column the file lacks is named in one line, before anything is read."""
        require_columns(self, columns, str(self.path))
        frame = pd.DataFrame({column: self[column] for column in columns}, copy=False)
        log.info("read %s (%d rows, %d columns)", self.path, len(frame), frame.shape[1])
        return frame

    def take(self, rows: np.ndarray, columns: list[str] | None = None) -> pd.DataFrame:
        """The rows at positions `rows` (sorted), as `DataFrame.take` gives them, read
        batch by batch: a sample of a large table without loading the table."""
        chosen, start = [], 0
        for batch in self.arrow_batches(columns):
            low, high = np.searchsorted(rows, [start, start + batch.num_rows])
            chosen.append(batch.take(pa.array(rows[low:high] - start)))
            start += batch.num_rows
        return pa.Table.from_batches(chosen, schema=self._schema(columns)).to_pandas()

    def _schema(self, columns: list[str] | None) -> pa.Schema:
        schema = self._file.schema_arrow
        return schema if columns is None else pa.schema([schema.field(c) for c in columns])

    def cache(self, column: str) -> pd.Series:
        """Keep `column` in memory: for a column read again and again (the target)."""
        self._cached[column] = self[column]
        return self._cached[column]

    def arrow_batches(
        self, columns: list[str] | None = None, rows: int = BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The rows (those `keep` keeps) as Arrow batches of up to `rows` rows, in
        order: the file's own types, ready to be written again unchanged."""
        start = 0
        for batch in self._file.iter_batches(batch_size=rows, columns=columns):
            rows = batch.num_rows
            if self.keep is not None:
                batch = batch.filter(pa.array(self.keep[start : start + rows]))
            start += rows
            yield batch

    def batches(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """The rows (those `keep` keeps) as pandas frames of up to BATCH_ROWS rows, in
        order; one empty frame for a file without rows, so every column is still seen."""
        empty = True
        for batch in self.arrow_batches(columns):
            if batch.num_rows or empty:
                empty = False
                yield pa.Table.from_batches([batch]).to_pandas()
        if empty:
            yield self._schema(columns).empty_table().to_pandas()

    @contextlib.contextmanager
    def writer(self, path: Path) -> Iterator[pq.ParquetWriter]:
        """A parquet writer for rows of this table (its schema, pandas metadata included)
        into `path`, which appears only once the block has finished without error."""
        schema = self._file.schema_arrow
        with (
            atomic_path(path) as tmp,
            pq.ParquetWriter(tmp, schema, **parquet_options(schema)) as out,
        ):
            yield out
        log.info("wrote %s", path)
