"""Data sources the `ingest` stage can load, chosen by `data.source.kind`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reprolab.errors import ReprolabError


def _palmerpenguins(_: dict[str, Any]) -> pd.DataFrame:
    # The CSV ships inside the wheel, so this works offline.
    from palmerpenguins import load_penguins

    return load_penguins()


LOADERS = {"palmerpenguins": _palmerpenguins}


def load_source(source: dict[str, Any]) -> pd.DataFrame:
    """Load the table described by a `data.source` config section."""
    kind = source.get("kind")
    if kind not in LOADERS:
        raise ReprolabError(
            f"data.source.kind: unknown source {kind!r}; expected one of {sorted(LOADERS)}"
        )
    return LOADERS[kind](source)
