"""Search spaces (`conf/search/<name>.yaml`): what Optuna may propose, checked before any
trial starts.

    trials: 20                # how many trials in all (TRIALS= on the command line wins)
    parallel: 1               # trials at a time (MODE=ray only; local runs one at a time)
    timeout: null             # seconds after which no new trial starts
    metric: null              # default: ranking.primary_metric, resolved for the task
    direction: null           # default: ranking.direction
    fixed: [model=random_forest]   # overrides every trial gets
    params:
      model.n_estimators: {type: int, low: 20, high: 200, step: 20}
      model.max_depth: {type: int, low: 2, high: 12}
      model.max_features: {type: categorical, choices: [sqrt, log2]}
      model.ccp_alpha: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
      model: {type: categorical, choices: [random_forest, hist_gradient_boosting]}  # a group

Each error names the file and the key, what was found and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from reprolab.core.config import CONF_DIR
from reprolab.core.errors import ReprolabError

SEARCH_DIR = CONF_DIR / "search"
TOP_KEYS = {"trials", "parallel", "timeout", "metric", "direction", "fixed", "params"}
PARAM_KEYS = {
    "float": {"type", "low", "high", "log"},
    "int": {"type", "low", "high", "step", "log"},
    "categorical": {"type", "choices"},
}


@dataclass(frozen=True)
class Space:
    name: str
    trials: int
    parallel: int
    timeout: float | None
    metric: str | None
    direction: str | None
    fixed: tuple[str, ...]
    params: dict[str, dict[str, Any]]


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: Any, where: str, low: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ReprolabError(f"{where}: found {value!r}; expected a whole number >= {low}")
    return value


def _check_param(key: str, spec: Any, where: str, conf_dir: Path) -> dict[str, Any]:
    if not isinstance(spec, dict) or spec.get("type") not in PARAM_KEYS:
        raise ReprolabError(
            f"{where}: found {spec!r}; expected a mapping with type: float, int or categorical"
        )
    unknown = sorted(set(spec) - PARAM_KEYS[spec["type"]])
    if unknown:
        raise ReprolabError(
            f"{where}: unknown key(s) {unknown}; expected some of {sorted(PARAM_KEYS[spec['type']])}"
        )
    if spec["type"] == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ReprolabError(f"{where}.choices: found {choices!r}; expected a non-empty list")
        if "." not in key and (conf_dir / key).is_dir():  # a config group: its options
            options = sorted(p.stem for p in (conf_dir / key).glob("*.yaml"))
            missing = [c for c in choices if c not in options]
            if missing:
                raise ReprolabError(
                    f"{where}.choices: {missing} not option(s) of the config group {key!r}; "
                    f"expected some of {options}"
                )
        return spec
    low, high = spec.get("low"), spec.get("high")
    if not (_number(low) and _number(high)) or low > high:
        raise ReprolabError(f"{where}: low={low!r}, high={high!r}; expected numbers, low <= high")
    if spec["type"] == "int" and not (isinstance(low, int) and isinstance(high, int)):
        raise ReprolabError(f"{where}: low={low!r}, high={high!r}; expected whole numbers")
    if spec.get("log") and low <= 0:
        raise ReprolabError(f"{where}: log scale with low={low!r}; expected low > 0")
    if "step" in spec and spec["type"] == "int":
        _count(spec["step"], f"{where}.step")
        if spec.get("log"):
            raise ReprolabError(f"{where}: step with log; expected one or the other")
    return spec


def load_space(name: str, trials: int | None = None, root: Path = Path()) -> Space:
    """The space `conf/search/<name>.yaml`, checked; `trials` overrides its own."""
    path = root / SEARCH_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / SEARCH_DIR).glob("*.yaml"))
        raise ReprolabError(f"{path}: no search space {name!r}; expected one of {known}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ReprolabError(f"{path}: found {type(raw).__name__}; expected a mapping")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise ReprolabError(
            f"{path}: unknown key(s) {unknown}; expected some of {sorted(TOP_KEYS)}"
        )
    params = raw.get("params")
    if not isinstance(params, dict) or not params:
        raise ReprolabError(f"{path}: params: found {params!r}; expected a mapping of key: spec")
    checked = {
        str(k): _check_param(str(k), v, f"{path}: params.{k}", root / CONF_DIR)
        for k, v in params.items()
    }
    fixed = raw.get("fixed") or []
    if not isinstance(fixed, list) or not all(isinstance(f, str) and "=" in f for f in fixed):
        raise ReprolabError(f"{path}: fixed: found {fixed!r}; expected a list of key=value")
    timeout = raw.get("timeout")
    if timeout is not None and (not _number(timeout) or timeout <= 0):
        raise ReprolabError(f"{path}: timeout: found {timeout!r}; expected seconds > 0, or null")
    direction = raw.get("direction")
    if direction not in (None, "maximize", "minimize"):
        raise ReprolabError(f"{path}: direction: found {direction!r}; expected maximize|minimize")
    metric = raw.get("metric")
    if metric is not None and not isinstance(metric, str):
        raise ReprolabError(f"{path}: metric: found {metric!r}; expected a metric name")
    return Space(
        name=name,
        trials=_count(trials if trials is not None else raw.get("trials", 20), f"{path}: trials"),
        parallel=_count(raw.get("parallel", 1), f"{path}: parallel"),
        timeout=timeout,
        metric=metric,
        direction=direction,
        fixed=tuple(fixed),
        params=checked,
    )


def suggest(trial: Any, space: Space) -> list[str]:
    """Ask Optuna's trial for every parameter; return the run's `-S` overrides."""
    overrides = list(space.fixed)
    for key, spec in space.params.items():
        if spec["type"] == "categorical":
            value = trial.suggest_categorical(key, spec["choices"])
        elif spec["type"] == "int":
            value = trial.suggest_int(
                key, spec["low"], spec["high"], step=spec.get("step", 1), log=bool(spec.get("log"))
            )
        else:
            value = trial.suggest_float(key, spec["low"], spec["high"], log=bool(spec.get("log")))
        overrides.append(f"{key}={_hydra_value(value)}")
    return overrides


def _hydra_value(value: Any) -> str:
    """A value as Hydra's override grammar reads it back (null, true, 0.001)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)
