"""train: fit the configured model (conf/model) and save the whole inference pipeline."""

from reprolab.core.shell import release_freed_memory, run_stage


def train() -> str:
    import numpy as np
    from sklearn.base import is_classifier

    from reprolab.core.config import Paths, get, load_params
    from reprolab.core.errors import ReprolabError
    from reprolab.core.files import log, read_yaml
    from reprolab.data.columns import values_array
    from reprolab.data.parquet_stream import BATCH_ROWS, ParquetColumns
    from reprolab.engine.settings import LocalEngine, RayEngine, engine_settings
    from reprolab.model.calibration import CalibrationSettings, fit_calibrated
    from reprolab.model.chunked_fit import CodedLabels, fits_from_chunks
    from reprolab.model.estimators import (
        build_estimator,
        build_inference_pipeline,
        fit_dtype,
        fit_estimator,
        unwrapped,
        use_categorical_codes,
    )
    from reprolab.model.features import native_categorical_mask, training_matrix
    from reprolab.model.persistence import load_model, save_model

    schema = read_yaml(Paths.schema)
    target = schema["target"]
    params = load_params()
    estimator = build_estimator(get(params, "model"), schema["task"])
    calibration = CalibrationSettings.from_model(get(params, "model"), schema["task"])
    engine = engine_settings(params)
    if isinstance(engine, RayEngine):
        from reprolab.engine.ray_fit import fit_on_ray, require_ray_model

        require_ray_model(estimator)  # before any row is read
        if calibration.enabled:
            raise ReprolabError(
                f"model.calibration: found {calibration.method!r} with engine=ray; expected "
                "none (the Ray fit uses every training row; calibration holds some out)"
            )
    preprocessor = load_model(Paths.preprocessor)
    table = ParquetColumns(Paths.train_features)
    if target not in table.columns:
        raise ReprolabError(f"{Paths.train_features}: column {target!r} (the target) not found")
    fit_params = use_categorical_codes(estimator, native_categorical_mask(preprocessor))
    # Read a column at a time, in the precision that makes the fit's peak smallest; or
    # a chunk of rows at a time by the library itself, out of core.
    chunk_rows = None
    if isinstance(engine, LocalEngine) and engine.out_of_core and fits_from_chunks(estimator):
        if calibration.enabled:
            log.info("engine.out_of_core: not used, model.calibration holds rows out in memory")
        else:
            chunk_rows = engine.chunk_rows
    elif isinstance(engine, RayEngine):
        chunk_rows = BATCH_ROWS  # each rank's share is read from the file on its own
    # Out of core, a class code per row rather than a reference: held through the fit.
    out_of_core = chunk_rows is not None and isinstance(engine, LocalEngine)
    coded = CodedLabels.of(table[target]) if out_of_core and is_classifier(estimator) else None
    labels = coded if coded is not None else values_array(table[target])
    matrix = training_matrix(table, preprocessor, target, fit_dtype(estimator), chunk_rows)
    name = type(unwrapped(estimator)).__name__
    log.info("fitting %s on %d rows x %d features", name, *matrix.shape)
    release_freed_memory()  # the fit's copies of the matrix are the stage's peak
    if isinstance(engine, RayEngine):
        assert isinstance(labels, np.ndarray)  # codes only out of core
        estimator = fit_on_ray(estimator, matrix, labels, fit_params, engine)
    elif calibration.enabled:

        def fit(model, rows, rows_labels):
            fit_estimator(model, rows, rows_labels, get(params, "n_jobs"), fit_params)

        assert isinstance(labels, np.ndarray)  # out of core is off when calibrating
        estimator = fit_calibrated(estimator, matrix, labels, calibration, get(params, "seed"), fit)
    else:
        fit_estimator(estimator, matrix, labels, get(params, "n_jobs"), fit_params)
    save_model(Paths.model, build_inference_pipeline(preprocessor, estimator))
    return f"trained {name} ({schema['task']})"


if __name__ == "__main__":
    run_stage("train", __doc__, train)
