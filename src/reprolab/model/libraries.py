"""The estimator libraries `model._target_` may name, one entry each: the one place to
add a library.

An entry says what the rest of the code needs to know of a library:
- `trusted_types`: the types its fitted models are made of (persistence.TRUSTED_TYPES
  is the common types plus these; a test fits every conf/model option and tells which
  type is missing);
- `native_categorical`: the classes (as `_target_` names them) that split on category
  codes natively, and `tell_categories`, how such a model is told which columns are
  codes (a parameter, or the arguments of its `fit`);
- `threads`: how its fit is kept to n_jobs cores. `joblib` (scikit-learn): a joblib
  context, the model's own n_jobs left unset; `own`: the model's n_jobs is set for the
  fit and unset after it, with `forget_threads` taking the count out of the fitted
  model (the trees are the same on any count, so the file is too);
- `label_codes`: its classifiers take class codes 0..k-1 only (wrapped in
  estimators.EncodedLabels);
- `native_errors`: it checks settings in native code at fit time, raising errors that
  become one line naming the model; `fatal_lines`: the prefix of lines its native code
  prints on stderr before raising (held back: the error says it once);
- `data_parallel`: how it fits one model over several Ray Train workers (engine=ray,
  engine/ray_fit.py), or None: it cannot;
- `from_chunks`: the function ("module.function") that trains its booster from the
  feature file a chunk of rows at a time (engine.out_of_core, model/chunked_fit.py),
  or None: it fits in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Estimator = Any


def _no_categories(model: Estimator, mask: list[bool]) -> dict[str, Any]:
    return {}


def _sklearn_categories(model: Estimator, mask: list[bool]) -> dict[str, Any]:
    if "categorical_features" in model.get_params():  # histogram gradient boosting
        model.set_params(categorical_features=mask)
    return {}


def _lightgbm_categories(model: Estimator, mask: list[bool]) -> dict[str, Any]:
    return {"categorical_feature": [i for i, is_code in enumerate(mask) if is_code]}


def _xgboost_categories(model: Estimator, mask: list[bool]) -> dict[str, Any]:
    model.set_params(enable_categorical=True, feature_types=["c" if m else "q" for m in mask])
    return {}


def _lightgbm_forget_threads(booster: Any) -> None:
    """LightGBM writes `[num_threads: N]` into its model text (0: what an unset count gives)."""
    text = re.sub(r"\[num_threads: -?\d+\]", "[num_threads: 0]", booster.model_to_string())
    booster.model_from_string(text)
    booster.params.pop("num_threads", None)


def _xgboost_forget_threads(booster: Any) -> None:
    """XGBoost writes `nthread` into its saved configuration (0: unset)."""
    booster.set_param({"nthread": 0})


def _nothing(booster: Any) -> None:
    return None


# The run's network settings a data-parallel LightGBM fit leaves in its model: ports
# and addresses differ on every run, so the file would too.
_LIGHTGBM_NETWORK = ("machines", "local_listen_port", "time_out", "num_machines", "tree_learner")


def _lightgbm_join(model: Estimator, network: dict[str, Any], report: Any) -> dict[str, Any]:
    """LightGBM's data-parallel mode over the network Ray Train set up; fit arguments."""
    model.set_params(tree_learner="data", **network)

    def callback(env: Any) -> None:
        report(env.iteration + 1, env.end_iteration)

    return {"callbacks": [callback]} if report else {}


def _lightgbm_leave(model: Estimator) -> None:
    """Take the run's network out of the fitted model, as lightgbm.dask does. The model
    text keeps `[tree_learner: data]`: how it was fitted."""
    booster = model.booster_
    booster.free_network()
    text = booster.model_to_string()
    text = re.sub(r"\[machines: [^\]]*\]", "[machines: ]", text)
    text = re.sub(r"\[local_listen_port: \d+\]", "[local_listen_port: 12400]", text)
    text = re.sub(r"\[time_out: \d+\]", "[time_out: 120]", text)
    text = re.sub(r"\[num_machines: \d+\]", "[num_machines: 1]", text)
    booster.model_from_string(text)
    for key in _LIGHTGBM_NETWORK:
        booster.params.pop(key, None)
        model._other_params.pop(key, None)
        if key in vars(model):
            delattr(model, key)


def _xgboost_join(model: Estimator, network: dict[str, Any], report: Any) -> dict[str, Any]:
    """XGBoost needs no setting: Ray Train runs the fit inside its collective."""
    if report:
        from xgboost.callback import TrainingCallback  # noqa: PLC0415

        total = model.n_estimators

        class Rounds(TrainingCallback):
            def after_iteration(self, booster: Any, epoch: int, evals_log: Any) -> bool:
                report(epoch + 1, total)
                return False

        model.set_params(callbacks=[Rounds()])
    return {}


def _xgboost_leave(model: Estimator) -> None:
    model.set_params(callbacks=None)  # not a trusted type of a model file


@dataclass(frozen=True)
class DataParallel:
    """A library's fit over Ray Train workers (engine=ray)."""

    trainer: str  # Ray Train's trainer class, "module.Class"
    # The network settings Ray Train made for this worker ("module.function"), if any.
    network: str | None
    # Before the fit, on each worker: set the model up for it; `report(done, total)`
    # (rank 0 only, else None) hears of boosting rounds. Returns arguments for `fit`.
    join: Callable[[Estimator, dict[str, Any], Any], dict[str, Any]]
    # After the fit: what the run's network or callbacks left in the model, taken out.
    leave: Callable[[Estimator], None]


@dataclass(frozen=True)
class EstimatorLibrary:
    name: str
    trusted_types: tuple[str, ...]
    native_categorical: tuple[str, ...] = ()
    tell_categories: Callable[[Estimator, list[bool]], dict[str, Any]] = _no_categories
    threads: str = "joblib"  # "joblib" | "own"
    forget_threads: Callable[[Any], None] = _nothing
    label_codes: bool = False
    native_errors: bool = False
    fatal_lines: str | None = None
    data_parallel: DataParallel | None = None
    from_chunks: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.name}."


LIBRARIES = (
    EstimatorLibrary(
        name="sklearn",
        trusted_types=(
            "sklearn._loss._loss.CyHalfBinomialLoss",
            "sklearn._loss._loss.CyHalfMultinomialLoss",
            "sklearn._loss._loss.CyHalfSquaredError",
            "sklearn._loss.link.IdentityLink",
            "sklearn._loss.link.Interval",
            "sklearn._loss.link.LogitLink",
            "sklearn._loss.link.MultinomialLogit",
            "sklearn._loss.loss.HalfBinomialLoss",
            "sklearn._loss.loss.HalfMultinomialLoss",
            "sklearn._loss.loss.HalfSquaredError",
            "sklearn.ensemble._forest.RandomForestClassifier",
            "sklearn.ensemble._forest.RandomForestRegressor",
            "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
            "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
            "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
            "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
            "sklearn.linear_model._logistic.LogisticRegression",
            "sklearn.linear_model._ridge.Ridge",
            "sklearn.tree._classes.DecisionTreeClassifier",
            "sklearn.tree._classes.DecisionTreeRegressor",
            "sklearn.tree._tree.Tree",
            # Histogram gradient boosting with categorical_features keeps a
            # FunctionTransformer of partial(check_array): skops checks the partial's
            # function against the trusted types too.
            "functools.partial",
            "sklearn.preprocessing._function_transformer.FunctionTransformer",
            "sklearn.utils.validation.check_array",
        ),
        native_categorical=(
            "sklearn.ensemble.HistGradientBoostingClassifier",
            "sklearn.ensemble.HistGradientBoostingRegressor",
        ),
        tell_categories=_sklearn_categories,
    ),
    EstimatorLibrary(
        name="lightgbm",
        # The scikit-learn wrappers and their boosters, which LightGBM rebuilds from
        # its own model text.
        trusted_types=(
            "collections.OrderedDict",
            "collections.defaultdict",
            "lightgbm.basic.Booster",
            "lightgbm.sklearn.LGBMClassifier",
            "lightgbm.sklearn.LGBMRegressor",
        ),
        native_categorical=("lightgbm.LGBMClassifier", "lightgbm.LGBMRegressor"),
        tell_categories=_lightgbm_categories,
        threads="own",
        forget_threads=_lightgbm_forget_threads,
        native_errors=True,
        fatal_lines="[LightGBM] [Fatal]",
        data_parallel=DataParallel(
            trainer="ray.train.lightgbm.LightGBMTrainer",
            network="ray.train.lightgbm.get_network_params",
            join=_lightgbm_join,
            leave=_lightgbm_leave,
        ),
        from_chunks="reprolab.model.chunked_fit.lightgbm_from_chunks",
    ),
    EstimatorLibrary(
        name="xgboost",
        # The wrappers and their boosters, rebuilt from XGBoost's binary model format.
        trusted_types=(
            "builtins.bytearray",
            "xgboost.core.Booster",
            "xgboost.sklearn.XGBClassifier",
            "xgboost.sklearn.XGBRegressor",
        ),
        native_categorical=("xgboost.XGBClassifier", "xgboost.XGBRegressor"),
        tell_categories=_xgboost_categories,
        threads="own",
        forget_threads=_xgboost_forget_threads,
        label_codes=True,
        native_errors=True,
        data_parallel=DataParallel(
            trainer="ray.train.xgboost.XGBoostTrainer",
            network=None,
            join=_xgboost_join,
            leave=_xgboost_leave,
        ),
        from_chunks="reprolab.model.chunked_fit.xgboost_from_chunks",
    ),
)


def library_of(model: Estimator | str) -> EstimatorLibrary | None:
    """The entry of the library a model (or a `_target_` name) comes from, or None."""
    name = model if isinstance(model, str) else type(model).__module__
    return next((lib for lib in LIBRARIES if name.startswith(lib.prefix)), None)


def library_types() -> tuple[str, ...]:
    return tuple(name for lib in LIBRARIES for name in lib.trusted_types)


def native_categorical() -> tuple[str, ...]:
    return tuple(name for lib in LIBRARIES for name in lib.native_categorical)


def library_by_name(name: str) -> EstimatorLibrary:
    """The entry called `name` (as EstimatorLibrary.name spells it)."""
    return next(lib for lib in LIBRARIES if lib.name == name)
