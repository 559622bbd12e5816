"""featurize: fit the preprocessor on the train split; write it and the train features."""

from reprolab.stages.shell import run_stage


def featurize() -> str:
    from reprolab.config import Paths, get, load_params
    from reprolab.features import (
        build_preprocessor,
        categorical_encoding,
        feature_columns,
        feature_dtype,
        require_columns,
        transform_to_frame,
    )
    from reprolab.files import read_parquet, read_yaml, write_parquet
    from reprolab.persistence import save_model

    schema = read_yaml(Paths.schema)
    train = read_parquet(Paths.train)
    require_columns(train, [*feature_columns(schema), schema["target"]], str(Paths.train))
    params = load_params()
    config = get(params, "features")
    encoding = categorical_encoding(config, get(params, "model._target_", None))
    cardinality = max((train[c].nunique() for c in schema["categorical"]), default=0)
    preprocessor = build_preprocessor(
        schema["numeric"], schema["categorical"], config, encoding, cardinality
    )
    dtype = feature_dtype(config)
    features = transform_to_frame(preprocessor, train[feature_columns(schema)], dtype, fit=True)
    features[schema["target"]] = train[schema["target"]].to_numpy()
    save_model(Paths.preprocessor, preprocessor)
    write_parquet(Paths.train_features, features)
    return (
        f"{len(feature_columns(schema))} columns -> {features.shape[1] - 1} {dtype} "
        f"features (categories: {encoding})"
    )


if __name__ == "__main__":
    run_stage("featurize", __doc__, featurize)
