"""split: divide the validated data into train and test sets (split.method), seeded."""

from reprolab.core.shell import run_stage


def split() -> str:
    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.files import log, read_yaml
    from reprolab.data.columns import model_columns
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.data.split_settings import split_settings
    from reprolab.data.splitting import (
        describe_split,
        require_classes_to_learn,
        test_rows,
        time_index_hint,
        write_split,
    )

    params = load_params()
    settings = split_settings(get(params, "split"))
    schema = read_yaml(Paths.schema)
    # Only the target (and time) column is read whole; rows are streamed batch by batch.
    table = ParquetColumns(Paths.raw)
    # Validation passed, so rows without a target are ones data.missing_target drops.
    labelled = table[schema["target"]].notna().to_numpy()
    if not labelled.all():
        log.info("dropped %d rows with no target %r", int((~labelled).sum()), schema["target"])
        table = ParquetColumns(Paths.raw, labelled)
    hint = time_index_hint(settings, schema)
    if hint:
        log.info(hint)
    is_test = test_rows(table, schema, settings, get(params, "seed"))
    if schema["task"] == "classification":
        require_classes_to_learn(table[schema["target"]], is_test)
    train, test, seen = write_split(
        table,
        is_test,
        (Paths.train, Paths.test),
        model_columns(schema),
        settings.max_test_overlap,
    )
    return (
        f"{train} train rows, {test} test rows ({describe_split(settings, schema)}); "
        f"{seen} test rows equal a training row"
    )


if __name__ == "__main__":
    run_stage("split", __doc__, split)
