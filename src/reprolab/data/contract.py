"""The data contract: a pandera schema built from the data config, and its report.

Every check runs (pandera's lazy mode), so one run lists every violation: which
column, which check and how many rows fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from reprolab.core.errors import ReprolabError
from reprolab.data.columns import model_columns, row_keys


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
    """The checks that each row passes or fails on its own, as the `data` config
    section declares them: they run batch by batch. The checks of the whole table
    (row count, unique ids) are `table_failures`."""
    contract = data.get("schema") or {}
    ranges = contract.get("ranges") or {}
    categories = contract.get("categories") or {}
    required = set(contract.get("required") or [])
    target = data["target"]

    columns: dict[str, pa.Column] = {}
    if target is not None:  # None: rows to predict, which carry no label
        target_checks = [pa.Check.isin(contract["classes"])] if contract.get("classes") else []
        if data.get("task") == "regression":  # numbers, and finite: inf fails every fit
            target_checks = _numeric_checks(target, {})
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
        columns[data["id_column"]] = pa.Column(nullable=False)
    return pa.DataFrameSchema(columns)


def table_failures(table: Any, data: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    """The checks no single batch can decide: enough rows, and ids unique across all."""
    failures = []
    min_rows = int((data.get("schema") or {}).get("min_rows", 1))
    if rows < min_rows:
        failures.append(_failure("<table>", f"min_rows[{min_rows}]", 1, ["False"]))
    id_column = data.get("id_column")
    if id_column and id_column in table.columns:
        ids = table[id_column]
        repeated = ids[ids.duplicated(keep=False).to_numpy()]
        if len(repeated):
            examples = [repr(value) for value in repeated.head(3).tolist()]
            failures.append(_failure(id_column, "field_uniqueness", len(repeated), examples))
    return failures


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


def monitored_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The training schema as it applies to production batches being monitored: the
    features' types only (numbers are finite numbers, dates are dates). Values outside
    the trained ranges, missing values and unseen categories are what monitoring
    measures, so they pass here and are reported as drift."""
    rows = input_schema(schema)
    return {**rows, "schema": {**rows["schema"], "ranges": {}, "required": []}}


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
    failures: list[dict[str, Any]] = []
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


def rows_with_target(target: pd.Series, policy: str) -> np.ndarray | None:
    """Rows without a target cannot train or score a model: the mask of rows to keep
    (`data.missing_target: drop`; the caller says how many went), or None to keep every
    row, so that validation fails on them (`fail`) or because none is missing."""
    if policy not in MISSING_TARGET_POLICIES:
        raise ReprolabError(
            f"data.missing_target: found {policy!r}; expected one of {list(MISSING_TARGET_POLICIES)}"
        )
    present = target.notna().to_numpy()
    return None if policy == "fail" or present.all() else present


def _duplicates(keys: list[np.ndarray]) -> int:
    """Keys equal to an earlier key; by sorting (np.unique's hashing takes 12 s for 10M)."""
    ordered = np.sort(np.concatenate(keys))
    return int(np.count_nonzero(ordered[1:] == ordered[:-1]))


def row_failures(batches: Iterable[pd.DataFrame], data: dict[str, Any]) -> dict[str, Any]:
    """Run the per-row checks on each batch: every failure (counts summed over the
    batches, the first three examples kept), the rows, missing values per column and,
    with a target, the rows that repeat an earlier row on the features and target
    (after a split they can sit in train and test at once; counted by row hashes)."""
    schema = build_schema(data)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    rows, keys = 0, []
    missing: Counter[str] = Counter()
    for batch in batches:
        rows += len(batch)
        missing.update({str(column): int(n) for column, n in batch.isna().sum().items()})
        present = [c for c in model_columns(data) if c in batch.columns]
        if data.get("target") is not None and present:
            keys.append(row_keys(batch, present))
        try:
            schema.validate(batch, lazy=True)
        except pa.errors.SchemaErrors as errors:
            for failure in summarise_failures(errors.failure_cases):
                key = (failure["column"], failure["check"])
                if key not in found:
                    found[key] = failure
                elif failure["check"] != "column_in_dataframe":  # the same in every batch
                    found[key]["failing"] += failure["failing"]
                    found[key]["examples"] = (found[key]["examples"] + failure["examples"])[:3]
    return {
        "failures": list(found.values()),
        "rows": rows,
        "missing_values": {c: n for c, n in missing.items() if n},
        **({"duplicate_rows": _duplicates(keys)} if keys else {}),
    }


def validate_table(table: Any, batches: Iterable[pd.DataFrame], data: dict[str, Any]) -> dict:
    """Check a table against the declared schema: the per-row checks on `batches` (its
    rows, batch by batch), the whole-table and feature checks on `table` (a frame, or
    anything that gives its columns one at a time)."""
    report = row_failures(batches, data)
    failures = sorted(
        report["failures"] + table_failures(table, data, report["rows"]),
        key=lambda f: (f["column"], f["check"]),
    )
    failures += feature_failures(table, data)
    return {**report, "passed": not failures, "columns": table.shape[1], "failures": failures}


def validate_frame(frame: pd.DataFrame, data: dict[str, Any]) -> dict[str, Any]:
    """Check `frame` against the declared schema; return a report of what was found."""
    return validate_table(frame, [frame], data)


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
