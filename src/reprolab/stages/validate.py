"""validate: check the raw data against the schema that the data config declares."""

from reprolab.stages.shell import run_stage


def validate() -> str:
    from reprolab.config import Paths, get, load_params
    from reprolab.files import read_parquet, write_json
    from reprolab.schema import require_valid, validate_frame

    data = get(load_params(), "data")
    frame = read_parquet(Paths.raw)
    report = validate_frame(frame, data)
    # The report is written either way: after a failure it is what the user reads.
    write_json(Paths.validation_report, report)
    require_valid(str(Paths.raw), report)
    return f"{report['rows']} rows passed every check"


if __name__ == "__main__":
    run_stage("validate", __doc__, validate)
