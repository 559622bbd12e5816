"""featurize: fit the preprocessor on the train split; write it and the train features."""

from reprolab.core.shell import run_stage


def featurize() -> str:
    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.files import log, read_yaml, write_parquet_batches
    from reprolab.data.columns import feature_columns
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.model.feature_settings import feature_settings
    from reprolab.model.features import (
        build_preprocessor,
        categorical_encoding,
        encoded,
        feature_batches,
        keep_sparse,
        merged_columns,
    )
    from reprolab.model.persistence import save_model

    params = load_params()
    config = feature_settings(params)
    schema = read_yaml(Paths.schema)
    columns, target = feature_columns(schema), schema["target"]
    train = ParquetColumns(Paths.train).frame([*columns, target])
    encoding = categorical_encoding(config, get(params, "model._target_", None))
    cardinalities = [train[c].nunique() for c in schema["categorical"]]
    merged = merged_columns(train, schema["categorical"], config)
    if merged:
        log.warning(
            "warning: every category of %s is rarer than features.categorical.min_frequency "
            "(%s): merged into one, each column is a constant feature",
            merged,
            config.min_frequency,
        )
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
    dtype = config.dtype
    if sparse:
        # A sparse matrix has no parquet form: the file keeps the input columns, and
        # train encodes them with the saved preprocessor, sparse, in memory.
        preprocessor.fit(train[columns])
        features, names = train[columns], columns
    else:
        features = encoded(preprocessor, train[columns], dtype, fit=True)
        names = list(preprocessor.get_feature_names_out())
    labels = train[target]
    del train  # only the encoded matrix and the labels are left to write
    write_parquet_batches(Paths.train_features, feature_batches(features, names, labels))
    save_model(Paths.preprocessor, preprocessor)
    width = len(preprocessor.get_feature_names_out())
    layout = ", sparse: encoded by train" if sparse else ""
    return f"{len(columns)} columns -> {width} {dtype} features (categories: {encoding}{layout})"


if __name__ == "__main__":
    run_stage("featurize", __doc__, featurize)
