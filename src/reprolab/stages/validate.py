"""validate: settle the schema (declared, pinned or inferred) and check the raw data against it."""

from reprolab.core.shell import run_stage


def validate() -> str:
    import json

    from reprolab.core.config import SOURCE_FORMAT, Paths, get, load_params
    from reprolab.core.files import log, write_json, write_yaml
    from reprolab.data import config_shapes
    from reprolab.data.category_variants import variant_groups, variant_warning
    from reprolab.data.contract import require_valid, rows_with_target, validate_table
    from reprolab.data.parquet_stream import ParquetColumns
    from reprolab.data.schema_inference import (
        effective_schema,
        observed_ranges,
        pinned_schema,
        require_features,
    )

    data = get(load_params(), "data")
    config_shapes.data_section(data)
    data = config_shapes.text_names(data)
    # The table is read a column, or a batch of rows, at a time: never whole.
    table = ParquetColumns(Paths.raw)
    log.info("reading %s (%d rows, %d columns)", Paths.raw, *table.shape)
    dropped = 0
    if data["target"] in table.columns:
        keep = rows_with_target(table[data["target"]], get(data, "missing_target", within="data"))
        if keep is not None:
            dropped = int((~keep).sum())
            table = ParquetColumns(Paths.raw, keep)
            log.info(
                "dropped %d rows with no target %r (data.missing_target: drop)",
                dropped,
                data["target"],
            )
        table.cache(data["target"])
    if data.get("schema_file"):
        schema = pinned_schema(data["schema_file"])
        log.info("schema pinned by %s", data["schema_file"])
    else:
        schema = effective_schema(table, data)
    # The format a CSV was read with, for reading new files the same way (predict, monitor).
    recorded = table.metadata(SOURCE_FORMAT)
    if recorded:
        schema = {**schema, SOURCE_FORMAT: json.loads(recorded)}
    for column, reason in schema["excluded"].items():
        log.info("excluded column %r: %s", column, reason)
    require_features(schema)
    log.info(
        "task %s; target %r; %d numeric and %d categorical features",
        schema["task"],
        schema["target"],
        len(schema["numeric"]),
        len(schema["categorical"]),
    )
    # What training saw of each number: new values outside it are flagged when scored.
    schema = {**schema, "observed_ranges": observed_ranges(table, schema["numeric"])}
    report = {**validate_table(table, table.batches(), schema), "dropped_missing_target": dropped}
    # The classes too: `yes` and `Yes ` would be two classes.
    spelled = [
        *schema["categorical"],
        *([schema["target"]] if schema["task"] == "classification" else []),
    ]
    variants = {c: variant_groups(table[c]) for c in spelled if c in table.columns}
    variants = {column: groups for column, groups in variants.items() if groups}
    for column, groups in variants.items():
        log.warning("warning: %s", variant_warning(column, groups))
    if variants:  # said only when found: the report of clean data keeps its bytes
        report["category_variants"] = variants
    if report.get("duplicate_rows"):
        log.info("%d rows repeat an earlier row (features and target)", report["duplicate_rows"])
    # Both are written either way: after a failure they are what the user reads.
    write_yaml(Paths.schema, schema)
    write_json(Paths.validation_report, report)
    require_valid(str(Paths.raw), report)
    dropped_note = f" ({dropped} rows with no target dropped)" if dropped else ""
    return f"{report['rows']} rows passed every check{dropped_note}"


if __name__ == "__main__":
    run_stage("validate", __doc__, validate)
