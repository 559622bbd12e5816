import numpy as np
import pytest

from reprolab.core.errors import ReprolabError
from reprolab.data.contract import describe_failures, require_valid, validate_frame


def test_valid_frame_passes_with_missing_values_reported(penguins, data_cfg):
    data_cfg["schema"]["min_rows"] = 10
    report = validate_frame(penguins, data_cfg)
    assert report["passed"], report["failures"]
    assert report["rows"] == 60
    assert report["missing_values"] == {"bill_length_mm": 2, "sex": 2}


def test_every_violation_is_collected_with_its_count(penguins, data_cfg):
    data_cfg["schema"]["min_rows"] = 10
    bad = penguins.copy()
    bad.loc[[0, 1, 2], "body_mass_g"] = 99_999.0  # three rows out of range
    bad.loc[5, "island"] = "Mars"
    bad.loc[6, "species"] = None
    bad.loc[8, "flipper_length_mm"] = np.inf
    bad = bad.drop(columns=["sex"])
    report = validate_frame(bad, data_cfg)
    found = {
        (f["column"], f["check"].split("(")[0].split("[")[0]): f["failing"]
        for f in report["failures"]
    }
    assert not report["passed"]
    assert found[("body_mass_g", "in_range")] == 3
    assert found[("island", "isin")] == 1
    assert found[("species", "not_nullable")] == 1
    assert found[("flipper_length_mm", "is_finite")] == 1
    assert ("sex", "column_in_dataframe") in found


def test_text_in_a_numeric_column_is_named(penguins, data_cfg):
    data_cfg["schema"]["min_rows"] = 10
    bad = penguins.astype({"bill_depth_mm": "object"})
    bad.loc[3, "bill_depth_mm"] = "eighteen"
    report = validate_frame(bad, data_cfg)
    assert {"column": "bill_depth_mm", "check": "is_number"} in [
        {k: f[k] for k in ("column", "check")} for f in report["failures"]
    ]


def test_too_few_rows_fails_at_table_level(penguins, data_cfg):
    report = validate_frame(penguins.head(5), data_cfg)
    assert ("<table>", "min_rows[100]") in [(f["column"], f["check"]) for f in report["failures"]]


def test_message_lists_file_column_check_and_count(penguins, data_cfg):
    data_cfg["schema"]["min_rows"] = 10
    bad = penguins.copy()
    bad.loc[[0, 1], "body_mass_g"] = 1.0
    report = validate_frame(bad, data_cfg)
    message = describe_failures("data/raw/dataset.parquet", report)
    assert message.startswith("data/raw/dataset.parquet: 1 schema check(s) failed")
    assert (
        "column 'body_mass_g', check in_range[2000.0, 7000.0]: 2 failing (e.g. 1.0, 1.0)" in message
    )
    with pytest.raises(ReprolabError, match="body_mass_g"):
        require_valid("data/raw/dataset.parquet", report)


@pytest.mark.parametrize(
    ("key", "edit"),
    [
        ("data.drop", lambda d: d.update(drop=["no_such_column"])),
        ("data.schema.required", lambda d: d["schema"].update(required=["no_such_column"])),
        ("data.schema.ranges", lambda d: d["schema"]["ranges"].update(no_such_column=[0, 1])),
        ("data.schema.categories", lambda d: d["schema"]["categories"].update(nope=["a"])),
    ],
)
def test_a_column_named_in_the_config_but_not_in_the_table_is_refused(
    penguins, data_cfg, key, edit
):
    from reprolab.data.schema_inference import effective_schema

    edit(data_cfg)
    with pytest.raises(ReprolabError, match=rf"^{key}: column\(s\) \['no"):
        effective_schema(penguins, data_cfg)


def test_a_regression_target_must_be_finite_numbers():
    import numpy as np
    import pandas as pd

    from reprolab.data.contract import validate_frame

    frame = pd.DataFrame({"x": np.arange(30.0), "y": [np.inf, *np.arange(29.0)]})
    schema = {"task": "regression", "target": "y", "numeric": ["x"], "categorical": [],
              "schema": {"min_rows": 1}}  # fmt: skip
    failures = validate_frame(frame, schema)["failures"]
    assert [(f["column"], f["check"]) for f in failures] == [("y", "is_finite")]
