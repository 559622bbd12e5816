"""Category spellings that are likely one category: `Strong Democrat`, `strong democrat`,
`'Strong Democrat '` and `Strong Democat` would otherwise be four categories, and the
model four unrelated features, without a word.

Two kinds are found: spellings equal once case, spaces and punctuation are set aside
(`normalized`), and rare spellings one or two edits away from a much more frequent one
(likely typos). `validate` reports both; with `data.categories_normalize: true`, ingest
folds the case and space variants into the most frequent spelling, and says which.
Typos and punctuation are never folded: only the user knows `Dr.` from `Dr`.
"""

from __future__ import annotations

import re
import string
from typing import Any

import pandas as pd

# A rare spelling is a likely typo of another only if that one is this many times as frequent.
TYPO_FREQUENCY_RATIO = 10
# Shorter values are codes (S/M/L, A1/A2), where one edit is another category.
TYPO_MIN_LENGTH = 4
# Columns with more distinct values than this are free text or ids: not checked.
MAX_DISTINCT = 2000
# Spellings listed per column in a warning (the report lists every group).
SHOWN = 4

_CASE = "case, spaces or punctuation"
_SPACES = re.compile(r"\s+")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def spaced(value: str) -> str:
    """The spelling with case and spaces set aside (what folding may merge)."""
    return _SPACES.sub(" ", value).strip().casefold()


def normalized(value: str) -> str:
    """The spelling with case, spaces and punctuation set aside (what is reported)."""
    return spaced(value.translate(_PUNCTUATION))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _text_counts(series: pd.Series) -> pd.Series | None:
    counts = series.dropna().value_counts()
    counts = counts[counts > 0]  # a category column lists its unused categories too
    # Ties in the order of the values themselves: the same data, the same report.
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    if counts.empty or len(counts) > MAX_DISTINCT:
        return None
    if not all(isinstance(value, str) for value in counts.index):
        return None
    return counts


def variant_groups(series: pd.Series) -> list[dict[str, Any]]:
    """Groups of spellings of `series` that are likely one category, most frequent first:
    {"values": [...], "counts": [...], "kind": "case, spaces or punctuation" | "typo"}."""
    counts = _text_counts(series)
    if counts is None:
        return []
    groups: dict[str, list[str]] = {}
    for value in counts.index:  # most frequent first
        groups.setdefault(normalized(value), []).append(value)
    found = [
        {
            "values": values,
            "counts": [int(counts[v]) for v in values],
            "kind": _CASE,
        }
        for values in groups.values()
        if len(values) > 1
    ]
    return found + _typos(counts, groups)


def _typos(counts: pd.Series, groups: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Rare spellings one edit (two for long values) from a much more frequent one."""
    totals = {key: int(counts[values].sum()) for key, values in groups.items()}
    keys = sorted(totals, key=lambda k: -totals[k])
    found = []
    for rare in keys:
        if len(rare) < TYPO_MIN_LENGTH:
            continue
        limit = 2 if len(rare) >= 10 else 1
        for common in keys:
            if totals[common] < TYPO_FREQUENCY_RATIO * totals[rare]:
                break  # sorted by frequency: none further is frequent enough
            if common == rare or any(c.isdigit() for c in _changed(rare, common)):
                continue  # `Model 3` and `Model 5` are two models
            if edit_distance(rare, common, limit) <= limit:
                values = [groups[common][0], groups[rare][0]]
                found.append(
                    {"values": values, "counts": [totals[common], totals[rare]], "kind": "typo"}
                )
                break
    return found


def _changed(a: str, b: str) -> set[str]:
    """Characters in one spelling and not the other (a cheap look at what an edit touches)."""
    return set(a) ^ set(b)


def variant_warning(column: str, groups: list[dict[str, Any]]) -> str:
    """One line for a column's likely variants, naming the fix."""
    shown = "; ".join(
        ", ".join(
            f"{v!r} ({n})" for v, n in list(zip(g["values"], g["counts"], strict=True))[:SHOWN]
        )
        for g in groups[:SHOWN]
    )
    more = f" and {len(groups) - SHOWN} more group(s)" if len(groups) > SHOWN else ""
    return (
        f"column {column!r}: spellings that are likely one category: {shown}{more} (all in "
        "reports/validation.json); fix the data, or set data.categories_normalize=true to "
        "fold case and space variants"
    )


def fold_case_and_space(series: pd.Series) -> tuple[pd.Series, list[str]]:
    """`series` with spellings equal but for case and spaces folded into the most
    frequent of them; and what was folded, in words. Other values are unchanged."""
    counts = _text_counts(series)
    if counts is None:
        return series, []
    keep: dict[str, str] = {}
    folded: dict[str, str] = {}
    for value in counts.index:  # the most frequent spelling of each group comes first
        key = spaced(value)
        if key in keep:
            folded[value] = keep[key]
        else:
            keep[key] = value
    if not folded:
        return series, []
    notes = [
        f"folded {value!r} ({int(counts[value])} rows) into {into!r}"
        for value, into in folded.items()
    ]
    return series.replace(folded), notes
