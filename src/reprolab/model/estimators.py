"""The estimator, built from the `model` config group, and the inference pipeline."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.pipeline import Pipeline

from reprolab.core.errors import ReprolabError

ESTIMATOR_LIBRARIES = ("sklearn.",)


def build_estimator(model: dict[str, Any], task: str = "classification") -> BaseEstimator:
    """Instantiate the estimator that `model._target_` names, with the other keys as
    arguments, and check that it fits the task."""
    from hydra.errors import InstantiationException  # noqa: PLC0415
    from hydra.utils import instantiate  # noqa: PLC0415

    target = model.get("_target_")
    if not target:
        raise ReprolabError("model._target_: missing; expected the import path of an estimator")
    # Only estimator libraries: `_target_` is imported and called, and only their types
    # can be stored and loaded back (skops, with an explicit list of trusted types).
    if not isinstance(target, str) or not target.startswith(ESTIMATOR_LIBRARIES):
        raise ReprolabError(
            f"model._target_: found {target!r}; expected an estimator class of "
            f"{', '.join(p.rstrip('.') for p in ESTIMATOR_LIBRARIES)}"
        )
    try:
        # Plain lists and dicts, not OmegaConf containers: skops cannot store those.
        estimator = instantiate(model, _convert_="all")
    except InstantiationException as error:
        # Hydra wraps the real cause (TypeError, ImportError) in a multi-line message.
        cause = error.__cause__ or error
        reason = " ".join(line.strip() for line in str(cause).splitlines())
        raise ReprolabError(f"model._target_: cannot instantiate {target!r}: {reason}") from None
    if task == "regression" and not is_regressor(estimator):
        raise ReprolabError(
            f"model._target_: {target!r} is not a regressor but the task is regression; "
            "expected a regression model, e.g. -S model=ridge, random_forest_regressor or "
            "hist_gradient_boosting_regressor"
        )
    if task == "classification" and not (
        is_classifier(estimator) and hasattr(estimator, "predict_proba")
    ):
        raise ReprolabError(
            f"model._target_: {target!r} is not a scikit-learn classifier with predict_proba "
            "but the task is classification"
        )
    if "random_state" in estimator.get_params() and not _is_seed(estimator.random_state):
        raise ReprolabError(
            f"model.random_state: found {estimator.random_state!r}; expected a whole number "
            "(conf/model sets it to ${seed}): without one, training is not reproducible"
        )
    return estimator


def _is_seed(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def use_categorical_codes(estimator: BaseEstimator, mask: list[bool] | None) -> None:
    """Tell an estimator that splits on categories natively which columns are codes."""
    if mask is not None and "categorical_features" in estimator.get_params():
        estimator.set_params(categorical_features=mask)


def fit_estimator(
    estimator: BaseEstimator, features: Any, target: Any, n_jobs: int = -1
) -> BaseEstimator:
    """Fit on at most `n_jobs` cores (-1: all), turning scikit-learn's check of the
    config's values into a user error."""
    from joblib import parallel_config  # noqa: PLC0415
    from sklearn.utils._param_validation import InvalidParameterError  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ReprolabError(f"n_jobs: found {n_jobs!r}; expected -1 (all cores) or a count >= 1")
    # A joblib context, not the estimator's n_jobs parameter: the saved model keeps
    # n_jobs=None and predicts on one core (a forest predicting on several sums its
    # trees in whichever order threads finish, which changes the last bits), so the
    # model file is the same whatever n_jobs. Only for estimators with an n_jobs of
    # their own: histogram gradient boosting would otherwise fit its internal
    # ColumnTransformer in worker processes, which changes object sharing in the file.
    # threadpool_limits covers OpenMP (histogram gradient boosting) and BLAS.
    jobs = n_jobs if "n_jobs" in estimator.get_params() else None
    try:
        with parallel_config(n_jobs=jobs), threadpool_limits(None if n_jobs == -1 else n_jobs):
            return estimator.fit(features, target)
    except InvalidParameterError as error:
        raise ReprolabError(f"model: {error}") from None
    except TypeError as error:
        if "sparse" not in str(error).lower():
            raise
        raise ReprolabError(
            f"model._target_: {type(estimator).__name__} does not accept the sparse one-hot "
            "features; expected dense ones: raise features.max_dense_mib, set "
            "features.categorical.min_frequency, or use features.categorical.encoding=ordinal"
        ) from None
    finally:
        # Histogram gradient boosting records the thread count it binned with (a
        # private _BinMapper); the trees are the same on any count, so drop it.
        if hasattr(estimator, "_bin_mapper"):
            estimator._bin_mapper.set_params(n_threads=None)


def build_inference_pipeline(preprocessor: Any, estimator: BaseEstimator) -> Pipeline:
    """Join the fitted preprocessor and fitted estimator into the one artifact we ship."""
    return Pipeline([("preprocess", preprocessor), ("model", estimator)])
