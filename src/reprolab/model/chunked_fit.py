"""An out-of-core boosting fit (engine=local, `engine.out_of_core`): LightGBM and
XGBoost bin their training data from the feature file a chunk of rows at a time
(LightGBM's `Sequence`, XGBoost's `DataIter` into a `QuantileDMatrix`), so train's
peak is near the binned data (a byte per value) instead of the float matrix and the
copies the fit makes of it (10M rows x 25 float32 features: 1 GB before the copies).

The scikit-learn wrapper (LGBMClassifier, XGBRegressor...) is first fitted by its own
code on a few rows holding every class: that sets what the wrapper derives from the
data (classes, objective, feature count) and checks the config as a full fit would.
Then the library trains its booster from the chunks with the parameters the wrapper
trained with, and that booster takes the place of the few rows' one. With the whole
file as one chunk the model is the in-memory fit's (tests/model/test_chunked_fit.py).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier

from reprolab.core.errors import ReprolabError
from reprolab.core.files import log
from reprolab.core.shell import release_freed_memory
from reprolab.data.parquet_stream import ParquetColumns

# Rows the wrapper's own fit sees, besides one row of each class.
_FIRST_ROWS = 200


@dataclass(frozen=True)
class ChunkedMatrix:
    """The training matrix as chunks of rows of the feature file, never read whole."""

    table: ParquetColumns
    columns: list[str]
    chunk_rows: int
    dtype: Any

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.table), len(self.columns)

    def chunks(self) -> Iterator[np.ndarray]:
        for chunk in self.table.matrix_batches(self.columns, self.dtype, self.chunk_rows):
            # A chunk's many small blocks (a column of a batch each) stay in glibc's heap
            # once freed, the heap growing with the file: given back after each one.
            release_freed_memory()
            yield chunk

    def column(self, name: str) -> np.ndarray:
        """One whole column, converted as `chunks` converts it."""
        return self.table[name].to_numpy(dtype=self.dtype, na_value=np.nan)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows at positions `rows`, read a column at a time (one column held)."""
        taken = np.empty((len(rows), len(self.columns)), dtype=self.dtype)
        for index, name in enumerate(self.columns):
            taken[:, index] = self.column(name)[rows]
        return taken


@dataclass(frozen=True)
class CodedLabels:
    """A class label per row as a code into `values` (the label column's categories):
    what the out-of-core fit holds instead of a reference per row (7.5M rows: 7 MiB of
    int8 codes against 57 MiB of references). Indexing gives the labels themselves."""

    values: np.ndarray
    codes: np.ndarray

    @classmethod
    def of(cls, series: pd.Series) -> CodedLabels | None:
        """The labels of a category column with no missing value; else None."""
        if not isinstance(series.dtype, pd.CategoricalDtype) or series.hasnans:
            return None
        return cls(series.cat.categories.to_numpy(), series.cat.codes.to_numpy())

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.values[self.codes[rows]]

    def positions(self, classes: np.ndarray) -> np.ndarray:
        """Each row's position in the sorted `classes`, which hold every label in use."""
        return np.searchsorted(classes, self.values).astype(self.codes.dtype)[self.codes]


def fit_from_chunks(
    estimator: BaseEstimator,
    matrix: ChunkedMatrix,
    labels: np.ndarray | CodedLabels,
    fit_params: dict,
) -> BaseEstimator:
    """Fit a LightGBM or XGBoost estimator (or EncodedLabels around one) from `matrix`'s
    chunks; returns it fitted."""
    from reprolab.model.estimators import EncodedLabels  # noqa: PLC0415
    from reprolab.model.libraries import library_of  # noqa: PLC0415

    classifier = is_classifier(estimator)
    codes = labels.codes if isinstance(labels, CodedLabels) else labels
    sample = _rows_of_every_class(codes) if classifier else _first_rows(codes)
    estimator.fit(matrix.take(sample), labels[sample], **fit_params)
    wrapper = estimator.estimator_ if isinstance(estimator, EncodedLabels) else estimator
    library = library_of(wrapper)
    if library is None or library.from_chunks is None:
        raise ReprolabError(f"engine.out_of_core: {type(wrapper).__name__} fits in memory only")
    module, function = library.from_chunks.rsplit(".", 1)
    log.info("binning %d rows from %s, %d rows at a time", len(labels), matrix.table.path,
             matrix.chunk_rows)  # fmt: skip

    def targets() -> np.ndarray:
        # What the library trains on, in the precision it keeps (float32): a class's
        # position among the sorted classes (the wrapper's own label encoding), or the
        # value. Made when asked, so that only the library's Dataset holds it.
        if not classifier:
            return np.asarray(labels, dtype=np.float32)
        classes = estimator.classes_  # the sample holds every class
        if isinstance(labels, CodedLabels):
            return labels.positions(classes).astype(np.float32)
        return np.searchsorted(classes, labels).astype(np.float32)

    getattr(importlib.import_module(module), function)(wrapper, matrix, targets, fit_params)
    return estimator


def fits_from_chunks(estimator: BaseEstimator) -> bool:
    """Whether the estimator's library trains from chunks (model/libraries.py)."""
    from reprolab.model.estimators import unwrapped  # noqa: PLC0415
    from reprolab.model.libraries import library_of  # noqa: PLC0415

    library = library_of(unwrapped(estimator))
    return library is not None and library.from_chunks is not None


def _rows_of_every_class(labels: np.ndarray) -> np.ndarray:
    """The first rows, and the first row of each class: the wrapper learns every class."""
    _, first = np.unique(labels, return_index=True)
    return np.union1d(_first_rows(labels), first)


def _first_rows(labels: np.ndarray) -> np.ndarray:
    return np.arange(min(len(labels), _FIRST_ROWS))


class _RowWindow:
    """Rows `start:stop` of the chunks, read forward a chunk at a time (at most two held),
    started over when an earlier row is asked for. LightGBM asks for every row once, by
    slices in increasing order (its sample for the bins is read a column at a time, by
    FileDataset, not row by row)."""

    def __init__(self, matrix: ChunkedMatrix):
        self._matrix = matrix
        self._chunks: Iterator[np.ndarray] | None = None
        self._first = 0  # the file row of self._rows[0]
        self._rows = np.empty((0, matrix.shape[1]), dtype=matrix.dtype)

    def rows(self, start: int, stop: int) -> np.ndarray:
        if self._chunks is None or start < self._first:
            self._chunks, self._first = self._matrix.chunks(), 0
            self._rows = self._rows[:0]
        while self._first + len(self._rows) < stop:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            held = self._rows[max(start - self._first, 0) :]
            self._first += len(self._rows) - len(held)
            self._rows = np.concatenate([held, chunk]) if len(held) else chunk
        return self._rows[start - self._first : stop - self._first]


def lightgbm_from_chunks(
    wrapper: Any, matrix: ChunkedMatrix, targets: Callable[[], np.ndarray], fit_params: dict
) -> None:
    import lightgbm  # noqa: PLC0415

    window = _RowWindow(matrix)

    class FileDataset(lightgbm.Dataset):
        # Dataset.__sample, as its name-mangled name overrides it.
        def _Dataset__sample(self, *, seqs: Any, total_nrow: int) -> tuple[list, list]:  # noqa: N802
            """LightGBM's sample of rows for its bin bounds, read a column at a time.
            Its own asks the Sequence for each of 200,000 rows and holds them as
            a list of arrays (~160 MB whatever the table's size); this gives the same
            values: each column's sampled values, in float64, but for zeros."""
            rows = self._create_sample_indices(total_nrow=total_nrow)
            values, positions = [], []
            for name in matrix.columns:
                sampled = matrix.column(name)[rows].astype(np.float64)
                kept = (np.abs(sampled) > lightgbm.basic.ZERO_THRESHOLD) | np.isnan(sampled)
                values.append(sampled[kept])
                positions.append(np.flatnonzero(kept).astype(np.int32))
            return values, positions

    class FileRows(lightgbm.Sequence):
        batch_size = matrix.chunk_rows

        def __len__(self) -> int:
            return matrix.shape[0]

        def __getitem__(self, index: int | slice | list[int]) -> np.ndarray:
            if isinstance(index, slice):
                return window.rows(index.start, index.stop)
            # Single rows and lists of rows: the rest of the Sequence contract (LightGBM's
            # own sampler asks so, in float64; FileDataset replaces it).
            if isinstance(index, list):
                return np.stack([self[i] for i in index])
            return window.rows(index, index + 1)[0].astype(np.float64)

    params = dict(wrapper.booster_.params)  # what the wrapper's own fit trained with
    # The rows LightGBM samples for its bin bounds come from data_random_seed, which it
    # derives from the model's seed for a matrix but not for a Sequence: given as the
    # model's own fit resolved it, the sample (and so the bins) are the matrix's.
    seed = re.search(r"\[data_random_seed: (-?\d+)\]", wrapper.booster_.model_to_string())
    data = FileDataset(
        FileRows(),
        label=targets(),
        categorical_feature=fit_params.get("categorical_feature", "auto"),
        params={**params, **({"data_random_seed": int(seed.group(1))} if seed else {})},
    )
    data.construct()
    # LightGBM holds the labels it copied; ours go (it reads its own back if asked).
    data.label = None
    # The sample for the bins and the chunks were freed into the heap in blocks glibc
    # keeps: given back before the fit allocates its gradients and scores.
    release_freed_memory()
    booster = lightgbm.train(params, data, num_boost_round=wrapper.n_estimators)
    booster.free_dataset()
    if "data_random_seed" not in params:  # the Dataset's, which train merged in
        booster.params.pop("data_random_seed", None)
    wrapper._Booster = booster
    wrapper._best_iteration = booster.best_iteration
    wrapper._best_score = booster.best_score


def xgboost_from_chunks(
    wrapper: Any, matrix: ChunkedMatrix, targets: Callable[[], np.ndarray], fit_params: dict
) -> None:
    import xgboost  # noqa: PLC0415

    labels = targets()

    class FileBatches(xgboost.DataIter):
        def __init__(self) -> None:
            super().__init__(release_data=True)
            self._chunks: Iterator[np.ndarray] = iter(())
            self._start = 0

        def reset(self) -> None:
            self._chunks, self._start = matrix.chunks(), 0

        def next(self, input_data: Any) -> bool:
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            stop = self._start + len(chunk)
            input_data(
                data=chunk, label=labels[self._start : stop], feature_types=wrapper.feature_types
            )
            self._start = stop
            return True

    if callable(wrapper.objective) or callable(wrapper.eval_metric):
        raise ReprolabError(
            "engine.out_of_core: a callable objective or eval_metric is not supported; "
            "expected their names"
        )
    # The parameters XGBClassifier/XGBRegressor.fit trains with.
    params = wrapper.get_xgb_params()
    params["objective"] = wrapper.objective  # as the fit left it (multi:softprob...)
    if getattr(wrapper, "n_classes_", 0) > 2:
        params["num_class"] = wrapper.n_classes_
    if wrapper.eval_metric is not None:
        params["eval_metric"] = wrapper.eval_metric
    data = xgboost.QuantileDMatrix(
        FileBatches(),
        max_bin=wrapper.max_bin,
        missing=wrapper.missing,
        enable_categorical=wrapper.enable_categorical,
        nthread=wrapper.n_jobs,
    )
    wrapper._Booster = xgboost.train(
        params, data, wrapper.get_num_boosting_rounds(), callbacks=wrapper.callbacks,
        verbose_eval=False,
    )  # fmt: skip
