"""The one loader of params and the one place for paths.

Stages run from the repository root (DVC runs them there), so every path here is
relative to it. `dvc.yaml` names the same paths; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reprolab.core.errors import ReprolabError

PARAMS_FILE = Path("params.yaml")
PIPELINE_FILE = Path("dvc.yaml")
LOCK_FILE = Path("dvc.lock")
# Users' data files, versioned by DVC (`dvc add data/external/<file>`): ingest depends
# on the whole folder, so a new version of a file reruns the pipeline.
EXTERNAL_DIR = Path("data/external")
# Pinned schemas (`data.schema_file`): validate depends on the whole folder.
SCHEMAS_DIR = Path("schemas")
# The PR report and its plot images (`make report`), not pipeline outputs.
PR_REPORT = Path("reports/pr_report.md")
PR_PLOTS = Path("reports/pr_plots")
# The page template that makes `dvc plots show/diff` render offline (`make install`).
OFFLINE_PLOTS_TEMPLATE = Path(".dvc/offline_plots.html")
# Production batches that the `monitor` stage compares with the training data.
PRODUCTION_DIR = Path("data/production")
CONF_DIR = Path("conf")
# Where a table read from CSV carries the format it was read with (frame.attrs), and
# the key under which ingest keeps it in the raw table's metadata and validate in
# reports/schema.yaml: batch prediction and the monitor read new files the same way.
SOURCE_FORMAT = "source_format"
# What `dvc exp run` and `make promote` rewrite in the workspace, and `make reset` restores.
PIPELINE_STATE = ("conf", "params.yaml", "dvc.lock", "metrics", "plots", "reports")


class Paths:
    """Inputs and outputs of every stage, named after the stage that writes them."""

    raw = Path("data/raw/dataset.parquet")
    validation_report = Path("reports/validation.json")
    schema = Path("reports/schema.yaml")
    train = Path("data/interim/train.parquet")
    test = Path("data/interim/test.parquet")
    train_features = Path("data/processed/train_features.parquet")
    preprocessor = Path("models/preprocessor.skops")
    model = Path("models/model.skops")
    metrics = Path("metrics/evaluate.json")
    confusion = Path("plots/confusion_matrix.json")
    roc = Path("plots/roc.json")
    precision_recall = Path("plots/precision_recall.json")
    predicted_vs_actual = Path("plots/predicted_vs_actual.json")
    residuals = Path("plots/residuals.json")
    reliability = Path("plots/reliability.json")
    card_json = Path("reports/model_card.json")
    card_markdown = Path("reports/model_card.md")
    monitor_metrics = Path("metrics/monitor.json")
    drift = Path("plots/drift.json")
    performance_estimates = Path("plots/performance_estimates.json")
    monitor_report = Path("reports/monitor.md")


# Every output of the pipeline (dvc.yaml's outs, metrics and plots; a test keeps them equal).
PIPELINE_OUTPUTS = tuple(sorted(v for k, v in vars(Paths).items() if not k.startswith("_")))


_MISSING = object()


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Read the composed parameters (`params.yaml`)."""
    import yaml  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReprolabError(
            f"{path}: file not found; expected the composed config (run `make params`)"
        ) from None
    try:
        params = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ReprolabError(
            f"{path}: not valid YAML{where}: {getattr(error, 'problem', None) or error}; "
            "expected the composition of conf/ (run `make params`; never edit it by hand)"
        ) from None
    if not isinstance(params, dict):
        raise ReprolabError(
            f"{path}: expected a mapping of sections, found {type(params).__name__}"
        )
    return params


def get(params: dict[str, Any], key: str, default: Any = _MISSING, within: str = "") -> Any:
    """Look up a dotted key such as `data.target`, naming the key when it is absent.
    `within`: the section `params` is (`features`), so that the message names the whole
    key. Defaults belong in conf/, not here: a key the code needs is looked up without."""
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not _MISSING:
                return default
            whole = f"{within}.{key}" if within else key
            raise ReprolabError(
                f"{PARAMS_FILE}: missing key '{whole}'; expected it in the composed config "
                f"(check conf/ and run `make params`)"
            )
        node = node[part]
    return node


def number(value: Any, key: str, low: float | None = None, high: float | None = None) -> float:
    """A config value that must be a number (within [low, high]), or one line naming the
    key, what was found and what was expected."""
    if low is not None and high is not None:
        bounds = f" in [{low}, {high}]"
    elif low is not None:
        bounds = f" >= {low}"
    else:
        bounds = ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReprolabError(f"{key}: found {value!r}; expected a number{bounds}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ReprolabError(f"{key}: found {value!r}; expected a number{bounds}")
    return float(value)


def section(params: dict[str, Any], key: str, fields: Iterable[str]) -> dict[str, Any]:
    """The section `key` of params, every one of `fields` present and no other key: a
    misspelt key (`serve.max_record`) would otherwise be ignored without a word, and
    the section's typed settings would hold the default of conf/ instead."""
    found = get(params, key)
    if not isinstance(found, dict):
        raise ReprolabError(f"{key}: found {found!r}; expected a mapping of settings")
    expected = list(fields)
    unknown = sorted(str(name) for name in found if name not in expected)
    if unknown:
        raise ReprolabError(
            f"{key}.{unknown[0]}: not a setting of {key}; expected one of {', '.join(expected)}"
        )
    for name in expected:
        get(found, name, within=key)
    return found


def whole(value: Any, key: str, low: int = 1) -> int:
    """A config value that must be a whole number >= low, or one line naming the key."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ReprolabError(f"{key}: found {value!r}; expected a whole number >= {low}")
    return value


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out
