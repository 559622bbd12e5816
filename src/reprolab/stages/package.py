"""package: write the model card (JSON and Markdown) next to the metrics."""

from reprolab.core.shell import run_stage


def package() -> str:
    import json
    import os
    from pathlib import Path

    from reprolab.core.config import PARAMS_FILE, Paths, load_params
    from reprolab.core.files import log, read_yaml, write_bytes, write_json
    from reprolab.core.lockfile import file_md5
    from reprolab.model.card import (
        code_version,
        model_card,
        parquet_summary,
        render_markdown,
        stage_code_files,
    )
    from reprolab.model.persistence import describe_saved_pipeline
    from reprolab.workflow.compose import composed_text, differences

    params = load_params()
    # `dvc repro` runs whatever params.yaml says; say when that is not what conf/ gives.
    # Not in `dvc exp run` (DVC names the experiment in DVC_EXP_NAME): there params.yaml
    # is conf/ with the run's -S overrides, the documented way to experiment.
    composed = composed_text(Path())
    if not os.environ.get("DVC_EXP_NAME") and PARAMS_FILE.read_text(encoding="utf-8") != composed:
        log.info(
            "note: params.yaml is not the composition of conf/ (edited by hand, or left by an "
            "experiment; `make params` recomposes it): %s",
            "; ".join(differences(PARAMS_FILE.read_text(encoding="utf-8"), composed)),
        )
    versions = {
        "data": file_md5(Paths.raw),
        "code": code_version(stage_code_files(read_yaml(Path("dvc.yaml")), "package")),
    }
    schema = read_yaml(Paths.schema)
    raw = parquet_summary(Paths.raw, schema.get("time_column"))
    log.info("read %s footer (%d rows, %d columns)", Paths.raw, raw["rows"], len(raw["dtypes"]))
    card = model_card(
        describe_saved_pipeline(Paths.model),
        schema,
        raw,
        {k: params[k] for k in ("data", "split", "features", "model", "engine", "seed")},
        json.loads(Paths.metrics.read_text()),
        versions,
    )
    write_json(Paths.card_json, card)
    write_bytes(Paths.card_markdown, render_markdown(card).encode("utf-8"))
    return f"model card for {card['model']['estimator']} (data {versions['data'][:8]})"


if __name__ == "__main__":
    run_stage("package", __doc__, package)
