"""Every key of the data section (and of a pinned schema) with a wrong shape is one line
naming it, before pandas or pandera sees it."""

import copy

import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data import config_shapes
from reprolab.data.schema_inference import require_schema_keys

GOOD = {
    "name": "penguins",
    "target": "species",
    "numeric": ["bill_length_mm"],
    "categorical": ["island"],
    "id_column": None,
    "time_column": "year",
    "date_features": [],
    "drop": [],
    "schema_file": None,
    "schema": {
        "min_rows": 100,
        "classes": ["Adelie", "Gentoo"],
        "ranges": {"bill_length_mm": [20.0, 80.0]},
        "categories": {"island": ["Biscoe", "Dream"]},
        "required": ["island"],
    },
}

WRONG = [
    ("target", None),
    ("target", ["species"]),
    ("target", True),
    ("id_column", ["id"]),
    ("time_column", {"x": 1}),
    ("numeric", "abc"),
    ("numeric", -5),
    ("numeric", ["a", "a"]),
    ("categorical", "island"),
    ("categorical", [["island"]]),
    ("drop", -5),
    ("date_features", "day"),
    ("schema_file", ["schemas/x.yaml"]),
    ("schema", "abc"),
    ("schema.min_rows", "abc"),
    ("schema.min_rows", None),
    ("schema.min_rows", -1),
    ("schema.classes", "Adelie"),
    ("schema.classes", []),
    ("schema.ranges", [1, 2]),
    ("schema.ranges.bill_length_mm", "abc"),
    ("schema.ranges.bill_length_mm", [1]),
    ("schema.ranges.bill_length_mm", [80, 20]),
    ("schema.ranges.bill_length_mm", ["a", "b"]),
    ("schema.categories.island", "Biscoe"),
    ("schema.categories.island", None),
    ("schema.required", -5),
    ("schema.unknown_key", 1),
]


def _with(key, value):
    data = copy.deepcopy(GOOD)
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def test_the_default_shape_passes():
    config_shapes.data_section(GOOD)


@pytest.mark.parametrize(("key", "value"), WRONG)
def test_a_wrong_shape_names_the_key_and_what_was_found(key, value):
    with pytest.raises(ReprolabError) as caught:
        config_shapes.data_section(_with(key, value))
    message = str(caught.value)
    named = key if key != "schema.unknown_key" else "data.schema: unknown key"
    assert message.startswith(named if named.startswith("data") else f"data.{named}")
    assert "\n" not in message


@pytest.mark.parametrize(("key", "value"), WRONG[:8])
def test_a_pinned_schema_file_is_held_to_the_same_shapes(key, value):
    schema = {**_with(key, value), "task": "classification", "excluded": {}}
    with pytest.raises(ReprolabError, match=rf"^schemas/x\.yaml\.{key.split('.')[0]}"):
        require_schema_keys(schema, "schemas/x.yaml")


def test_a_pinned_schema_with_an_unknown_task_is_refused():
    schema = {**GOOD, "task": "auto", "excluded": {}}
    with pytest.raises(ReprolabError, match="task 'auto'; expected classification or regression"):
        require_schema_keys(schema, "schemas/x.yaml")


TWO_ROLES = [
    (
        {"categorical": ["island", "bill_length_mm"]},
        "data.categorical: column 'bill_length_mm' is also data.numeric",
    ),
    (
        {"id_column": "bill_length_mm"},
        "data.numeric: column 'bill_length_mm' is also data.id_column",
    ),
    ({"drop": ["island"]}, "data.drop: column 'island' is also data.categorical"),
    ({"drop": ["species"]}, "data.drop: column 'species' is also data.target"),
    ({"id_column": "species"}, "data.id_column: column 'species' is also data.target"),
    ({"numeric": ["species"]}, "data.numeric: column 'species' is also data.target"),
    ({"date_features": ["island"]}, "data.date_features: column 'island' is also data.categorical"),
    ({"time_column": "species"}, "data.time_column: column 'species' is the target"),
]


@pytest.mark.parametrize(("change", "message"), TWO_ROLES)
def test_a_column_in_two_roles_is_refused_naming_both(change, message):
    data = {**copy.deepcopy(GOOD), **change}
    with pytest.raises(ReprolabError, match=message):
        config_shapes.data_section(data)
    with pytest.raises(ReprolabError, match=message.replace("data.", "schemas/s.yaml.")):
        require_schema_keys({**data, "task": "classification", "excluded": {}}, "schemas/s.yaml")


def test_the_time_column_may_also_be_a_feature():
    config_shapes.data_section({**copy.deepcopy(GOOD), "numeric": ["bill_length_mm", "year"]})


def test_an_unset_target_is_named_as_required_before_anything_is_read():
    for data in ({**GOOD, "target": "???"}, {k: v for k, v in GOOD.items() if k != "target"}):
        with pytest.raises(ReprolabError, match=r"^data.target: required and not set; expected"):
            config_shapes.required_target(data)
        with pytest.raises(ReprolabError, match=r"^data.target: required and not set"):
            config_shapes.data_section(data)


def test_column_names_yaml_read_as_numbers_mean_their_text():
    data = {
        **GOOD,
        "target": 2,
        "numeric": [0, "x"],
        "categorical": [1],
        "time_column": None,
        "schema": {"ranges": {0: [1, 2]}, "required": [1]},
    }
    named = config_shapes.text_names(data)
    assert (named["target"], named["numeric"], named["categorical"]) == ("2", ["0", "x"], ["1"])
    assert named["schema"] == {"ranges": {"0": [1, 2]}, "required": ["1"]}
    assert data["target"] == 2  # the config itself is not changed


@pytest.mark.parametrize(("make", "found"), [("dir", "a directory"), (None, "not found")])
def test_a_schema_file_that_is_not_a_file_names_the_key(tmp_path, monkeypatch, make, found):
    from reprolab.data.schema_inference import pinned_schema

    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemas").mkdir()
    if make == "dir":
        (tmp_path / "schemas/pinned").mkdir()
    with pytest.raises(ReprolabError, match=rf"^data.schema_file: schemas/pinned is {found}"):
        pinned_schema("schemas/pinned")
