"""Is a loaded model safe to run? Trusted types are not enough.

A model file made only of trusted types can still hold tampered arrays: a tree whose
child index is 2,000,000,000 or whose feature index is 1,000,000 makes scikit-learn's
compiled prediction code read out of bounds (a crash, or an answer from garbage).
These checks run on every loaded model before it is used: indices in range, shapes
consistent. And before loading, the zip itself is bounded, so that a small file that
inflates to gigabytes is refused unread.
"""

from __future__ import annotations

import zipfile
from typing import Any

import numpy as np

from reprolab.core.errors import ReprolabError

# A model of this project inflates to far less; a zip bomb to far more.
MAX_INFLATED_BYTES = 4 << 30
MAX_MEMBER_RATIO = 1000  # inflated / compressed size of one member (zeros compress ~1000x)


def check_archive(archive: zipfile.ZipFile, source: str) -> None:
    """Refuse an archive that would inflate beyond the bounds above."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > 1 << 20 and info.file_size > MAX_MEMBER_RATIO * max(
            info.compress_size, 1
        ):
            raise ReprolabError(
                f"{source}: member {info.filename} inflates {info.compress_size} bytes to "
                f"{info.file_size}; expected a model file, not a compression bomb"
            )
    if total > MAX_INFLATED_BYTES:
        raise ReprolabError(
            f"{source}: inflates to {total} bytes; expected at most {MAX_INFLATED_BYTES}"
        )


def _in_range(values: np.ndarray, low: int, high: int) -> bool:
    return bool(values.size == 0 or (values.min() >= low and values.max() < high))


def check_tree(tree: Any, source: str) -> None:
    """A scikit-learn `Tree`: children point at nodes, features at input columns."""
    count = int(tree.node_count)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature, value = np.asarray(tree.feature), np.asarray(tree.value)
    if not (len(left) == len(right) == len(feature) == count and value.shape[0] == count):
        raise ReprolabError(f"{source}: a tree's arrays disagree on its {count} nodes")
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        raise ReprolabError(f"{source}: a tree node has one child; expected none or two")
    inner = ~leaf
    if not (
        _in_range(left[inner], 1, count)
        and _in_range(right[inner], 1, count)
        and _in_range(feature[inner], 0, int(tree.n_features))
    ):
        raise ReprolabError(
            f"{source}: a tree's child or feature index is out of range; expected indices "
            f"below {count} nodes and {int(tree.n_features)} features (tampered file?)"
        )


def check_predictor(predictor: Any, n_features: int | None, source: str) -> None:
    """A histogram gradient boosting `TreePredictor` (a structured array of nodes)."""
    nodes = predictor.nodes
    count = len(nodes)
    inner = nodes["is_leaf"] == 0
    bitsets = len(getattr(predictor, "raw_left_cat_bitsets", []))
    checks = [
        _in_range(nodes["left"][inner], 1, count),
        _in_range(nodes["right"][inner], 1, count),
        n_features is None or _in_range(nodes["feature_idx"][inner], 0, n_features),
        _in_range(nodes["bitset_idx"][inner & (nodes["is_categorical"] == 1)], 0, max(bitsets, 1)),
    ]
    if not all(checks):
        raise ReprolabError(
            f"{source}: a boosting tree's child, feature or category index is out of range "
            f"(tampered file?); expected indices below {count} nodes"
        )


def check_codes(encoder: Any, source: str) -> None:
    """Category codes: one list of codes per list of categories, each as long, integers
    (a tampered file would otherwise index past the codes, or map categories wrongly)."""
    categories, codes = getattr(encoder, "categories_", None), getattr(encoder, "codes_", None)
    if categories is None and codes is None:
        return  # unfitted (a ColumnTransformer keeps its unfitted template too): never run
    consistent = (
        isinstance(categories, list)
        and isinstance(codes, list)
        and len(categories) == len(codes) == getattr(encoder, "n_features_in_", None)
        and all(
            isinstance(values, list)
            and isinstance(numbers, list)
            and len(values) == len(numbers)
            and all(isinstance(n, int) and 0 <= n <= len(values) for n in numbers)
            for values, numbers in zip(categories, codes, strict=False)
        )
    )
    if not consistent:
        raise ReprolabError(
            f"{source}: category codes do not match their categories; expected a model "
            "written by featurize (file tampered or corrupt)"
        )


def check_structure(model: Any, source: str) -> None:
    """Walk the loaded object graph and check every tree and category encoder in it."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor  # noqa: PLC0415
    from sklearn.tree._tree import Tree  # noqa: PLC0415

    from reprolab.model.category_codes import CategoryCodes  # noqa: PLC0415

    seen: set[int] = set()
    stack: list[tuple[Any, int | None]] = [(model, None)]
    while stack:
        node, n_features = stack.pop()
        if id(node) in seen or node is None or isinstance(node, str | bytes | int | float):
            continue
        seen.add(id(node))
        if isinstance(node, Tree):
            check_tree(node, source)
        elif isinstance(node, TreePredictor):
            check_predictor(node, n_features, source)
        elif isinstance(node, CategoryCodes):
            check_codes(node, source)
        elif isinstance(node, dict):
            stack += [(v, n_features) for v in node.values()]
        elif isinstance(node, list | tuple):
            stack += [(v, n_features) for v in node]
        elif hasattr(node, "__dict__") and not isinstance(node, np.ndarray):
            inner = getattr(node, "n_features_in_", n_features)
            stack += [(v, inner) for v in vars(node).values()]
