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
    from reprolab.files import read_parquet, write_parquet
    from reprolab.persistence import save_model

    params = load_params()
    data = get(params, "data")
    train = read_parquet(Paths.train)
    require_columns(train, [*feature_columns(data), data["target"]], str(Paths.train))
    preprocessor = build_preprocessor(
        data.get("numeric") or [], data.get("categorical") or [], get(params, "features")
    )
    preprocessor.fit(train[feature_columns(data)])
    features = transform_to_frame(preprocessor, train)
    features[data["target"]] = train[data["target"]].to_numpy()
    save_model(Paths.preprocessor, preprocessor)
    write_parquet(Paths.train_features, features)
    return f"{len(feature_columns(data))} columns -> {features.shape[1] - 1} features"


if __name__ == "__main__":
    run_stage("featurize", __doc__, featurize)
