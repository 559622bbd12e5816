"""featurize: fit the preprocessor on the train split; write it and the train features."""

from reprolab.stages.shell import run_stage


def featurize() -> str:
    from reprolab.config import Paths, get, load_params
    from reprolab.features import (
        build_preprocessor,
        feature_columns,
        require_columns,
        transform_to_frame,
    )
    from reprolab.files import read_parquet, read_yaml, write_parquet
    from reprolab.persistence import save_model

    schema = read_yaml(Paths.schema)
    train = read_parquet(Paths.train)
    require_columns(train, [*feature_columns(schema), schema["target"]], str(Paths.train))
    preprocessor = build_preprocessor(
        schema["numeric"], schema["categorical"], get(load_params(), "features")
    )
    preprocessor.fit(train[feature_columns(schema)])
    features = transform_to_frame(preprocessor, train)
    features[schema["target"]] = train[schema["target"]].to_numpy()
    save_model(Paths.preprocessor, preprocessor)
    write_parquet(Paths.train_features, features)
    return f"{len(feature_columns(schema))} columns -> {features.shape[1] - 1} features"


if __name__ == "__main__":
    run_stage("featurize", __doc__, featurize)
