"""The estimator, built from the `model` config group, and the inference pipeline."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.pipeline import Pipeline

from reprolab.core.errors import ReprolabError
from reprolab.model.calibration import estimator_arguments
from reprolab.model.libraries import LIBRARIES, library_of

# The libraries whose estimators `model._target_` may name (model/libraries.py): their
# types, and only theirs, are in persistence.TRUSTED_TYPES.
ESTIMATOR_LIBRARIES = tuple(lib.prefix for lib in LIBRARIES)


class EncodedLabels(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """A classifier fitted on class codes 0..k-1 that answers in the original labels.

    XGBoost's classifier accepts only codes (not the penguins' species names); the
    codes are the sorted labels' positions, as scikit-learn's own classifiers order
    `classes_`, so probabilities have the same columns whatever the model."""

    def __init__(self, estimator: BaseEstimator):
        self.estimator = estimator

    def fit(self, features: Any, labels: Any, **fit_params: Any) -> EncodedLabels:
        self.classes_, codes = np.unique(np.asarray(labels), return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(features, codes, **fit_params)
        return self

    def predict_proba(self, features: Any) -> np.ndarray:
        return self.estimator_.predict_proba(features)

    def predict(self, features: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]


def unwrapped(estimator: BaseEstimator) -> BaseEstimator:
    """The configured model itself: what EncodedLabels wraps, or the estimator. (Not
    any `estimator` attribute: a random forest's is its template tree.)"""
    return estimator.estimator if isinstance(estimator, EncodedLabels) else estimator


def _needs_label_codes(estimator: BaseEstimator) -> bool:
    library = library_of(estimator)
    return library is not None and library.label_codes and is_classifier(estimator)


def build_estimator(model: dict[str, Any], task: str = "classification") -> BaseEstimator:
    """Instantiate the estimator that `model._target_` names, with the other keys as
    arguments (but calibration's: model/calibration.py), and check that it fits the task."""
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
    found = _imported(target)
    # Only a class that is an estimator is called, never a function of those libraries.
    if found is not None and not (isinstance(found, type) and issubclass(found, BaseEstimator)):
        raise ReprolabError(
            f"model._target_: found {target!r}, which is not an estimator class; expected "
            "e.g. sklearn.linear_model.LogisticRegression or lightgbm.LGBMClassifier"
        )
    try:
        # Plain lists and dicts, not OmegaConf containers: skops cannot store those.
        estimator = instantiate(estimator_arguments(model), _convert_="all")
    except InstantiationException as error:
        # Hydra wraps the real cause (TypeError, ImportError) in a multi-line message.
        cause = error.__cause__ or error
        reason = " ".join(line.strip() for line in str(cause).splitlines())
        raise ReprolabError(f"model._target_: cannot instantiate {target!r}: {reason}") from None
    if task == "regression" and not is_regressor(estimator):
        raise ReprolabError(
            f"model._target_: {target!r} is not a regressor but the task is regression; "
            "expected a regression model, e.g. -S model=ridge, random_forest_regressor, "
            "hist_gradient_boosting_regressor, lightgbm_regressor or xgboost_regressor"
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
    return EncodedLabels(estimator) if _needs_label_codes(estimator) else estimator


def _imported(target: str) -> Any:
    """The object `module.name` names, or None (instantiate then says why, in one line).
    Not hydra's get_object: it logs a multi-line error of its own first."""
    module, _, name = target.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None


def _is_seed(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def use_categorical_codes(estimator: BaseEstimator, mask: list[bool] | None) -> dict[str, Any]:
    """Tell an estimator that splits on categories natively which columns are codes;
    returns the arguments for its `fit` that say so (LightGBM takes them there)."""
    inner = unwrapped(estimator)
    library = library_of(inner)
    if mask is None or library is None:
        return {}
    return library.tell_categories(inner, mask)


def fit_estimator(
    estimator: BaseEstimator,
    features: Any,
    target: Any,
    n_jobs: int = -1,
    fit_params: dict[str, Any] | None = None,
) -> BaseEstimator:
    """Fit on at most `n_jobs` cores (-1: all), turning scikit-learn's check of the
    config's values into a user error. `features`: a matrix, or a ChunkedMatrix of the
    feature file (LightGBM and XGBoost, out of core: model/chunked_fit.py)."""
    from joblib import parallel_config  # noqa: PLC0415
    from sklearn.utils._param_validation import InvalidParameterError  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    from reprolab.model.chunked_fit import ChunkedMatrix, fit_from_chunks  # noqa: PLC0415

    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ReprolabError(f"n_jobs: found {n_jobs!r}; expected -1 (all cores) or a count >= 1")
    # A joblib context, not the estimator's n_jobs parameter: the saved model keeps
    # n_jobs=None and predicts on one core (a forest predicting on several sums its
    # trees in whichever order threads finish, which changes the last bits), so the
    # model file is the same whatever n_jobs. Only for estimators with an n_jobs of
    # their own: histogram gradient boosting would otherwise fit its internal
    # ColumnTransformer in worker processes, which changes object sharing in the file.
    # threadpool_limits covers OpenMP (histogram gradient boosting, LightGBM and XGBoost,
    # whose own n_jobs stays unset for the same reason) and BLAS.
    jobs = n_jobs if _own_n_jobs(estimator) else None
    for booster in booster_models(estimator):
        # LightGBM resolves an unset n_jobs to every core, ignoring the limits above.
        booster.set_params(n_jobs=n_jobs)
    library = library_of(unwrapped(estimator))
    fatal = library.fatal_lines if library else None
    quiet = _without_fatal_lines(fatal) if fatal else contextlib.nullcontext()
    try:
        with (
            parallel_config(n_jobs=jobs),
            threadpool_limits(None if n_jobs == -1 else n_jobs),
            quiet,
        ):
            if isinstance(features, ChunkedMatrix):
                return fit_from_chunks(estimator, features, target, fit_params or {})
            return estimator.fit(features, target, **(fit_params or {}))
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
    except Exception as error:
        # LightGBM and XGBoost check settings in C++ at fit time: their errors (and
        # their ValueErrors) about the config become one line naming the model.
        if library is None or not library.native_errors:
            raise
        raise ReprolabError(f"model: {_library_reason(error)}") from None
    finally:
        # Histogram gradient boosting records the thread count it binned with (a
        # private _BinMapper); the trees are the same on any count, so drop it.
        if hasattr(estimator, "_bin_mapper"):
            estimator._bin_mapper.set_params(n_threads=None)
        _forget_thread_count(estimator)


def fit_dtype(estimator: BaseEstimator) -> str | None:
    """The precision to read the training matrix in, for the smallest peak of the fit;
    None: as stored (float32 by default). Histogram gradient boosting copies its input
    to float64: given float64, no copy. But told which columns are categories
    (`use_categorical_codes`), it re-encodes them through a ColumnTransformer, which
    copies the matrix twice whatever its precision: float32 input is then smaller."""
    from sklearn.ensemble import (  # noqa: PLC0415
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    inner = unwrapped(estimator)
    if not isinstance(inner, HistGradientBoostingClassifier | HistGradientBoostingRegressor):
        return None
    categories = inner.get_params()["categorical_features"]
    with_codes = isinstance(categories, list | np.ndarray) and any(categories)
    return None if with_codes else "float64"


def booster_models(estimator: BaseEstimator) -> list[BaseEstimator]:
    """The models in `estimator` (itself, or EncodedLabels' template and fitted copy)
    whose library counts its threads itself (LightGBM, XGBoost)."""
    models = [estimator]
    if isinstance(estimator, EncodedLabels):
        models = [estimator.estimator, getattr(estimator, "estimator_", None)]
    return [
        m
        for m in models
        if m is not None and (lib := library_of(m)) is not None and lib.threads == "own"
    ]


def _forget_thread_count(estimator: BaseEstimator) -> None:
    """Keep the thread count of the fit out of the model file, as for scikit-learn's
    models: the trees are the same on any count (checked for 1 and 2), so the file is
    the same on any machine (each library's `forget_threads`)."""
    for booster in booster_models(estimator):
        booster.set_params(n_jobs=None)
        fitted = getattr(booster, "_Booster", None)
        library = library_of(booster)
        if fitted is not None and library is not None:
            library.forget_threads(fitted)


@contextlib.contextmanager
def _without_fatal_lines(prefix: str) -> Iterator[None]:
    """LightGBM's C++ code prints `[LightGBM] [Fatal] <reason>` on the process's stderr,
    then raises the same reason (which becomes our one-line error): hold stderr during
    the fit and pass on every line but those (and blank ones: it adds one)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if line.strip() and not line.startswith(prefix):
                    sys.stderr.write(line)


def _library_reason(error: Exception) -> str:
    """The first meaningful line of a LightGBM/XGBoost error, without XGBoost's
    `[12:00:00] /path/file.cc:123: ` prefix."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = re.sub(r"^\[[\d:]+\] [^ ]+:\d+: ", "", lines[0] if lines else type(error).__name__)
    return f"{type(error).__name__}: {first[:300]}"


def _own_n_jobs(estimator: BaseEstimator) -> bool:
    """Whether the estimator parallelises with joblib (scikit-learn's n_jobs)."""
    library = library_of(estimator)
    return (
        "n_jobs" in estimator.get_params() and library is not None and library.threads == "joblib"
    )


def build_inference_pipeline(preprocessor: Any, estimator: BaseEstimator) -> Pipeline:
    """Join the fitted preprocessor and fitted estimator into the one artifact we ship."""
    return Pipeline([("preprocess", preprocessor), ("model", estimator)])
