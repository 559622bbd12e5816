"""train: fit the configured model (conf/model) and save the whole inference pipeline."""

from reprolab.stages.shell import run_stage


def train() -> str:
    from reprolab.config import Paths, get, load_params
    from reprolab.errors import ReprolabError
    from reprolab.features import native_categorical_mask
    from reprolab.files import log, read_parquet, read_yaml
    from reprolab.models import (
        build_estimator,
        build_inference_pipeline,
        fit_estimator,
        use_categorical_codes,
    )
    from reprolab.persistence import load_model, save_model

    schema = read_yaml(Paths.schema)
    target = schema["target"]
    features = read_parquet(Paths.train_features)
    preprocessor = load_model(Paths.preprocessor)
    expected = list(preprocessor.get_feature_names_out())
    found = [c for c in features.columns if c != target]
    if found != expected:
        raise ReprolabError(
            f"{Paths.train_features}: feature columns do not match {Paths.preprocessor}; "
            "expected both from the same featurize run (run `dvc repro`)"
        )
    params = load_params()
    estimator = build_estimator(get(params, "model"), schema["task"])
    use_categorical_codes(estimator, native_categorical_mask(preprocessor))
    # The stored precision (features.dtype), without a float64 copy; the frame is
    # dropped before fitting, so its memory is free for the estimator's.
    matrix, labels = features[found].to_numpy(), features[target].to_numpy()
    del features
    log.info("fitting %s on %d rows x %d features", type(estimator).__name__, *matrix.shape)
    fit_estimator(estimator, matrix, labels, get(params, "n_jobs"))
    save_model(Paths.model, build_inference_pipeline(preprocessor, estimator))
    return f"trained {type(estimator).__name__} ({schema['task']})"


if __name__ == "__main__":
    run_stage("train", __doc__, train)
