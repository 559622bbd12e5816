"""ingest: load the configured data source (data.source) into data/raw/ as parquet."""

from reprolab.stages.shell import run_stage


def ingest() -> str:
    from reprolab.config import Paths, get, load_params
    from reprolab.files import log, write_parquet
    from reprolab.sources import load_source

    source = get(load_params(), "data.source")
    frame = load_source(source)
    log.info("read source %s (%d rows, %d columns)", source["kind"], len(frame), frame.shape[1])
    write_parquet(Paths.raw, frame)
    return f"ingested {len(frame)} rows from {source['kind']}"


if __name__ == "__main__":
    run_stage("ingest", __doc__, ingest)
