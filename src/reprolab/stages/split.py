"""split: divide the validated data into train and test sets (split.method), seeded."""

from reprolab.core.shell import run_stage


def split() -> str:
    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.files import log, read_parquet, read_yaml, write_parquet
    from reprolab.data.splitting import (
        count_test_rows_in_train,
        require_small_overlap,
        split_dataset,
    )

    params = load_params()
    schema = read_yaml(Paths.schema)
    frame = read_parquet(Paths.raw)
    # Validation passed, so rows without a target are ones data.missing_target drops.
    labelled = frame[schema["target"]].notna().to_numpy()
    if not labelled.all():
        log.info("dropped %d rows with no target %r", int((~labelled).sum()), schema["target"])
        frame = frame[labelled].reset_index(drop=True)
    train, test = split_dataset(frame, schema, get(params, "split"), get(params, "seed"))
    columns = [
        *schema["numeric"],
        *schema["categorical"],
        *(schema.get("date_features") or []),
        schema["target"],
    ]
    seen = count_test_rows_in_train(train, test, columns)
    require_small_overlap(seen, len(test), get(params, "split.max_test_overlap", 0.5))
    write_parquet(Paths.train, train)
    write_parquet(Paths.test, test)
    return (
        f"{len(train)} train rows, {len(test)} test rows ({get(params, 'split.method')}); "
        f"{seen} test rows equal a training row"
    )


if __name__ == "__main__":
    run_stage("split", __doc__, split)
