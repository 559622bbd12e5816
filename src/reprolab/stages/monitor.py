"""monitor: compare the production batches (data/production/) with the training data."""

from reprolab.core.shell import run_stage


def monitor() -> str:
    from reprolab.core.config import PRODUCTION_DIR, Paths, load_params
    from reprolab.core.files import log, read_yaml, table_files, write_bytes, write_json
    from reprolab.engine.settings import engine_settings
    from reprolab.monitor.verdict import (
        MonitorSettings,
        drift_records,
        no_data_summary,
        render_markdown,
    )

    params = load_params()
    cfg = MonitorSettings.from_params(params)
    engine = engine_settings(params)
    schema = read_yaml(Paths.schema)
    # Read only when there are batches: with none, the stage imports no pandas or scipy.
    batches = table_files(PRODUCTION_DIR)
    summary = _compare(batches, schema, cfg, engine) if batches else no_data_summary()
    write_json(Paths.monitor_metrics, summary)
    write_json(Paths.drift, drift_records(summary))
    write_bytes(Paths.monitor_report, render_markdown(summary).encode("utf-8"))
    log.info("wrote %s", Paths.monitor_report)
    drifted = ", ".join(summary["drifted_features"]) or "none"
    return f"{summary['verdict']}: drifted features {drifted}"


def _compare(batches, schema, cfg, engine):
    """The summary for the production batches against the training data."""
    from reprolab.core.config import Paths
    from reprolab.data.columns import feature_columns
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.engine.ray_predict import predict_with
    from reprolab.model.persistence import load_model
    from reprolab.monitor.production import read_batches
    from reprolab.monitor.verdict import monitor_summary, production_performance, reference_sample

    current = read_batches(batches, schema)
    reference = reference_sample(ParquetColumns(Paths.train), cfg.reference_rows)
    model = load_model(Paths.model)
    columns = feature_columns(schema)
    frames = [reference[columns], current[columns]]
    on_reference, on_current = predict_with(engine, model, Paths.model, frames, "predict")
    predictions = (on_reference, on_current)
    performance = production_performance(current, predictions[1], schema)
    return monitor_summary(reference, current, schema, predictions, cfg, performance)


if __name__ == "__main__":
    run_stage("monitor", __doc__, monitor)
