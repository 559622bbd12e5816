"""validate: settle the schema (declared, pinned or inferred) and check the raw data against it."""

from reprolab.core.shell import run_stage


def validate() -> str:
    from pathlib import Path

    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.errors import ReprolabError
    from reprolab.core.files import log, read_parquet, read_yaml, write_json, write_yaml
    from reprolab.inference import effective_schema, require_schema_keys
    from reprolab.schema import (
        drop_missing_target,
        duplicate_rows,
        require_valid,
        validate_frame,
    )

    data = get(load_params(), "data")
    policy = data.get("missing_target", "fail")
    frame, dropped = drop_missing_target(read_parquet(Paths.raw), data["target"], policy)
    if dropped:
        log.info(
            "dropped %d rows with no target %r (data.missing_target: drop)", dropped, data["target"]
        )
    if data.get("schema_file"):
        pinned = Path(data["schema_file"])
        if Path("schemas").resolve() not in pinned.resolve().parents:
            raise ReprolabError(
                f"data.schema_file: {pinned} is outside schemas/; expected it "
                "there (validate depends on that folder)"
            )
        schema = require_schema_keys(read_yaml(pinned), str(pinned))
        log.info("schema pinned by %s", data["schema_file"])
    else:
        schema = effective_schema(frame, data)
    for column, reason in schema["excluded"].items():
        log.info("excluded column %r: %s", column, reason)
    log.info(
        "task %s; target %r; %d numeric and %d categorical features",
        schema["task"],
        schema["target"],
        len(schema["numeric"]),
        len(schema["categorical"]),
    )
    report = {
        **validate_frame(frame, schema),
        "dropped_missing_target": dropped,
        "duplicate_rows": duplicate_rows(frame, schema),
    }
    if report["duplicate_rows"]:
        log.info("%d rows repeat an earlier row (features and target)", report["duplicate_rows"])
    # Both are written either way: after a failure they are what the user reads.
    write_yaml(Paths.schema, schema)
    write_json(Paths.validation_report, report)
    require_valid(str(Paths.raw), report)
    dropped_note = f" ({dropped} rows with no target dropped)" if dropped else ""
    return f"{report['rows']} rows passed every check{dropped_note}"


if __name__ == "__main__":
    run_stage("validate", __doc__, validate)
