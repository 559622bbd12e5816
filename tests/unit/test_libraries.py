"""One place to add a model library: model/libraries.py's entry is all the code reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from reprolab.model.feature_settings import feature_settings
from reprolab.model.features import NATIVE_CATEGORICAL, categorical_encoding
from reprolab.model.libraries import LIBRARIES, library_of
from reprolab.model.persistence import TRUSTED_TYPES

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = sorted((ROOT / "conf/model").glob("*.yaml"))


@pytest.mark.parametrize("option", OPTIONS, ids=lambda p: p.stem)
def test_every_model_option_is_of_a_registered_library(option, params):
    target = yaml.safe_load(option.read_text(encoding="utf-8"))["_target_"]
    library = library_of(target)
    assert library is not None, f"{option.name}: {target} is of no model/libraries.py entry"
    # Its encoding follows the entry: codes for the classes that split on them natively.
    native = target in library.native_categorical
    expected = "ordinal" if native else "onehot"
    params["features"]["categorical"]["encoding"] = "auto"
    assert categorical_encoding(feature_settings(params), target) == expected


def test_the_trusted_types_and_native_classes_are_the_entries():
    for library in LIBRARIES:
        assert set(library.trusted_types) <= set(TRUSTED_TYPES), library.name
        assert set(library.native_categorical) <= set(NATIVE_CATEGORICAL), library.name
        assert library.threads in ("joblib", "own"), library.name


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


@pytest.mark.parametrize(
    "library", [lib for lib in LIBRARIES if lib.name != "sklearn"], ids=lambda lib: lib.name
)
def test_no_other_module_names_a_library(library):
    """scikit-learn is also the preprocessor's library, so only the others are checked:
    their names appear in no code but their entry."""
    named = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "src/reprolab").rglob("*.py"))
        if path.name != "libraries.py"
        and any(
            text == library.name or text.startswith((library.prefix, f"[{library.name}"))
            for text in _string_constants(path)
        )
    ]
    assert not named, f"{library.name} is named outside model/libraries.py: {named}"
