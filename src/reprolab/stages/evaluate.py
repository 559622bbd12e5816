"""evaluate: score the saved pipeline on the test split; write metrics and plot data."""

from pathlib import Path
from typing import Any

from reprolab.core.shell import run_stage


def evaluate() -> str:
    from reprolab.core.config import Paths, load_params
    from reprolab.core.files import log, read_yaml, write_json
    from reprolab.data.columns import feature_columns
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.engine.ray_predict import predict_with
    from reprolab.engine.settings import engine_settings
    from reprolab.model import evaluation
    from reprolab.model.calibration import reliability
    from reprolab.model.persistence import load_model

    engine = engine_settings(load_params())
    schema = read_yaml(Paths.schema)
    columns = [*feature_columns(schema), schema["target"]]
    test = ParquetColumns(Paths.test).frame(columns)  # what the model reads, nothing else
    model = load_model(Paths.model)
    y_true, x = test[schema["target"]], test[feature_columns(schema)]
    # Every plot file is written for every task (empty when it does not apply), so
    # dvc.yaml's outputs are the same whatever the data.
    plots: dict[Path, list[dict[str, Any]]] = {
        path: []
        for path in (
            Paths.confusion,
            Paths.roc,
            Paths.precision_recall,
            Paths.predicted_vs_actual,
            Paths.residuals,
            Paths.reliability,
        )
    }
    if schema["task"] == "regression":
        (predicted,) = predict_with(engine, model, Paths.model, [x], "predict")
        metrics = evaluation.regression_metrics(y_true, predicted)
        plots[Paths.predicted_vs_actual], plots[Paths.residuals] = evaluation.regression_records(
            y_true, predicted
        )
        summary = f"rmse {metrics['rmse']:.4f}, mae {metrics['mae']:.4f}, r2 {metrics['r2']:.4f}"
    else:
        (proba,) = predict_with(engine, model, Paths.model, [x], "predict_proba")
        classes = list(model.classes_)
        metrics = evaluation.classification_metrics(y_true, proba, classes)
        plots[Paths.confusion] = evaluation.confusion_records(y_true, proba, classes)
        plots[Paths.roc] = evaluation.roc_records(y_true, proba, classes)
        plots[Paths.precision_recall] = evaluation.precision_recall_records(y_true, proba, classes)
        # How far the probabilities are from the frequencies they claim: what estimating
        # performance without labels (the monitor) relies on.
        metrics["expected_calibration_error"], plots[Paths.reliability] = reliability(
            y_true, proba, classes
        )
        summary = (
            f"accuracy {metrics['accuracy']:.4f}, balanced accuracy "
            f"{metrics['balanced_accuracy']:.4f}, log loss {metrics['log_loss']:.4f}, "
            f"calibration error {metrics['expected_calibration_error']:.4f}"
        )
    for name in evaluation.undefined_as_null(metrics, schema["task"], len(test)):
        log.info("%s undefined on the test split's %d rows: written as null", name, len(test))
    if metrics.get("absent_classes"):
        log.info(
            "test split has no rows of class(es) %s: roc_auc_ovr is averaged over the classes "
            "present; their recall and F1 are 0 with support 0",
            metrics["absent_classes"],
        )
    write_json(Paths.metrics, metrics)
    for path, records in plots.items():
        write_json(path, records)
    return summary


if __name__ == "__main__":
    run_stage("evaluate", __doc__, evaluate)
