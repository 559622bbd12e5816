"""Which training rows each Ray worker holds: a fixed, ordered share per rank.

Worker r holds rows r, r + W, r + 2W, ... in the file's order (W workers). Ray Data
does not promise which block reaches which worker (ray#58658), and a distributed
boosting fit is only reproducible with the same rows on the same rank in the same
order (dmlc/xgboost#7458); a stride, unlike contiguous slices, also gives every
worker rows of every class of a table sorted by its target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reprolab.core.errors import ReprolabError


def shard_rows(rows: int, workers: int) -> list[np.ndarray]:
    """The row positions of each rank's share, in file order."""
    if rows < workers:
        raise ReprolabError(
            f"engine.workers: found {workers}, for {rows} training rows; expected at most "
            "one worker per row"
        )
    return [np.arange(rank, rows, workers) for rank in range(workers)]


def require_every_class_in_every_shard(labels: np.ndarray, workers: int) -> None:
    """Each worker's classifier learns the classes it sees: a class missing from one
    share would give the workers different models to agree on."""
    counts = pd.Series(labels).value_counts()
    rare = counts[counts < workers]
    if not rare.empty:
        shown = ", ".join(f"{label!r} ({count})" for label, count in rare.items())
        raise ReprolabError(
            f"engine.workers: {workers} workers each need rows of every class, and class(es) "
            f"{shown} have fewer training rows; expected fewer workers, or engine=local"
        )
