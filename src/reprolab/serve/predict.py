"""Batch prediction: a CSV or parquet file in, predictions (and class probabilities) out.

    python -m reprolab.serve.predict --model models/model.skops --input new.csv --output scored.parquet
    make predict INPUT=new.csv OUTPUT=scored.parquet

Rows are read in chunks (bounded memory, with a progress bar), each chunk is checked
against the training schema with the same code as the `validate` stage, and the output
(parquet or CSV, by its extension) is written to a temporary file and renamed when
complete. Input columns are carried through; `prediction` and `proba_<class>` are added.
Rows are checked and scored by the same code as the HTTP service (`reprolab.serve.scoring`):
the training table's unused columns (target, id, time, excluded) are accepted and
ignored, any other column is refused. The model and schema must be the files dvc.lock
records (`--allow-unlisted-model` for a model file it does not list).
"""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprolab.core.config import LOCK_FILE, SOURCE_FORMAT, Paths
from reprolab.core.errors import ReprolabError
from reprolab.core.files import ParquetAppender, atomic_path, log, read_yaml, table_kind
from reprolab.core.lockfile import require_locked
from reprolab.core.shell import command_parser, user_errors
from reprolab.data.number_format import NumberFormat, parse_numeric_columns
from reprolab.data.tables import compression_of, require_flat
from reprolab.model.persistence import load_model
from reprolab.serve.scoring import (
    model_rows,
    out_of_range,
    predictions,
    require_model_fits_schema,
)


def read_chunks(
    path: Path, rows: int, source_format: dict[str, Any] | None = None
) -> Iterator[pd.DataFrame]:
    """The input in chunks of `rows`: parquet by row groups, CSV (plain, or compressed
    as gzip, bz2 or xz) read with `source_format` (encoding, delimiter, decimal and
    thousands separators, missing markers: those ingest read the training file with,
    unless flags override them). An unreadable file is one line naming it, whenever in
    the read the problem shows."""
    if not path.exists():
        raise ReprolabError(f"--input: file '{path}' not found; expected a CSV or parquet file")
    if not path.is_file():
        raise ReprolabError(
            f"--input: '{path}' is not a regular file; expected a CSV or parquet file"
        )
    fmt = source_format or {}
    encoding = fmt.get("encoding") or "utf-8"
    try:
        if table_kind(path) == "parquet":
            import pyarrow.parquet as pq  # noqa: PLC0415

            parquet = pq.ParquetFile(path)
            require_flat(parquet.schema_arrow, f"--input: {path}")
            for batch in parquet.iter_batches(batch_size=rows):
                yield batch.to_pandas()
        else:
            yield from pd.read_csv(path, chunksize=rows, **_pandas_options(path, fmt))
    except UnicodeDecodeError as error:
        raise ReprolabError(
            f"--input: {path}: bytes at position {error.start} are not valid {encoding}; "
            "expected text in --encoding (e.g. --encoding latin-1)"
        ) from None
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as error:
        # pyarrow's errors derive from these; so do gzip's and pandas' parser errors.
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise ReprolabError(f"--input: {path}: cannot read it ({reason})") from None


def _pandas_options(path: Path, fmt: dict[str, Any]) -> dict[str, Any]:
    """pandas' reading options for a CSV in the recorded format (thousands are read by
    `numbers_as_trained` when they are also the delimiter, as ingest read them)."""
    delimiter = fmt.get("delimiter") or ","
    thousands = fmt.get("thousands")
    compression = compression_of(path)
    return {
        "encoding": fmt.get("encoding") or "utf-8",
        "sep": delimiter,
        "decimal": fmt.get("decimal") or ".",
        "thousands": thousands if thousands and thousands != delimiter else None,
        "na_values": list(fmt.get("na_values") or []) or None,
        # gzip, bz2 and xz by their bytes whatever the name; others (.zip, .zst) by it.
        "compression": compression if compression in ("gzip", "bz2", "xz") else "infer",
    }


def numbers_as_trained(
    chunk: pd.DataFrame, schema: dict[str, Any], fmt: dict[str, Any], source: str
) -> pd.DataFrame:
    """The numeric features of a CSV chunk read with the training file's number format
    (`"16,000"` is 16000 where training read it so); other columns are left as read."""
    if not fmt:
        return chunk
    number_format = NumberFormat(decimal=fmt.get("decimal") or ".", thousands=fmt.get("thousands"))
    numeric = set(schema.get("numeric") or [])
    keep = {c for c in chunk.columns if c not in numeric}
    na_values = [str(v) for v in fmt.get("na_values") or []]
    return parse_numeric_columns(chunk, source, number_format, na_values, keep)[0]


def count_rows(path: Path) -> int | None:
    """Rows of a parquet input from its footer, for the progress bar; None when unknown
    (CSV, or a file read_chunks will refuse with its own message)."""
    if path.suffix.lower() in (".parquet", ".pq") and path.is_file():
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except (OSError, ValueError):
            return None
    return None


def score_chunk(
    model: Any, schema: dict[str, Any], chunk: pd.DataFrame, source: str
) -> pd.DataFrame:
    """Validate one chunk against the training schema and add its predictions. Its
    features take the training types (each chunk of a CSV is typed on its own)."""
    rows = model_rows(chunk, schema, source)
    scored = predictions(model, schema, rows)
    # Values outside what training saw, flagged per row (empty: none).
    flags = np.full(len(rows), "", dtype=object)
    for index, found in out_of_range(rows, schema).items():
        flags[index] = "; ".join(found)
    scored["out_of_range"] = flags
    clash = [c for c in scored.columns if c in chunk.columns]
    if clash:
        raise ReprolabError(f"{source}: input already has column(s) {clash}; expected new names")
    return pd.concat([chunk, scored], axis=1)


def predict_file(
    model_path: Path,
    schema_path: Path,
    source: Path,
    target: Path,
    chunk_rows: int,
    allow_unlisted: bool = False,
    overrides: dict[str, Any] | None = None,
    root: Path = Path(),
) -> int:
    """Score `source` into `target`; `overrides`: CSV format keys (encoding, delimiter,
    decimal, thousands, na_values) that replace the recorded ones."""
    from tqdm import tqdm  # noqa: PLC0415

    # `root`: a fetched registered version's folder, with its own commit's dvc.lock.
    require_locked([model_path, schema_path], root / LOCK_FILE, allow_unlisted, root=root)
    model, schema = load_model(root / model_path), read_yaml(root / schema_path)
    require_model_fits_schema(model, schema, str(root / model_path))
    # The training file's format (if it was a CSV), each part overridable by a flag.
    recorded = schema.get(SOURCE_FORMAT) or {}
    fmt = {**recorded, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    if fmt:
        log.info("reading CSV input as %s", ", ".join(f"{k}={v!r}" for k, v in fmt.items()))
    total = 0
    with (
        atomic_path(target) as tmp,
        ParquetAppender(tmp, target, empty_as_text=True) as parquet,
        tqdm(total=count_rows(source), unit="rows", file=sys.stderr, disable=None) as progress,
    ):
        for number, chunk in enumerate(read_chunks(source, chunk_rows, fmt)):
            where = f"{source} (chunk {number + 1})"
            if table_kind(source) != "parquet":
                chunk = numbers_as_trained(chunk, schema, fmt, where)
            scored = score_chunk(model, schema, chunk, where)
            if target.suffix.lower() in (".parquet", ".pq"):
                parquet.append(scored)
            else:
                scored.to_csv(tmp, mode="a", header=number == 0, index=False)
            total += len(chunk)
            progress.update(len(chunk))
        if total == 0:
            raise ReprolabError(f"{source}: no rows; expected at least one row to predict")
    log.info("wrote %s (%d rows)", target, total)
    return total


def main(argv: list[str] | None = None) -> int:
    import logging  # noqa: PLC0415

    parser = command_parser("reprolab.serve.predict", __doc__)
    parser.add_argument("--model", type=Path, default=Paths.model)
    parser.add_argument(
        "--schema",
        type=Path,
        default=Paths.schema,
        help="the training schema (reports/schema.yaml)",
    )
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument(
        "--encoding", help="a CSV input's text encoding (default: the training file's, else utf-8)"
    )
    parser.add_argument(
        "--delimiter", help="a CSV input's separator (default: the training file's)"
    )
    parser.add_argument(
        "--decimal", help="decimal separator, '.' or ',' (default: the training file's)"
    )
    parser.add_argument("--thousands", help="thousands separator (default: the training file's)")
    parser.add_argument(
        "--na-values",
        help="extra missing-value markers, comma-separated (default: the training file's)",
    )
    parser.add_argument(
        "--allow-unlisted-model",
        action="store_true",
        help="use a model file that dvc.lock does not list (a listed one must still match)",
    )
    parser.add_argument(
        "--served",
        type=Path,
        default=Path(),
        help="a registered version's folder (`registry fetch --stage prod`): its model and schema",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="predict: %(message)s")
    with user_errors("predict"):
        predict_file(
            args.model,
            args.schema,
            args.input,
            args.output,
            args.chunk_rows,
            args.allow_unlisted_model,
            {
                "encoding": args.encoding,
                "delimiter": args.delimiter,
                "decimal": args.decimal,
                "thousands": args.thousands,
                "na_values": args.na_values.split(",") if args.na_values else None,
            },
            args.served,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
