"""featurize: fit the preprocessor on the train split; write it and the train features."""

from reprolab.core.shell import run_stage


def featurize() -> str:
    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.files import read_parquet, read_yaml, write_parquet
    from reprolab.data.columns import feature_columns, require_columns
    from reprolab.model.features import (
        build_preprocessor,
        categorical_encoding,
        feature_dtype,
        keep_sparse,
        transform_to_frame,
    )
    from reprolab.model.persistence import save_model

    schema = read_yaml(Paths.schema)
    train = read_parquet(Paths.train)
    require_columns(train, [*feature_columns(schema), schema["target"]], str(Paths.train))
    params = load_params()
    config = get(params, "features")
    encoding = categorical_encoding(config, get(params, "model._target_", None))
    columns, target = feature_columns(schema), schema["target"]
    cardinalities = [train[c].nunique() for c in schema["categorical"]]
    sparse = keep_sparse(len(train), len(schema["numeric"]), cardinalities, encoding, config)
    preprocessor = build_preprocessor(
        schema["numeric"],
        schema["categorical"],
        config,
        encoding,
        max(cardinalities, default=0),
        sparse,
        schema.get("date_features"),
    )
    dtype = feature_dtype(config)
    if sparse:
        # A sparse matrix has no parquet form: the file keeps the input columns, and
        # train encodes them with the saved preprocessor, sparse, in memory.
        preprocessor.fit(train[columns])
        features = train[[*columns, target]]
        layout = ", sparse: encoded by train"
    else:
        features = transform_to_frame(preprocessor, train[columns], dtype, fit=True)
        features[target] = train[target].to_numpy()
        layout = ""
    save_model(Paths.preprocessor, preprocessor)
    write_parquet(Paths.train_features, features)
    width = len(preprocessor.get_feature_names_out())
    return f"{len(columns)} columns -> {width} {dtype} features (categories: {encoding}{layout})"


if __name__ == "__main__":
    run_stage("featurize", __doc__, featurize)
