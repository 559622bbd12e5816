"""Spellings of one category: reported (case, spaces, punctuation, likely typos), folded
only on request and only for case and spaces, each fold said."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from reprolab.data.category_variants import (
    edit_distance,
    fold_case_and_space,
    spaced,
    variant_groups,
    variant_warning,
)

PARTY = pd.Series(
    ["Strong Democrat"] * 120
    + ["Strong Democrat "] * 3
    + ["strong democrat"] * 2
    + ["Strong Democat"]
    + ["Independent"] * 80
    + ["Model 3"] * 40
    + ["Model 5"] * 2
    + ["M"] * 30
    + ["S"],
    name="party",
)


def test_case_space_and_typo_variants_are_reported_and_others_are_not():
    groups = variant_groups(PARTY)
    assert groups == [
        {"values": ["Strong Democrat", "Strong Democrat ", "strong democrat"],
         "counts": [120, 3, 2], "kind": "case, spaces or punctuation"},
        {"values": ["Strong Democrat", "Strong Democat"], "counts": [125, 1], "kind": "typo"},
    ]  # fmt: skip
    # Model 3 / Model 5 differ by a digit, M / S are codes: other categories.
    warning = variant_warning("party", groups)
    assert warning.startswith("column 'party': spellings that are likely one category: ")
    assert "data.categories_normalize=true" in warning and "\n" not in warning


def test_clean_or_non_text_columns_have_no_variants():
    assert variant_groups(pd.Series(["Biscoe", "Dream", "Torgersen"] * 5)) == []
    assert variant_groups(pd.Series([1.0, 2.0, None])) == []
    assert variant_groups(pd.Series(["a", "A"], dtype="category").iloc[:1]) == []


def test_folding_takes_the_most_frequent_spelling_and_says_each_fold():
    folded, notes = fold_case_and_space(PARTY)
    assert folded.value_counts()["Strong Democrat"] == 125
    assert notes == [
        "folded 'Strong Democrat ' (3 rows) into 'Strong Democrat'",
        "folded 'strong democrat' (2 rows) into 'Strong Democrat'",
    ]
    assert (folded == "Strong Democat").sum() == 1  # a typo is reported, never folded


def test_edit_distance_stops_past_its_limit():
    assert edit_distance("democrat", "democat", 1) == 1
    assert edit_distance("democrat", "republican", 1) == 2
    assert edit_distance("kitten", "sitting", 3) == 3


SPELLINGS = st.lists(
    st.text(alphabet=st.sampled_from("aAbB  .-é\t"), min_size=0, max_size=6), max_size=40
)


@settings(max_examples=200, deadline=None)
@given(SPELLINGS)
def test_folding_never_loses_or_invents_a_category(values):
    series = pd.Series(values, dtype=object)
    folded, notes = fold_case_and_space(series)
    assert len(folded) == len(series)
    # The same categories once case and spaces are set aside; each row keeps its own.
    assert [spaced(v) for v in folded] == [spaced(v) for v in series]
    assert set(folded) <= set(series)
    assert len(notes) == len(set(series)) - len(set(folded))
    again, more = fold_case_and_space(folded)
    assert more == [] and again.equals(folded)  # folding twice changes nothing
