"""The `split` config section as typed settings: one frozen dataclass per method.

Each method has its own keys (conf/split/<method>.yaml); a key of another method, or
a misspelt one, is refused by name instead of being ignored, and a value is checked
once here, before any row is read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from reprolab.core.config import number
from reprolab.core.errors import ReprolabError

# OmegaConf's mark of a required value nobody set (`group_column: ???`).
_UNSET = "???"


@dataclass(frozen=True)
class RandomSplit:
    """`method: stratified`: seeded random test rows, stratified by class for a
    classifier (a regression target has no classes: plain random)."""

    test_size: float
    max_test_overlap: float
    method: str = "stratified"


@dataclass(frozen=True)
class TimeSplit:
    """`method: time`: rows whose `data.time_column` is >= `test_from` are the test rows."""

    test_from: int | float | str | datetime.date
    max_test_overlap: float
    method: str = "time"


@dataclass(frozen=True)
class GroupSplit:
    """`method: group`: whole groups of `group_column` on each side."""

    group_column: str
    test_size: float
    max_test_overlap: float
    method: str = "group"


SplitSettings = RandomSplit | TimeSplit | GroupSplit

# Each method's keys, as conf/split/<method>.yaml spells them.
_KEYS: dict[str, tuple[str, ...]] = {
    "stratified": ("method", "test_size", "max_test_overlap"),
    "time": ("method", "test_from", "max_test_overlap"),
    "group": ("method", "group_column", "test_size", "max_test_overlap"),
}


def split_settings(found: Any) -> SplitSettings:
    """The checked `split` section, or one line naming the key at fault."""
    if not isinstance(found, dict):
        raise ReprolabError(f"split: found {found!r}; expected a mapping of settings")
    method = found.get("method")
    if method not in _KEYS:
        raise ReprolabError(
            f"split.method: unknown method {method!r}; expected 'stratified', 'time' or 'group'"
        )
    keys = _KEYS[method]
    unknown = sorted(str(key) for key in found if key not in keys)
    if unknown:
        raise ReprolabError(
            f"split.{unknown[0]}: not a setting of split.method={method}; expected "
            f"{', '.join(keys)}"
        )
    for key in keys:
        if key not in found:
            raise ReprolabError(
                f"split.{key}: missing; split.method={method} needs {', '.join(keys)}"
            )
    overlap = number(found["max_test_overlap"], "split.max_test_overlap", 0.0, 1.0)
    if method == "time":
        return TimeSplit(_test_from(found["test_from"]), overlap)
    test_size = _fraction(found["test_size"])
    if method == "stratified":
        return RandomSplit(test_size, overlap)
    return GroupSplit(_group_column(found["group_column"]), test_size, overlap)


def _fraction(value: Any) -> float:
    test_size = number(value, "split.test_size", 0.0, 1.0)
    if not 0.0 < test_size < 1.0:
        raise ReprolabError(f"split.test_size: found {value!r}; expected a fraction in (0, 1)")
    return test_size


def _test_from(value: Any) -> int | float | str | datetime.date:
    # A number for a numeric time column, a date (YAML reads 2015-01-01 as one) or its
    # text for a date column: which one fits is known only with the column.
    if isinstance(value, bool) or not isinstance(value, int | float | str | datetime.date):
        raise ReprolabError(
            f"split.test_from: found {value!r}; expected a number or a date such as 2015-01-01"
        )
    if value in ("", _UNSET):
        raise ReprolabError(
            "split.test_from: required and not set; expected the first time value of the "
            "test rows (-S split.test_from=...)"
        )
    return value


def _group_column(value: Any) -> str:
    if value in (None, "", _UNSET):
        raise ReprolabError(
            "split.group_column: required and not set; expected the column whose rows "
            "belong together (a person, school or store id): -S split.group_column=<column>"
        )
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ReprolabError(f"split.group_column: found {value!r}; expected a column name")
    # Column names are text (ingest stores them so): a name YAML read as a number means
    # that text.
    return str(value)
