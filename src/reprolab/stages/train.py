"""train: fit the configured model (conf/model) and save the whole inference pipeline."""

from reprolab.core.shell import run_stage


def train() -> str:
    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.files import log, read_parquet, read_yaml
    from reprolab.model.estimators import (
        build_estimator,
        build_inference_pipeline,
        fit_estimator,
        use_categorical_codes,
    )
    from reprolab.model.features import native_categorical_mask, training_matrix
    from reprolab.model.persistence import load_model, save_model

    schema = read_yaml(Paths.schema)
    target = schema["target"]
    features = read_parquet(Paths.train_features)
    preprocessor = load_model(Paths.preprocessor)
    matrix = training_matrix(
        features.drop(columns=[target]), preprocessor, str(Paths.train_features)
    )
    labels = features[target].to_numpy()
    del features  # its memory is free for the estimator's
    params = load_params()
    estimator = build_estimator(get(params, "model"), schema["task"])
    fit_params = use_categorical_codes(estimator, native_categorical_mask(preprocessor))
    name = type(getattr(estimator, "estimator", estimator)).__name__  # what EncodedLabels wraps
    log.info("fitting %s on %d rows x %d features", name, *matrix.shape)
    fit_estimator(estimator, matrix, labels, get(params, "n_jobs"), fit_params)
    save_model(Paths.model, build_inference_pipeline(preprocessor, estimator))
    return f"trained {name} ({schema['task']})"


if __name__ == "__main__":
    run_stage("train", __doc__, train)
