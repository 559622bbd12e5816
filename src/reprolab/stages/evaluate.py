"""evaluate: score the saved pipeline on the test split; write metrics and plot data."""

from reprolab.stages.shell import run_stage


def evaluate() -> str:
    from reprolab import evaluation
    from reprolab.config import Paths, get, load_params
    from reprolab.features import feature_columns, require_columns
    from reprolab.files import read_parquet, write_json
    from reprolab.persistence import load_model

    data = get(load_params(), "data")
    test = read_parquet(Paths.test)
    require_columns(test, [*feature_columns(data), data["target"]], str(Paths.test))
    model = load_model(Paths.model)
    y_true = test[data["target"]]
    proba = model.predict_proba(test[feature_columns(data)])
    classes = list(model.classes_)
    metrics = evaluation.classification_metrics(y_true, proba, classes)
    write_json(Paths.metrics, metrics)
    write_json(Paths.confusion, evaluation.confusion_records(y_true, proba, classes))
    write_json(Paths.roc, evaluation.roc_records(y_true, proba, classes))
    write_json(Paths.precision_recall, evaluation.precision_recall_records(y_true, proba, classes))
    return (
        f"accuracy {metrics['accuracy']:.4f}, balanced accuracy "
        f"{metrics['balanced_accuracy']:.4f}, log loss {metrics['log_loss']:.4f}"
    )


if __name__ == "__main__":
    run_stage("evaluate", __doc__, evaluate)
