"""Our category codes equal scikit-learn's OrdinalEncoder's, which they replace."""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import OrdinalEncoder

from reprolab.core.errors import ReprolabError
from reprolab.model.category_codes import CategoryCodes


def _frame(rows: int, seed: int, as_category: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Skewed frequencies, missing values, numbers and text, more categories than the cap.
    frame = pd.DataFrame(
        {
            "few": rng.choice(["b", "a", "c", None], rows, p=[0.5, 0.3, 0.15, 0.05]),
            "many": [f"v{i:03d}" for i in rng.zipf(1.3, rows) % 300],
            "numbers": rng.choice([3, 1, 2, 7], rows, p=[0.1, 0.6, 0.25, 0.05]),
        }
    )
    return frame.astype("category") if as_category else frame


def _ordinal(**settings) -> OrdinalEncoder:
    return OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        dtype="float32",
        **settings,
    )


@pytest.mark.parametrize("as_category", [True, False])
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"min_frequency": 50},
        {"min_frequency": 0.02},
        {"max_categories": 20},
        {"max_categories": 2},
        {"max_categories": 1},
        {"min_frequency": 0.01, "max_categories": 10},
    ],
)
def test_codes_equal_ordinal_encoders(settings, as_category):
    train, new = _frame(5_000, 0, as_category), _frame(2_000, 1, False)
    new.loc[:9, "few"] = "never seen"
    new.loc[10:19, "numbers"] = 99
    # New data typed as categories too: their own category lists, in their own order.
    new = new.astype("category") if as_category else new
    ours = CategoryCodes(dtype="float32", **settings).fit(train)
    theirs = _ordinal(**settings).fit(train)
    for frame in (train, new):
        np.testing.assert_array_equal(ours.transform(frame), theirs.transform(frame))
    assert ours.transform(new).dtype == np.float32
    assert list(ours.get_feature_names_out()) == ["few", "many", "numbers"]


def test_unused_categories_of_a_category_type_get_no_code():
    train = pd.DataFrame({"c": pd.Categorical(["x", "z", "x"], categories=["x", "y", "z"])})
    codes = CategoryCodes().fit(train)
    assert codes.categories_ == [["x", "z"]]
    np.testing.assert_array_equal(codes.transform(pd.DataFrame({"c": ["z", "y"]})), [[1], [np.nan]])


def test_mixed_types_are_named():
    with pytest.raises(ReprolabError, match=r"column 'c': categories of mixed types"):
        CategoryCodes().fit(pd.DataFrame({"c": pd.Series([1, "a", 2], dtype=object)}))
