"""Reading and writing stage inputs and outputs.

Every output is written to a temporary file in the destination directory, synced
and renamed over the target, so a stage that fails or is killed never leaves a
half-written file behind and the previous output stays intact until then.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolab.core.errors import ReprolabError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow.parquet as pq

log = logging.getLogger("reprolab")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it into place only on success."""
    if path.is_dir():
        raise ReprolabError(f"{path}: a directory; expected a file name to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    # A writer killed before its rename (SIGKILL, power loss) leaves its temp file; one
    # of a writer still running is its own (two runs writing one output: the last to
    # finish wins, neither deletes the other's work).
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        if not _writer_alive(stale.name.rsplit(".tmp-", 1)[1]):
            stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as error:
        if not _is_write_failure(error, tmp):
            raise
        reason = error.strerror or " ".join(str(error).split())
        raise ReprolabError(
            f"{path}: cannot write it ({reason}); expected a writable folder with free space "
            "(nothing was written: the previous file, if any, is unchanged)"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _writer_alive(suffix: str) -> bool:
    """Is the process that named a temp file `.<name>.tmp-<pid>-<id>` still running?"""
    pid = suffix.split("-", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return int(pid) != os.getpid()  # our own leftover is stale


# What a full disk, a quota or a read-only folder raise; pyarrow's writers raise them
# as OSError without a file name.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def _is_write_failure(error: OSError, tmp: Path) -> bool:
    if error.filename is not None:
        return str(error.filename) == str(tmp)
    return error.errno in _WRITE_ERRNOS or "No space left" in str(error)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path, payload: Any) -> None:
    """Write JSON with sorted keys and a trailing newline: stable bytes for git diffs."""
    text = json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_bytes(path, text.encode("utf-8"))
    log.info("wrote %s", path)


def write_yaml(path: Path, payload: Any) -> None:
    """Write YAML in the payload's own key order: readable, and stable for git diffs."""
    import yaml  # noqa: PLC0415

    text = yaml.safe_dump(payload, sort_keys=False, allow_unicode=True, default_flow_style=False)
    write_bytes(path, text.encode("utf-8"))
    log.info("wrote %s", path)


def read_json(path: Path) -> Any:
    import json  # noqa: PLC0415

    if not path.is_file():
        raise ReprolabError(
            f"{path}: file not found; expected the output of an earlier stage (run `dvc repro`)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReprolabError(
            f"{path}: not valid JSON ({error}); expected a stage's output"
        ) from None


def read_yaml(path: Path) -> Any:
    import yaml  # noqa: PLC0415

    if not path.exists():
        raise ReprolabError(
            f"{path}: file not found; expected the output of an earlier stage (run `dvc repro`)"
        )
    if not path.is_file():
        raise ReprolabError(f"{path}: not a regular file (a directory?); expected a YAML file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ReprolabError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The table at `path` (only `columns`, when given: a stage reads what it uses)."""
    import pandas as pd  # noqa: PLC0415

    if not path.exists():
        raise ReprolabError(
            f"{path}: file not found; expected the output of an earlier stage (run `dvc repro`)"
        )
    frame = pd.read_parquet(path, engine="pyarrow", columns=columns)
    log.info("read %s (%d rows, %d columns)", path, len(frame), frame.shape[1])
    return frame


def write_parquet(path: Path, frame: pd.DataFrame, metadata: dict[str, str] | None = None) -> None:
    write_parquet_batches(path, [frame], metadata)


def parquet_options(schema: Any) -> dict[str, Any]:
    """How every parquet file here is written: dictionary encoding for every column but
    floating-point ones, whose values rarely repeat: trying it made writing 1M x 25
    floats 2.5x slower and the file larger (0.8 s, 66 MiB vs 0.3 s, 63 MiB)."""
    import pyarrow as pa  # noqa: PLC0415

    return {"use_dictionary": [f.name for f in schema if not pa.types.is_floating(f.type)]}


class ParquetAppender:
    """Frames appended to one parquet file as row groups: a table made batch by batch
    is never whole in memory. The first frame fixes the column types; later ones are
    cast to them (a batch whose column is all missing reads as another type)."""

    def __init__(
        self,
        path: Path,
        shown: Path | None = None,
        empty_as_text: bool = False,
        metadata: dict[str, str] | None = None,
    ):
        self.path, self.rows = path, 0
        self._writer: pq.ParquetWriter | None = None
        self.metadata = metadata or {}  # key-value pairs kept in the file's schema
        self.shown = shown or path  # the name errors give (not a temporary file's)
        # A column with no value in the first frame has no type to keep: text takes any
        # later value (a number cast to text), where a float column refused later text.
        self.empty_as_text = empty_as_text

    def append(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
            raise ReprolabError(f"{self.shown}: {_unstorable(frame, error)}") from None
        if self._writer is None:
            schema = table.schema
            if self.empty_as_text:
                empty = [i for i, c in enumerate(table.columns) if c.null_count == len(c)]
                for index in empty:
                    schema = schema.set(index, pa.field(schema.field(index).name, pa.string()))
            if self.metadata:
                schema = schema.with_metadata({**(schema.metadata or {}), **self.metadata})
            self._writer = pq.ParquetWriter(self.path, schema, **parquet_options(schema))
        # A row group per frame, of at most pyarrow's default size (2^20 rows).
        rows = min(max(len(frame), 1), 1 << 20)
        try:
            table = table.cast(self._writer.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
            raise ReprolabError(
                f"{self.shown}: a batch's columns do not fit the types of the first "
                f"({' '.join(str(error).split())[:200]}); expected one type per column"
            ) from None
        self._writer.write_table(table, row_group_size=rows)
        self.rows += len(frame)

    @property
    def columns(self) -> int:
        return len(self._writer.schema) if self._writer else 0

    def __enter__(self) -> ParquetAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()


def _unstorable(frame: pd.DataFrame, error: Exception) -> str:
    """Which column Arrow cannot store as one type (numbers and text mixed, say)."""
    import pyarrow as pa  # noqa: PLC0415

    for name in frame.columns:
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            kinds = sorted({type(v).__name__ for v in frame[name].dropna().head(10_000)})
            return (
                f"column {str(name)!r}: values of types {kinds} in one column; expected one "
                "type per column (numbers or text): fix the values, or declare it in "
                "data.categorical"
            )
    return f"cannot store the table as parquet ({' '.join(str(error).split())[:200]})"


def write_parquet_batches(
    path: Path, frames: Iterable[pd.DataFrame], metadata: dict[str, str] | None = None
) -> tuple[int, int]:
    """Write frames of the same columns as one table at `path`, atomically; returns its
    rows and columns. `metadata`: key-value pairs kept in the file's schema."""
    with atomic_path(path) as tmp:
        with ParquetAppender(tmp, path, metadata=metadata) as out:
            for frame in frames:
                out.append(frame)
        if not out.columns:
            raise ReprolabError(f"{path}: no rows to write; expected at least one batch")
    log.info("wrote %s (%d rows, %d columns)", path, out.rows, out.columns)
    return out.rows, out.columns


_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def table_kind(path: Path) -> str | None:
    """'parquet' or 'csv' by the file's name, whatever its case (`WEEK.CSV`), a CSV
    compressed as its last suffix says (`week.csv.gz`); None for anything else."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz"):
        suffixes.pop()
    if not suffixes:
        return None
    if suffixes[-1] in _PARQUET_SUFFIXES:
        return "parquet"
    return "csv" if suffixes[-1] in _CSV_SUFFIXES else None


def table_files(folder: Path) -> list[Path]:
    """The CSV and parquet files in `folder`, by name whatever the case of the extension.
    Any other file is named in the log, so that a table nobody reads is never left out
    without a word (hidden files, e.g. .gitkeep, and the folder's README are skipped)."""
    found = []
    for path in sorted(folder.glob("*")):
        if path.name.startswith(".") or path.name.upper().startswith("README"):
            continue
        if path.is_file() and table_kind(path) is not None:
            found.append(path)
        else:
            log.info("ignored %s: not a CSV or parquet file (.csv, .parquet, .csv.gz)", path)
    return found


def snapshot(tops: Iterable[str]) -> dict[Path, bytes]:
    """The bytes of every file at or under `tops` (files or folders), to put back with
    `put_back` after a command that failed half-way."""
    saved = {}
    for top in map(Path, tops):
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            if path.is_file():
                saved[path] = path.read_bytes()
    return saved


def put_back(saved: dict[Path, bytes]) -> None:
    """Write every snapshot file back as it was (files created since stay: an ignored
    report or a search journal is not ours to delete)."""
    for path, data in saved.items():
        if not path.exists() or path.read_bytes() != data:
            write_bytes(path, data)
