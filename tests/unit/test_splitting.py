import pytest

from reprolab.core.errors import ReprolabError
from reprolab.splitting import split_dataset


def test_stratified_split_keeps_class_shares_and_all_rows(penguins, data_cfg):
    train, test = split_dataset(penguins, data_cfg, {"method": "stratified", "test_size": 0.25}, 1)
    assert len(train) + len(test) == len(penguins)
    assert len(test) == 15
    assert test["species"].value_counts().to_dict() == {"Adelie": 5, "Chinstrap": 5, "Gentoo": 5}


def test_stratified_split_is_seeded(penguins, data_cfg):
    cfg = {"method": "stratified", "test_size": 0.25}
    first, _ = split_dataset(penguins, data_cfg, cfg, 7)
    again, _ = split_dataset(penguins, data_cfg, cfg, 7)
    other, _ = split_dataset(penguins, data_cfg, cfg, 8)
    assert first.equals(again)
    assert not first.equals(other)


def test_class_with_one_row_is_refused_by_name(penguins, data_cfg):
    frame = penguins.copy()
    frame.loc[0, "species"] = "Emperor"
    with pytest.raises(ReprolabError, match=r"column 'species'.*\['Emperor'\].*at least 2"):
        split_dataset(frame, data_cfg, {"method": "stratified", "test_size": 0.25}, 1)


def test_time_split_puts_the_future_in_test(penguins, data_cfg):
    train, test = split_dataset(penguins, data_cfg, {"method": "time", "test_from": 2009}, 1)
    assert set(test["year"]) == {2009}
    assert set(train["year"]) == {2007, 2008}


def test_time_split_that_empties_a_side_names_the_key(penguins, data_cfg):
    with pytest.raises(ReprolabError, match=r"split.test_from: 2020 leaves an empty test set"):
        split_dataset(penguins, data_cfg, {"method": "time", "test_from": 2020}, 1)


def test_unknown_method_names_the_key(penguins, data_cfg):
    with pytest.raises(ReprolabError, match=r"split\.method: unknown method 'kfold'"):
        split_dataset(penguins, data_cfg, {"method": "kfold"}, 1)
