"""monitor: compare the production batches (data/production/) with the training data."""

from reprolab.core.shell import run_stage


def monitor() -> str:
    from reprolab.core.config import PRODUCTION_DIR, Paths, get, load_params
    from reprolab.core.files import log, read_yaml, write_bytes, write_json
    from reprolab.monitor.verdict import (
        drift_records,
        monitor_settings,
        no_data_summary,
        render_markdown,
    )

    cfg = monitor_settings(get(load_params(), "monitor"))
    schema = read_yaml(Paths.schema)
    batches = sorted(p for p in PRODUCTION_DIR.glob("*") if p.suffix in (".parquet", ".csv"))
    summary = _compare(batches, schema, cfg) if batches else no_data_summary()
    write_json(Paths.monitor_metrics, summary)
    write_json(Paths.drift, drift_records(summary))
    write_bytes(Paths.monitor_report, render_markdown(summary).encode("utf-8"))
    log.info("wrote %s", Paths.monitor_report)
    drifted = ", ".join(summary["drifted_features"]) or "none"
    return f"{summary['verdict']}: drifted features {drifted}"


def _compare(batches, schema, cfg):
    """The summary for the production batches against the training data."""
    import pandas as pd

    from reprolab.core.config import PRODUCTION_DIR, Paths
    from reprolab.core.errors import ReprolabError
    from reprolab.core.files import log
    from reprolab.data.columns import feature_columns, require_columns
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.data.tables import normalize_booleans, read_csv, read_parquet_table
    from reprolab.model.persistence import load_model
    from reprolab.monitor.verdict import monitor_summary, production_performance, reference_sample

    frames = []
    for path in batches:
        frame = read_parquet_table(path) if path.suffix == ".parquet" else read_csv(path)
        if frame.empty:
            log.info("skipped %s: no rows", path)
            continue
        normalize_booleans(frame)
        require_columns(frame, feature_columns(schema), str(path))
        log.info("read %s (%d rows, %d columns)", path, len(frame), frame.shape[1])
        frames.append(frame)
    if not frames:
        raise ReprolabError(
            f"{PRODUCTION_DIR}: every batch is empty; expected rows to compare with training"
        )
    current = pd.concat(frames, ignore_index=True)
    reference = reference_sample(ParquetColumns(Paths.train), cfg["reference_rows"])
    model = load_model(Paths.model)
    columns = feature_columns(schema)
    predictions = (model.predict(reference[columns]), model.predict(current[columns]))
    performance = production_performance(current, predictions[1], schema)
    return monitor_summary(reference, current, schema, predictions, cfg, performance)


if __name__ == "__main__":
    run_stage("monitor", __doc__, monitor)
