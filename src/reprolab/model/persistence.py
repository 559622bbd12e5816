"""Saving and loading models with skops: byte-stable files and an explicit type allowlist.

skops names the arrays inside its zip after `id()` of the objects and stamps the
current time on every member, so two dumps of the same model differ. We renumber
the ids in order of appearance and fix the timestamps, so the same model always
gives the same bytes (and DVC the same hash).

Loading never trusts skops' defaults alone: every type the file asks for must be
in TRUSTED_TYPES below, or the file is refused before anything is constructed.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from reprolab.core.errors import ReprolabError
from reprolab.core.files import log, write_bytes
from reprolab.model.integrity import check_archive, check_structure
from reprolab.model.libraries import library_types

# Everything the preprocessors and the models of conf/model/ are made of, for binary,
# multiclass and regression targets: the common types here, and each estimator
# library's own (model/libraries.py, where a new library adds its types; a test fits
# every conf/model option and tells which type is missing).
COMMON_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.int",
    "builtins.list",
    "builtins.slice",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.random._generator.Generator",
    "numpy.uint64",
    # Date features: our own transformer, part of the shipped model.
    "reprolab.model.features.CalendarParts",
    "reprolab.model.category_codes.CategoryCodes",  # category codes for native categories
    "reprolab.model.features.median_of",  # the numeric imputer's median, by column
    # A classifier fitted on class codes (model.estimators.EncodedLabels).
    "reprolab.model.estimators.EncodedLabels",
    # A classifier calibrated on held-out training rows (model/calibration.py): its
    # calibrators are isotonic regressions or logistic regressions (sigmoid).
    "reprolab.model.calibration.CalibratedProbabilities",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.linear_model._logistic.LogisticRegression",
    # The preprocessor and the pipeline around the model.
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._label.LabelEncoder",
)
TRUSTED_TYPES: tuple[str, ...] = tuple(sorted(set(COMMON_TYPES) | set(library_types())))

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_ID_NAME = re.compile(r"^(\d+)(\.\w+)$")


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            numbered = _ID_NAME.match(value) if key == "file" and isinstance(value, str) else None
            if key == "__id__" and isinstance(value, int):
                out[key] = ids.setdefault(value, len(ids) + 1)
            elif numbered is not None:
                number, suffix = numbered.groups()
                out[key] = files[value] = f"{ids.setdefault(int(number), len(ids) + 1)}{suffix}"
            elif key == "file" and isinstance(value, str):
                # Bytes (an XGBoost booster) are stored under a random uuid4 name.
                out[key] = files[value] = f"bytes-{len(files) + 1}{Path(value).suffix}"
            else:
                out[key] = _renumber(value, ids, files)
        return out
    if isinstance(node, list):
        return [_renumber(value, ids, files) for value in node]
    return node


def canonical_skops(data: bytes) -> bytes:
    """Rewrite a skops dump so that it depends only on the object, not the process:
    members named after object ids or random uuids are renamed in order of appearance."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        files: dict[str, str] = {}
        schema = _renumber(schema, {}, files)
        members = {"schema.json": json.dumps(schema, indent=2).encode("utf-8")}
        for old, new in files.items():
            members[new] = source.read(old)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, members[name])
    return buffer.getvalue()


def model_bytes(obj: Any) -> bytes:
    """`obj` as the bytes of a skops file (what save_model writes)."""
    import skops.io as sio  # noqa: PLC0415

    return canonical_skops(sio.dumps(obj))


def save_model(path: Path, obj: Any) -> None:
    data = model_bytes(obj)
    write_bytes(path, data)
    log.info("wrote %s (%s, %d bytes)", path, type(obj).__name__, len(data))


def types_in_file(data: bytes) -> set[str]:
    """Every `module.Class` a skops file asks to construct."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _model_bytes(path: Path) -> bytes:
    """The file's bytes, or one line saying why there are none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReprolabError(
            f"{path}: file not found; expected a model saved by the pipeline (run `dvc repro`)"
        ) from None
    except IsADirectoryError:
        raise ReprolabError(f"{path}: a directory; expected a model file") from None


def _not_skops(path: Path | str) -> ReprolabError:
    return ReprolabError(f"{path}: not a skops model file (expected a zip with schema.json)")


def load_model(path: Path) -> Any:
    """Load a skops file: bounded in size, refusing any type outside TRUSTED_TYPES, and
    checked for out-of-range tree indices before anything uses it."""
    return load_model_bytes(_model_bytes(path), str(path))


def load_model_bytes(data: bytes, path: str) -> Any:
    """load_model on bytes that came from elsewhere (a Ray worker); `path` names them."""
    import skops.io as sio  # noqa: PLC0415

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive, str(path))
        untrusted = sorted(types_in_file(data) - set(TRUSTED_TYPES))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, RecursionError):
        raise _not_skops(path) from None
    if untrusted:
        raise ReprolabError(
            f"{path}: refusing to load untrusted type(s) {untrusted}; expected only the types in "
            "reprolab.model.persistence.TRUSTED_TYPES"
        )
    try:
        model = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as error:  # skops raises many types on a crafted file
        reason = (str(error).splitlines() or [""])[0][:200]
        raise ReprolabError(
            f"{path}: skops cannot load it ({type(error).__name__}: {reason}); expected a "
            "model file saved by this project"
        ) from None
    check_structure(model, str(path))
    return model


def describe_saved_pipeline(path: Path) -> tuple[str, list[str]]:
    """The final estimator's class name and its classes (none for a regressor), read
    from the skops file's schema: nothing is constructed, and neither scikit-learn nor
    skops is imported, so a stage that only describes the model starts at once."""
    data = _model_bytes(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive, str(path))
            schema = json.loads(archive.read("schema.json"))
            steps = schema["content"]["content"]["steps"]["content"]
            final = steps[-1]["content"][1]
            state = final["content"]["content"]
            # LightGBM keeps its classes in `_classes` (classes_ is a property), None
            # for a regressor (a JSON null in the file).
            node = state.get("classes_", state.get("_classes"))
            classes = [] if node is None or _is_null(node) else _array_values(node, archive)
    except (zipfile.BadZipFile, KeyError, IndexError, TypeError, ValueError, RecursionError):
        raise _not_skops(path) from None
    return configured_class(final), [str(c) for c in classes]


def configured_class(final: dict[str, Any]) -> str:
    """The class the `model` config named, from the final step's skops node: a wrapper
    (EncodedLabels, CalibratedProbabilities) is named after
    the estimator it wraps, every other estimator after itself. Not any `estimator_`: a
    fitted random forest's is its template tree."""
    if final["__class__"] in _WRAPPERS:
        return configured_class(final["content"]["content"]["estimator"])
    return final["__class__"]


# Estimators that hold the configured one as `estimator`.
_WRAPPERS = ("EncodedLabels", "CalibratedProbabilities")


def _is_null(node: dict[str, Any]) -> bool:
    return bool(node.get("is_json")) and json.loads(node.get("content", "0")) is None


def _array_values(node: dict[str, Any], archive: zipfile.ZipFile) -> list[Any]:
    """The values of a skops array node: an .npy member (never unpickled) or JSON items."""
    if node["type"] == "numpy":
        import numpy as np  # noqa: PLC0415

        return np.load(io.BytesIO(archive.read(node["file"])), allow_pickle=False).tolist()
    if node["type"] == "json":
        return [json.loads(item["content"]) for item in node["content"]]
    raise ValueError(node["type"])
