"""The data contract: a pandera schema built from the data config, and its report.

Every check runs (pandera's lazy mode), so one run lists every violation: which
column, which check and how many rows fail.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from reprolab.core.errors import ReprolabError


def _as_number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def _numeric_checks(column: str, ranges: dict[str, list[float]]) -> list[pa.Check]:
    checks = [
        pa.Check(lambda s: _as_number(s).notna() | s.isna(), name="is_number"),
        pa.Check(lambda s: ~np.isinf(_as_number(s).astype("float64")), name="is_finite"),
    ]
    if column in ranges:
        low, high = ranges[column]
        checks.append(
            pa.Check(
                lambda s: _as_number(s).between(low, high) | s.isna(),
                name=f"in_range[{low}, {high}]",
            )
        )
    return checks


def _is_date() -> pa.Check:
    return pa.Check(
        lambda s: pd.to_datetime(s, errors="coerce", format="mixed").notna() | s.isna(),
        name="is_date",
    )


def build_schema(data: dict[str, Any]) -> pa.DataFrameSchema:
    """Build the schema that the `data` config section declares."""
    contract = data.get("schema") or {}
    ranges = contract.get("ranges") or {}
    categories = contract.get("categories") or {}
    required = set(contract.get("required") or [])
    target = data["target"]

    columns: dict[str, pa.Column] = {}
    if target is not None:  # None: rows to predict, which carry no label
        target_checks = [pa.Check.isin(contract["classes"])] if contract.get("classes") else []
        columns[target] = pa.Column(nullable=False, checks=target_checks)
    numeric = list(data.get("numeric") or [])
    if data.get("time_column") and data.get("time_kind") == "date":
        columns[data["time_column"]] = pa.Column(nullable=False, checks=[_is_date()])
    elif data.get("time_column"):
        numeric.append(data["time_column"])
        required.add(data["time_column"])
    for column in data.get("date_features") or []:
        columns[column] = pa.Column(nullable=column not in required, checks=[_is_date()])
    for column in numeric:
        columns[column] = pa.Column(
            nullable=column not in required, checks=_numeric_checks(column, ranges)
        )
    for column in data.get("categorical") or []:
        checks = [pa.Check.isin(categories[column])] if column in categories else []
        columns[column] = pa.Column(nullable=column not in required, checks=checks)
    if data.get("id_column"):
        columns[data["id_column"]] = pa.Column(nullable=False, unique=True)

    min_rows = int(contract.get("min_rows", 1))
    frame_checks = [pa.Check(lambda df: len(df) >= min_rows, name=f"min_rows[{min_rows}]")]
    return pa.DataFrameSchema(columns, checks=frame_checks)


def input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The training schema as it applies to rows to predict: the features only, any
    number of rows, and categories unseen in training allowed (the encoder ignores them)."""
    features = {
        *(schema.get("numeric") or []),
        *(schema.get("categorical") or []),
        *(schema.get("date_features") or []),
    }
    contract = dict(schema.get("schema") or {})
    contract.update(
        min_rows=1,
        categories={},
        classes=None,
        required=[c for c in contract.get("required") or [] if c in features],
    )
    return {**schema, "target": None, "time_column": None, "id_column": None, "schema": contract}


def summarise_failures(failure_cases: pd.DataFrame) -> list[dict[str, Any]]:
    """Collapse pandera's one-row-per-failure table to one entry per (column, check)."""
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = {}
    for case in failure_cases.to_dict("records"):
        column = case["column"]
        if case["check"] == "column_in_dataframe":
            column = case["failure_case"]
        key = (str(column) if column is not None else "<table>", str(case["check"]))
        counts[key] += 1
        seen = examples.setdefault(key, [])
        if len(seen) < 3 and case["check"] != "column_in_dataframe":
            seen.append(repr(case["failure_case"]))
    return [
        {
            "column": column,
            "check": check,
            "failing": counts[column, check],
            "examples": examples[column, check],
        }
        for column, check in sorted(counts)
    ]


def _failure(column: str, check: str, failing: int, examples: list[str] | None = None) -> dict:
    return {"column": column, "check": check, "failing": failing, "examples": examples or []}


def feature_failures(frame: pd.DataFrame, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What pandera's per-value checks cannot see: features that are empty, leak the
    target or identify the row, and classes too small to split."""
    from reprolab.data.schema_inference import is_id_like  # noqa: PLC0415

    target = data["target"]
    failures = []
    if target not in frame.columns:
        return failures
    for column in [*(data.get("numeric") or []), *(data.get("categorical") or [])]:
        if column not in frame.columns:
            continue
        series = frame[column]
        if series.isna().all():
            failures.append(_failure(column, "not_all_missing", len(series)))
        elif series.equals(frame[target]):
            failures.append(_failure(column, "not_a_copy_of_the_target", len(series)))
        elif column == data.get("id_column") or is_id_like(series):
            failures.append(_failure(column, "not_a_row_id", len(series)))
    if data.get("task") == "classification":
        counts = frame[target].value_counts()
        small = counts[counts < 2]
        if not small.empty:
            failures.append(
                _failure(
                    target, "class_has_2_rows", int(small.sum()), [repr(v) for v in small.index[:3]]
                )
            )
    return failures


MISSING_TARGET_POLICIES = ("drop", "fail")


def drop_missing_target(frame: pd.DataFrame, target: str, policy: str) -> tuple[pd.DataFrame, int]:
    """Rows without a target cannot train or score a model: drop them (and say how many)
    or keep them so that validation fails on them, as `data.missing_target` says."""
    if policy not in MISSING_TARGET_POLICIES:
        raise ReprolabError(
            f"data.missing_target: found {policy!r}; expected one of {list(MISSING_TARGET_POLICIES)}"
        )
    if target not in frame.columns or policy == "fail":
        return frame, 0
    missing = frame[target].isna()
    if not missing.any():
        return frame, 0
    return frame[~missing.to_numpy()].reset_index(drop=True), int(missing.sum())


def duplicate_rows(frame: pd.DataFrame, schema: dict[str, Any]) -> int:
    """Rows equal to an earlier row on the features and target: after a split, such
    rows can sit in train and test at once."""
    columns = [
        *schema["numeric"],
        *schema["categorical"],
        *(schema.get("date_features") or []),
        schema["target"],
    ]
    present = [c for c in columns if c in frame.columns]
    return int(frame.duplicated(subset=present).sum()) if present else 0


def validate_frame(frame: pd.DataFrame, data: dict[str, Any]) -> dict[str, Any]:
    """Check `frame` against the declared schema; return a report of what was found."""
    failures: list[dict[str, Any]] = []
    try:
        build_schema(data).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = summarise_failures(errors.failure_cases)
    failures += feature_failures(frame, data)
    return {
        "passed": not failures,
        "rows": len(frame),
        "columns": frame.shape[1],
        "missing_values": {col: int(n) for col, n in frame.isna().sum().items() if n},
        "failures": failures,
    }


def describe_failures(source: str, report: dict[str, Any]) -> str:
    """The user-facing message for a failed validation report."""
    lines = [f"{source}: {len(report['failures'])} schema check(s) failed:"]
    for failure in report["failures"]:
        where = f"column '{failure['column']}'"
        examples = f" (e.g. {', '.join(failure['examples'])})" if failure["examples"] else ""
        lines.append(
            f"  - {where}, check {failure['check']}: {failure['failing']} failing{examples}"
        )
    return "\n".join(lines)


def require_valid(source: str, report: dict[str, Any]) -> None:
    if not report["passed"]:
        raise ReprolabError(describe_failures(source, report))
