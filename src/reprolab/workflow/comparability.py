"""Are two revisions' metrics comparable, and if not, a fair comparison on shared rows.

Metrics from different test sets (another data version, split method or seed) cannot
be compared: a PASS between them means nothing. `dvc.lock` records the md5 of each
revision's test split, so equal hashes mean the very same rows. When they differ but
the task and target are the same, both models are scored here, with this checkout's
evaluation code, on the champion's test rows that neither model was trained on.
The base's model and test rows come from the DVC cache or remote (`dvc.api`), checked
against the base's dvc.lock; the functions above the fetching ones are pure.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from reprolab.core.config import Paths
from reprolab.core.errors import ReprolabError
from reprolab.core.files import read_yaml
from reprolab.core.lockfile import LOCK_FILE, file_md5, locked_hashes, require_locked
from reprolab.data.columns import row_keys
from reprolab.workflow.vcs import call, git

# Fewer shared rows than this and a comparison on them would be noise.
MIN_SHARED_ROWS = 20


@dataclass(frozen=True)
class EvaluationData:
    """What a revision's metrics were measured on."""

    test_md5: str | None
    model_md5: str | None
    target: str | None
    task: str | None
    test_rows: Any
    # The model's classes (its per-class metrics) and those with no test rows.
    classes: tuple[str, ...] = ()
    absent_classes: tuple[str, ...] = ()


def evaluation_data(
    lock_text: str, schema: dict[str, Any], metrics: dict[str, Any]
) -> EvaluationData:
    hashes = locked_hashes(lock_text)
    return EvaluationData(
        test_md5=hashes.get(Paths.test.as_posix()),
        model_md5=hashes.get(Paths.model.as_posix()),
        target=schema.get("target"),
        task=schema.get("task"),
        test_rows=metrics.get("test_rows"),
        classes=tuple(sorted(metrics.get("per_class") or {})),
        absent_classes=tuple(metrics.get("absent_classes") or ()),
    )


def differences(base: EvaluationData, head: EvaluationData) -> tuple[list[str], bool]:
    """Why the two revisions' metrics are not comparable (empty: they are), and whether
    scoring both models on shared rows can still compare them (same target and task)."""
    reasons, rescuable = [], True
    for field, what in (("target", "target"), ("task", "task")):
        old, new = getattr(base, field), getattr(head, field)
        if old != new:
            reasons.append(f"the {what} differs ({old!r} vs {new!r})")
            rescuable = False
    for field, what in (
        ("classes", "model's classes"),
        ("absent_classes", "classes absent from the test set"),
    ):
        old, new = getattr(base, field), getattr(head, field)
        if old != new:
            reasons.append(f"the {what} differ ({list(old)} vs {list(new)})")
            rescuable = False
    if base.test_md5 is None or head.test_md5 is None:
        reasons.append("a revision's dvc.lock records no test split")
        rescuable = False
    elif base.test_md5 != head.test_md5:
        rows = (
            f"{base.test_rows} vs {head.test_rows} rows"
            if base.test_rows != head.test_rows
            else f"both {head.test_rows} rows, other ones"
        )
        reasons.append(f"the test sets differ ({rows}; data version, split or seed changed)")
    return reasons, rescuable


def shared_rows(base_test: pd.DataFrame, head_train: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The champion's test rows that are not in the challenger's training rows (a
    challenger that trained on them would be flattered), and how many were left out."""
    columns = [c for c in base_test.columns if c in head_train.columns]
    if not columns:
        raise ReprolabError("the two revisions' tables share no column; expected the same data")
    keep = ~np.isin(row_keys(base_test, columns), row_keys(head_train, columns))
    return base_test[keep].reset_index(drop=True), int((~keep).sum())


def score(model: Any, schema: dict[str, Any], rows: pd.DataFrame, source: str) -> dict[str, Any]:
    """The metrics of `model` on `rows`, with this checkout's evaluation code."""
    from reprolab.data.columns import feature_columns  # noqa: PLC0415
    from reprolab.model import evaluation  # noqa: PLC0415

    missing = [c for c in [*feature_columns(schema), schema["target"]] if c not in rows.columns]
    if missing:
        raise ReprolabError(f"{source}: the shared rows lack column(s) {missing}")
    x, y = rows[feature_columns(schema)], rows[schema["target"]]
    if schema["task"] == "regression":
        return evaluation.regression_metrics(y, model.predict(x))
    return evaluation.classification_metrics(y, model.predict_proba(x), list(model.classes_))


def _show(revision: str, path: Path) -> str | None:
    result = call("git", "show", f"{revision}:{path.as_posix()}", check=False)
    return result.stdout if result.returncode == 0 else None


def base_data(base: str) -> EvaluationData:
    git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    schema = yaml.safe_load(_show(base, Paths.schema) or "{}") or {}
    metrics = json.loads(_show(base, Paths.metrics) or "{}")
    return evaluation_data(_show(base, LOCK_FILE) or "", schema, metrics)


def head_data() -> EvaluationData:
    metrics = json.loads(Paths.metrics.read_text()) if Paths.metrics.exists() else {}
    schema = read_yaml(Paths.schema) if Paths.schema.exists() else {}
    lock = LOCK_FILE.read_text(encoding="utf-8") if LOCK_FILE.exists() else ""
    return evaluation_data(lock, schema, metrics)


def _base_file(base: str, path: Path, md5: str | None, tmp: Path) -> Path:
    """`path` as of revision `base`, from the DVC cache or remote, checked against the
    md5 that base's dvc.lock records."""
    import dvc.api  # noqa: PLC0415

    try:
        data = dvc.api.read(path.as_posix(), rev=base, mode="rb")
    except Exception as error:  # DVC raises many types for a missing file or remote
        raise ReprolabError(
            f"{path} at {base}: not available ({type(error).__name__}); expected it in the "
            "DVC cache or remote (`dvc fetch` it, or `make pull` on that commit)"
        ) from None
    target = tmp / path.name
    target.write_bytes(data)
    if file_md5(target) != md5:
        raise ReprolabError(f"{path} at {base}: md5 differs from its dvc.lock; expected {md5}")
    return target


def score_on_shared_rows(base: str, recorded: EvaluationData) -> tuple[dict, dict, str]:
    """Both models' metrics on base's test rows that the challenger did not train on."""
    from reprolab.core.files import read_parquet  # noqa: PLC0415
    from reprolab.model.persistence import load_model  # noqa: PLC0415

    require_locked([Paths.model, Paths.train, Paths.schema])
    with tempfile.TemporaryDirectory() as tmp:
        base_test = pd.read_parquet(_base_file(base, Paths.test, recorded.test_md5, Path(tmp)))
        base_model = load_model(_base_file(base, Paths.model, recorded.model_md5, Path(tmp)))
    rows, left_out = shared_rows(base_test, read_parquet(Paths.train))
    if len(rows) < MIN_SHARED_ROWS:
        raise ReprolabError(
            f"only {len(rows)} of {base}'s {len(base_test)} test rows are not in this "
            f"branch's training data; expected at least {MIN_SHARED_ROWS} to compare on"
        )
    base_schema = yaml.safe_load(_show(base, Paths.schema) or "{}")
    old = score(base_model, base_schema, rows, f"{base}'s model")
    new = score(load_model(Paths.model), read_yaml(Paths.schema), rows, "this branch's model")
    note = (
        f"both models scored here on the {len(rows)} rows of {base}'s test set that this "
        f"branch did not train on ({left_out} left out)"
    )
    return old, new, note
