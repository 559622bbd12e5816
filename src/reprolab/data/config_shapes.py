"""The shapes of the `data` config section and of a pinned schema file, checked before use.

A wrong type here would otherwise surface deep inside pandas or pandera as a traceback,
or worse, be read the wrong way without a word: a string where a list of columns is
expected iterates as its letters. Each check names the key, what was found and what
was expected.
"""

from __future__ import annotations

from typing import Any

from reprolab.core.errors import ReprolabError

# Keys of the data section that name one column, and those that list columns.
COLUMN_KEYS = ("target", "id_column", "time_column")
COLUMN_LIST_KEYS = ("numeric", "categorical", "drop", "date_features")
CONTRACT_KEYS = ("min_rows", "classes", "ranges", "categories", "required")
# The roles a column can be given; each column takes at most one. (The time column may
# also be a feature, as a year often is, but not the target.)
ROLE_KEYS = ("target", "id_column", "numeric", "categorical", "date_features", "drop")


# OmegaConf's mark of a value the config requires and nobody set (`target: ???`).
UNSET = "???"


def _fail(key: str, value: Any, expected: str) -> ReprolabError:
    if value == UNSET:
        return ReprolabError(f"{key}: required and not set; expected {expected} (-S {key}=...)")
    return ReprolabError(f"{key}: found {value!r}; expected {expected}")


def required_target(data: Any, key: str = "data") -> None:
    """The one key no table can stand in for, checked before anything is read."""
    target = data.get("target") if isinstance(data, dict) else None
    if target in (None, "", UNSET):
        raise ReprolabError(
            f"{key}.target: required and not set; expected the column to predict "
            f"(-S {key}.target=<column>)"
        )


def text_names(data: dict[str, Any]) -> dict[str, Any]:
    """The section with column names as text: ingest stores every column name as text,
    so a name YAML read as a number (`-S data.target=2` for a column `2`) means that
    text, and would otherwise never be found."""

    def named(value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    out = dict(data)
    for name in COLUMN_KEYS:
        out[name] = named(data.get(name))
    for name in COLUMN_LIST_KEYS:
        if isinstance(data.get(name), list):
            out[name] = [named(v) for v in data[name]]
    contract = data.get("schema")
    if isinstance(contract, dict):
        contract = dict(contract)
        for name in ("ranges", "categories"):
            if isinstance(contract.get(name), dict):
                contract[name] = {named(k): v for k, v in contract[name].items()}
        if isinstance(contract.get("required"), list):
            contract["required"] = [named(v) for v in contract["required"]]
        out["schema"] = contract
    return out


def _is_name(value: Any) -> bool:
    # Column names are text (or integers, as in a headerless parquet file); YAML may
    # read a name such as `2024` as an integer.
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def column(value: Any, key: str, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not _is_name(value):
        raise _fail(key, value, "a column name" + (" or null" if optional else ""))


def columns(value: Any, key: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(_is_name(v) for v in value):
        raise _fail(key, value, "a list of column names, or null")
    repeated = sorted({str(v) for v in value if value.count(v) > 1})
    if repeated:
        raise _fail(key, value, f"each column once (repeated: {repeated})")


def _mapping(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(key, value, "a mapping, or null")
    return value


def contract(value: Any, key: str) -> None:
    """The `schema:` contract: min_rows, classes, ranges, categories, required."""
    found = _mapping(value, key)
    unknown = sorted(set(found) - set(CONTRACT_KEYS))
    if unknown:
        raise ReprolabError(f"{key}: unknown key(s) {unknown}; expected some of {CONTRACT_KEYS}")
    min_rows = found.get("min_rows", 1)
    if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 0:
        raise _fail(f"{key}.min_rows", min_rows, "a whole number >= 0")
    classes = found.get("classes")
    if classes is not None and (not isinstance(classes, list) or not classes):
        raise _fail(f"{key}.classes", classes, "a non-empty list of target values, or null")
    for name, bounds in _mapping(found.get("ranges"), f"{key}.ranges").items():
        if bounds is None:
            continue
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(_is_number, bounds))) or (
            bounds[0] > bounds[1]
        ):
            raise _fail(f"{key}.ranges.{name}", bounds, "[low, high] with numbers low <= high")
    for name, allowed in _mapping(found.get("categories"), f"{key}.categories").items():
        if not isinstance(allowed, list) or not allowed:
            raise _fail(f"{key}.categories.{name}", allowed, "a non-empty list of values")
    columns(found.get("required"), f"{key}.required")


def data_section(data: Any, key: str = "data") -> None:
    """The keys of `data` that validate reads (or a pinned schema file's same keys)."""
    if not isinstance(data, dict):
        raise _fail(key, data, "a mapping")
    required_target(data, key)
    column(data.get("target"), f"{key}.target", optional=False)
    for name in COLUMN_KEYS[1:]:
        column(data.get(name), f"{key}.{name}")
    for name in COLUMN_LIST_KEYS:
        columns(data.get(name), f"{key}.{name}")
    roles(data, key)
    fold = data.get("categories_normalize")
    if fold is not None and not isinstance(fold, bool):
        raise _fail(f"{key}.categories_normalize", fold, "true or false")
    dataset = data.get("name")
    if dataset is not None and not isinstance(dataset, str | int | float):
        raise _fail(f"{key}.name", dataset, "a name (text), or null")
    schema_file = data.get("schema_file")
    if schema_file is not None and not isinstance(schema_file, str):
        raise _fail(f"{key}.schema_file", schema_file, "a path under schemas/, or null")
    contract(data.get("schema"), f"{key}.schema")
    excluded = data.get("excluded")
    if excluded is not None and not isinstance(excluded, dict):
        raise _fail(f"{key}.excluded", excluded, "a mapping of column: reason")


def roles(data: dict[str, Any], key: str = "data") -> None:
    """Each column in one role: a column both numeric and categorical, a dropped or id
    column that is also a feature, or the target among them, has no one meaning; which
    role wins would be an accident of the code."""
    seen: dict[Any, str] = {}
    for name in ROLE_KEYS:
        value = data.get(name)
        for column in value if isinstance(value, list) else [] if value is None else [value]:
            if column in seen:
                raise ReprolabError(
                    f"{key}.{name}: column {column!r} is also {key}.{seen[column]}; expected "
                    f"each column in one role of {', '.join(ROLE_KEYS)}"
                )
            seen[column] = name
    time_column = data.get("time_column")
    if time_column is not None and time_column == data.get("target"):
        raise ReprolabError(
            f"{key}.time_column: column {time_column!r} is the target; expected a time or "
            "order column (a test set of the largest targets would not measure the model)"
        )
