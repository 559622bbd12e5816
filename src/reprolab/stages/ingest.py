"""ingest: load the configured data source (data.source, data.path) into data/raw/ as parquet."""

from reprolab.core.shell import run_stage


def ingest() -> str:
    import json

    from reprolab.core.config import SOURCE_FORMAT, Paths, get, load_params
    from reprolab.core.files import log, write_parquet
    from reprolab.data.category_variants import fold_case_and_space
    from reprolab.data.config_shapes import required_target
    from reprolab.data.sources import load_source
    from reprolab.data.tables import normalize_booleans

    data = get(load_params(), "data")
    required_target(data)  # before a large file is read for nothing
    if data["source"].get("kind") == "synthetic":
        # Written chunk by chunk: 10M rows never sit in memory at once.
        from reprolab.data import synthetic

        spec = synthetic.spec_from_config(data["source"])
        rows, columns = synthetic.write(Paths.raw, synthetic.generate(spec), spec.rows)
        return f"generated {rows} rows, {columns} columns (data.source.seed {spec.seed})"
    frame = load_source(data)
    where = data.get("path") or data["source"]["kind"]
    log.info("read %s (%d rows, %d columns)", where, len(frame), frame.shape[1])
    for column in normalize_booleans(frame):
        log.info("column %r: true/false values stored as the strings 'True'/'False'", column)
    if get(data, "categories_normalize", within="data"):
        for column in frame.columns:
            frame[column], folds = fold_case_and_space(frame[column])
            for note in folds:
                log.info("column %r: %s (data.categories_normalize)", column, note)
    frame.columns = [str(column) for column in frame.columns]
    # How a CSV was read (delimiter, number format, missing markers, encoding): kept
    # with the table, so that batch prediction and the monitor read new files alike.
    source_format = frame.attrs.pop(SOURCE_FORMAT, None)
    metadata = {SOURCE_FORMAT: json.dumps(source_format)} if source_format else None
    write_parquet(Paths.raw, frame, metadata)
    return f"ingested {len(frame)} rows from {where}"


if __name__ == "__main__":
    run_stage("ingest", __doc__, ingest)
