"""Reading and writing stage inputs and outputs.

Every output is written to a temporary file in the destination directory, synced
and renamed over the target, so a stage that fails or is killed never leaves a
half-written file behind and the previous output stays intact until then.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolab.core.errors import ReprolabError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("reprolab")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it into place only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A writer killed before its rename (SIGKILL, power loss) leaves its temp file.
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


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


def read_yaml(path: Path) -> Any:
    import yaml  # noqa: PLC0415

    if not path.exists():
        raise ReprolabError(
            f"{path}: file not found; expected the output of an earlier stage (run `dvc repro`)"
        )
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


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, engine="pyarrow", index=False)
    log.info("wrote %s (%d rows, %d columns)", path, len(frame), frame.shape[1])


def write_parquet_batches(path: Path, frames: Iterable[pd.DataFrame]) -> None:
    """Write frames of the same columns as one table, one row group each: a table
    made batch by batch is never in memory whole. The first frame fixes the types."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    rows, writer = 0, None
    with atomic_path(path) as tmp:
        try:
            for frame in frames:
                table = pa.Table.from_pandas(
                    frame, schema=writer.schema if writer else None, preserve_index=False
                )
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer:
                writer.close()
        if writer is None:
            raise ReprolabError(f"{path}: no rows to write; expected at least one batch")
    log.info("wrote %s (%d rows, %d columns)", path, rows, len(writer.schema))
