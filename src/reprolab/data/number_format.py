"""Numbers in CSV text: decimal and thousands separators, missing-value markers.

A `;`-separated file with decimal commas (`1,5`), thousands separators (`1,234.5`)
or `?` for a missing value would otherwise load its numeric columns as text, which
inference then excludes or treats as categories: the model trains without them and
nothing says so. Here every text column is checked against the file's number format
(declared in `data.source`, or sniffed from values only one format can read):

- a column whose values all read as numbers becomes numeric;
- a column that is mostly numbers plus a few missing markers (`?`, `-`, `n/a`) becomes
  numeric with those tokens as missing values, and the log says so;
- a column that is mostly numbers with other values is named in an error: a silent
  category would be a wrong result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from reprolab.core.errors import ReprolabError

# Share of a column's values that must read as numbers for it to count as numeric.
MOSTLY = 0.9
# Tokens that may stand for "missing" in a numeric column: punctuation only (`?`, `-`,
# `--`, `.`) or one of these words; any other text in a numeric column is an error.
MISSING_WORDS = {"na", "n/a", "n.a.", "nan", "null", "none", "missing", "unknown", "nd", "n.d."}
MAX_MARKERS = 3


def is_missing_marker(token: str) -> bool:
    return not any(ch.isalnum() for ch in token) or token.strip().lower() in MISSING_WORDS


_EXPONENT = r"(?:[eE][+-]?\d+)?"


@dataclass(frozen=True)
class NumberFormat:
    decimal: str = "."
    thousands: str | None = None

    def pattern(self) -> re.Pattern[str]:
        dec = re.escape(self.decimal)
        if self.thousands:
            grouped = rf"\d{{1,3}}(?:{re.escape(self.thousands)}\d{{3}})+"
            whole = rf"(?:\d+|{grouped})"
        else:
            whole = r"\d+"
        return re.compile(rf"^[+-]?(?:{whole}(?:{dec}\d*)?|{dec}\d+){_EXPONENT}$")

    def to_numbers(self, values: pd.Series) -> pd.Series:
        text = values.str.strip()
        if self.thousands:
            text = text.str.replace(self.thousands, "", regex=False)
        if self.decimal != ".":
            text = text.str.replace(self.decimal, ".", regex=False)
        return pd.to_numeric(text)


# Values only one convention reads: `1,5` / `1.234,5` (decimal comma) and `1.25` /
# `1,234.5` (decimal point). `1,500` or `1.500` alone say nothing.
_COMMA_DECIMAL = re.compile(r"^[+-]?(?:\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:\.\d{3})+,\d+)$")
_POINT_DECIMAL = re.compile(r"^[+-]?(?:\d+\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:,\d{3})+\.\d+)$")


def sniff_format(columns: list[pd.Series], source: str) -> NumberFormat:
    """The number format the values of `columns` show, refusing a file that shows both."""
    comma = point = 0
    for values in columns:
        sample = values.dropna().astype(str).str.strip().head(2000)
        comma += int(sample.str.match(_COMMA_DECIMAL).sum())
        point += int(sample.str.match(_POINT_DECIMAL).sum())
    if comma and point:
        raise ReprolabError(
            f"{source}: numbers written both with decimal commas ({comma} values) and decimal "
            f"points ({point}); expected one format: set data.source.decimal (and "
            "data.source.thousands)"
        )
    if comma:
        return NumberFormat(decimal=",", thousands=".")
    return NumberFormat(decimal=".", thousands=",")


# Units written next to numbers: `12%`, `$1,234`, `1 234 €`. A column of them is
# numbers (read without the unit, and said), not a category per value.
UNITS = ("%", "$", "€", "£", "¥")
_UNIT = re.compile(r"^([+-]?)\s*(?:[%$€£¥]\s*)?([+-]?)(.*?)\s*(?:[%$€£¥])?$")


def strip_unit(values: pd.Series) -> tuple[str | None, pd.Series]:
    """The unit most of `values` carry (one of UNITS, as prefix or suffix) and the values
    without it (the sign kept: `-$5` is -5); (None, values) when no unit is that common."""
    for unit in UNITS:
        carries = values.str.startswith(unit) | values.str.endswith(unit)
        carries |= values.str.match(rf"^[+-]\s*{re.escape(unit)}")
        if carries.mean() >= MOSTLY:
            return unit, values.str.replace(_UNIT, r"\1\2\3", regex=True)
    return None, values


def parse_numeric_columns(
    frame: pd.DataFrame,
    source: str,
    number_format: NumberFormat,
    na_values: list[str],
    keep_text: set[str],
) -> tuple[pd.DataFrame, list[str]]:
    """Convert the text columns that hold numbers; return the frame and what was done."""
    notes = []
    pattern = number_format.pattern()
    for column in frame.columns:
        if column in keep_text or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].astype("str").where(frame[column].notna()).str.strip()
        values = values.mask(values.isin(na_values) | values.eq(""))
        present = values.dropna()
        if present.empty:
            continue
        reads = present.str.match(pattern)
        if reads.mean() < MOSTLY:
            unit, stripped = strip_unit(present)
            if unit is None or not stripped.str.match(pattern).mean() >= MOSTLY:
                continue
            values = values.where(values.isna(), strip_unit(values.dropna())[1])
            present = values.dropna()
            reads = present.str.match(pattern)
            notes.append(
                f"column '{column}': values written with {unit!r} read as numbers without it "
                f"(e.g. {frame[column].dropna().iloc[0]!r} -> {present.iloc[0]})"
            )
        others = present[~reads].value_counts()
        if not others.empty:
            if len(others) > MAX_MARKERS or not all(map(is_missing_marker, others.index)):
                examples = ", ".join(repr(v) for v in others.index[:3])
                raise ReprolabError(
                    f"{source}: column '{column}' looks numeric ({int(reads.sum())} of its "
                    f"{len(present)} values are numbers) but {int(others.sum())} values are not (e.g. {examples}); "
                    "expected numbers: fix those values, add missing-value markers to "
                    "data.source.na_values, or list the column in data.categorical"
                )
            markers = ", ".join(repr(v) for v in others.index)
            notes.append(f"column '{column}': {int(others.sum())} values {markers} read as missing")
            values = values.mask(values.isin(others.index))
        frame[column] = number_format.to_numbers(values)
        if (
            number_format.decimal != "."
            or values.dropna()
            .str.contains(re.escape(number_format.thousands or "\0"), regex=True)
            .any()
        ):
            notes.append(
                f"column '{column}': numbers read with decimal {number_format.decimal!r}"
                + (f", thousands {number_format.thousands!r}" if number_format.thousands else "")
            )
    return frame, notes
