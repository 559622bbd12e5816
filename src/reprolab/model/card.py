"""The model card: what the shipped model is, what it was trained on, and how it scored.

Every field comes from the pipeline's inputs and outputs, never from the clock or the
host, so the card is reproduced to the byte like every other output. (The git revision
is not in it: a file committed with its results cannot name its own commit, and a
rebuild on another checkout would differ. The service's /metadata adds the revision
it is serving from.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def parquet_summary(path: Path, time_column: str | None) -> dict[str, Any]:
    """Rows, column dtypes (as pandas reads them) and the latest time value of a parquet
    file, from its footer and one column: the card never loads the whole table."""
    import pyarrow.compute as pc  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    parquet = pq.ParquetFile(path)
    dtypes = parquet.schema_arrow.empty_table().to_pandas().dtypes
    latest = None
    if time_column and time_column in dtypes:
        latest = pc.max(parquet.read(columns=[time_column]).column(0)).as_py()
    return {
        "rows": parquet.metadata.num_rows,
        "dtypes": {str(k): str(v) for k, v in dtypes.items()},
        "latest": latest,
    }


def stage_code_files(pipeline: dict[str, Any], stage: str) -> list[Path]:
    """The Python files a stage's `deps` in dvc.yaml name under src/ (folders expanded)."""
    files: set[Path] = set()
    for dep in pipeline["stages"][stage]["deps"]:
        path = Path(dep)
        if dep.startswith("src/"):
            files |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return sorted(files)


def code_version(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_card(
    estimator: tuple[str, list[str]],
    schema: dict[str, Any],
    raw: dict[str, Any],
    params: dict[str, Any],
    metrics: dict[str, Any],
    versions: dict[str, str],
) -> dict[str, Any]:
    """The card as a JSON-ready mapping. `raw` summarises the raw table (parquet_summary)."""
    contract = schema.get("schema") or {}
    features = []
    for role in ("numeric", "categorical", "date_features"):
        for column in schema.get(role) or []:
            entry = {
                "name": column,
                "role": role.removesuffix("_features"),
                "dtype": raw["dtypes"][column],
            }
            if role == "categorical":
                entry["categories"] = (contract.get("categories") or {}).get(column)
            if role == "date_features":  # the model reads these parts of the date
                entry["parts"] = list(params["features"]["date_parts"])
            features.append(entry)
    time_column = schema.get("time_column")
    latest = raw["latest"]
    return {
        "model": {
            "estimator": estimator[0],
            "task": schema["task"],
            "target": schema["target"],
            "classes": estimator[1],
        },
        "data": {
            "version_md5": versions["data"],
            "rows": raw["rows"],
            "latest_time_value": None if latest is None else str(latest),
            "time_column": time_column,
        },
        "code_version": versions["code"],
        "input_schema": {"features": features, "excluded": schema["excluded"]},
        "parameters": params,
        "metrics": metrics,
    }


def render_markdown(card: dict[str, Any]) -> str:
    m, d = card["model"], card["data"]
    lines = [
        f"# Model card: {m['estimator']} ({m['task']}, target `{m['target']}`)",
        "",
        f"- Data: {d['rows']} rows, DVC md5 `{d['version_md5']}`"
        + (f", latest `{d['time_column']}` {d['latest_time_value']}" if d["time_column"] else ""),
        f"- Code version (hash of the pipeline's source): `{card['code_version']}`",
        f"- Classes: {', '.join(m['classes'])}" if m["classes"] else "- Regression",
        "",
        "## Metrics (test split)",
        "",
        *(f"- {k}: {v}" for k, v in card["metrics"].items() if not isinstance(v, dict)),
        "",
        "## Input schema",
        "",
        "| feature | role | dtype | categories (or date parts) |",
        "|---|---|---|---|",
        *(
            f"| {f['name']} | {f['role']} | {f['dtype']} | {_values(f)} |"
            for f in card["input_schema"]["features"]
        ),
        "",
        "Excluded: "
        + (", ".join(f"{k} ({v})" for k, v in card["input_schema"]["excluded"].items()) or "none"),
    ]
    return "\n".join(lines) + "\n"


def _values(feature: dict[str, Any]) -> str:
    """A feature's categories, or the calendar parts a date feature gives the model."""
    if feature.get("parts"):
        return "parts: " + ", ".join(feature["parts"])
    return ", ".join(map(str, feature.get("categories") or []))
