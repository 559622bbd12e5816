"""monitor: compare the production batches (data/production/) with the training data
(drift), estimate each batch's performance without its labels (checked on the test
split), and give the verdict."""

from reprolab.core.shell import run_stage


def monitor() -> str:
    from reprolab.core.config import PRODUCTION_DIR, Paths, get, load_params, whole
    from reprolab.core.files import log, read_yaml, table_files, write_bytes, write_json
    from reprolab.engine.settings import engine_settings
    from reprolab.monitor.verdict import (
        MonitorSettings,
        drift_records,
        estimate_records,
        no_data_summary,
        render_markdown,
    )

    params = load_params()
    cfg = MonitorSettings.from_params(params)
    engine = engine_settings(params)
    schema = read_yaml(Paths.schema)
    # Read only when there are batches: with none, the stage imports no pandas or scipy.
    batches = table_files(PRODUCTION_DIR)
    if batches:
        seed = whole(get(params, "seed"), "seed", low=0)
        summary = _compare(batches, schema, cfg, engine, seed)
    else:
        summary = no_data_summary()
    write_json(Paths.monitor_metrics, summary)
    write_json(Paths.drift, drift_records(summary))
    write_json(Paths.performance_estimates, estimate_records(summary))
    write_bytes(Paths.monitor_report, render_markdown(summary).encode("utf-8"))
    log.info("wrote %s", Paths.monitor_report)
    for line in summary["reasons"] + summary["warnings"]:
        log.info("%s", line)
    estimation, batches_done = summary["estimation"], summary["batches"]
    estimated = (
        ""
        if not batches_done
        else f"; estimated {estimation['metric']} "
        + ", ".join(
            f"{b['estimated'][estimation['metric']]['value']:.4f}" for b in batches_done[-5:]
        )
        + f" (the last {min(len(batches_done), 5)} batch(es); evaluated "
        + f"{estimation['evaluated']:.4f})"
    )
    drifted = ", ".join(summary["drifted_features"]) or "none"
    return f"{summary['verdict']}: drifted features {drifted}{estimated}"


def _compare(batches, schema, cfg, engine, seed):
    """The summary for the production batches against the training data."""
    import numpy as np
    import pandas as pd

    from reprolab.core.config import Paths
    from reprolab.core.files import log
    from reprolab.data.columns import feature_columns
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.engine.ray_predict import predict_with
    from reprolab.model.persistence import load_model
    from reprolab.monitor.production import read_batches
    from reprolab.monitor.verdict import monitor_summary, production_performance, reference_sample

    named = read_batches(batches, schema)
    current = pd.concat([frame for _, frame in named], ignore_index=True)
    reference = reference_sample(ParquetColumns(Paths.train), cfg.reference_rows)
    columns = feature_columns(schema)
    test = reference_sample(ParquetColumns(Paths.test), cfg.reference_rows)
    model = load_model(Paths.model)
    frames = [reference[columns], test[columns], *(frame[columns] for _, frame in named)]
    method = "predict" if schema["task"] == "regression" else "predict_proba"
    outputs = predict_with(engine, model, Paths.model, frames, method)
    wrapped = [_outputs(schema, model, values) for values in outputs]
    on_reference, on_test, on_batches = wrapped[0], wrapped[1], wrapped[2:]
    on_current = np.concatenate([o.predicted() for o in on_batches])
    performance = production_performance(current, on_current, schema)
    log.info("estimating performance of %d batch(es) without their labels", len(named))
    estimates = _estimates(model, schema, cfg, seed, named, test, on_test, on_batches)
    predictions = (on_reference.predicted(), on_current)
    return monitor_summary(reference, current, schema, predictions, cfg, performance, estimates)


def _outputs(schema, model, values):
    import numpy as np

    from reprolab.monitor.performance import Outputs

    classes = () if schema["task"] == "regression" else tuple(model.classes_)
    return Outputs(schema["task"], np.asarray(values), classes)


def _estimates(model, schema, cfg, seed, named, test, on_test, on_batches):
    """Per batch, the estimated (and realized) performance; the estimator's check on the
    test split; the features' importance."""
    from reprolab.core.config import Paths
    from reprolab.core.files import read_json
    from reprolab.data.columns import feature_columns
    from reprolab.model.evaluation import evenly_spaced
    from reprolab.monitor import estimation
    from reprolab.monitor import performance as perf

    task, target, columns = schema["task"], schema["target"], feature_columns(schema)
    metric = perf.performance_metric(cfg.performance_metric, task)
    evaluated = read_json(Paths.metrics)
    estimator = perf.Estimator(task, cfg.estimate_samples, cfg.estimate_interval, seed)
    batch_inputs = None
    labels = test[target]
    if task == "regression":
        # DLE: loss models fitted on the test split (rows the model did not fit).
        transform = model.named_steps["preprocess"].transform
        test_inputs = estimation.loss_inputs(transform(test[columns]), on_test.values)
        errors = labels.to_numpy(float) - on_test.values
        check = perf.cross_fitted_check(test_inputs, errors, estimator)
        models = estimation.fit_loss_models(test_inputs, errors, seed)
        estimator = perf.Estimator(task, estimator.samples, estimator.level, seed, models)
        batch_inputs = [
            estimation.loss_inputs(transform(frame[columns]), outputs.values)
            for (_, frame), outputs in zip(named, on_batches, strict=True)
        ]
    else:
        check = perf.reference_check(labels, on_test, estimator)
    # The intervals carry the estimator's error on the test split, not only the draws'.
    estimator = estimator.with_margins(check)
    records = [
        perf.batch_record(
            name,
            frame[target] if target in frame.columns else None,
            outputs,
            estimator,
            None if batch_inputs is None else batch_inputs[i],
        )
        for i, ((name, frame), outputs) in enumerate(zip(named, on_batches, strict=True))
    ]
    calibration_error = evaluated.get("expected_calibration_error")
    sample = test.take(evenly_spaced(len(test), cfg.importance_rows)).reset_index(drop=True)
    importance = perf.permutation_importance(model, sample[columns], sample[target], metric, seed)
    return {
        "estimation": {
            "method": "CBPE" if task == "classification" else "DLE",
            "metric": metric,
            "evaluated": evaluated[metric],
            "interval": cfg.estimate_interval,
            "calibration_error": calibration_error,
            "test_split_check": check,
            "unreliable": perf.reliability_note(task, check, calibration_error, cfg, metric),
        },
        "batches": records,
        "importance": importance,
    }


if __name__ == "__main__":
    run_stage("monitor", __doc__, monitor)
