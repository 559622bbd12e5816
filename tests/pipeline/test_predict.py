"""Batch prediction on the trained pipeline: chunks, validation, atomic output, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import predict_file, run

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def trained(repo):
    run(repo, "dvc", "repro")
    return repo


def predict(repo, source, target, check=True):
    return predict_file(repo, source, target, "--chunk-rows", "50", check=check)


def test_chunks_give_the_same_predictions_as_the_model_in_one_go(trained, tmp_path):
    from palmerpenguins import load_penguins

    rows = load_penguins().drop(columns=["species"])
    rows.to_csv(tmp_path / "in.csv", index=False)
    rows.to_parquet(tmp_path / "in.parquet", index=False)
    predict(trained, tmp_path / "in.csv", tmp_path / "out.parquet")
    predict(trained, tmp_path / "in.parquet", tmp_path / "out.csv")
    from_csv = pd.read_parquet(tmp_path / "out.parquet")
    from_parquet = pd.read_csv(tmp_path / "out.csv")
    assert len(from_csv) == len(rows) == len(from_parquet)
    assert list(from_csv.columns[-5:]) == [
        "prediction",
        "proba_Adelie",
        "proba_Chinstrap",
        "proba_Gentoo",
        "out_of_range",  # values outside what training saw, per row
    ]
    assert (from_csv["prediction"] == from_parquet["prediction"]).all()
    assert np.allclose(from_csv.filter(like="proba_").sum(axis=1), 1)
    card = json.loads((trained / "reports/model_card.json").read_text())
    assert card["metrics"]["accuracy"] > 0.9  # the card the predictions come with


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda f: f.drop(columns=["island"]), "required column(s) ['island'] not found"),
        (
            lambda f: f.assign(
                body_mass_g=f["body_mass_g"].astype(object).where(f.index != 60, "heavy")
            ),
            "column 'body_mass_g', check is_number: 1 failing",
        ),
    ],
)
def test_bad_input_is_refused_and_no_output_is_left(trained, tmp_path, change, words):
    from palmerpenguins import load_penguins

    change(load_penguins().drop(columns=["species"])).to_csv(tmp_path / "bad.csv", index=False)
    result = predict(trained, tmp_path / "bad.csv", tmp_path / "out.parquet", check=False)
    assert result.returncode == 1
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # nothing half-written


def test_a_parquet_input_with_nested_cells_is_refused_naming_the_column(trained, tmp_path):
    from palmerpenguins import load_penguins

    rows = load_penguins().drop(columns=["species"])
    rows.assign(island=[[name] for name in rows["island"]]).to_parquet(tmp_path / "bad.parquet")
    result = predict(trained, tmp_path / "bad.parquet", tmp_path / "out.parquet", check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "bad.parquet: column(s) ['island'] hold lists, structs or maps" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet"]


def test_encodings_compression_and_junk_inputs(trained, tmp_path):
    from palmerpenguins import load_penguins

    rows = load_penguins().drop(columns=["species"]).head(40)
    rows.to_csv(tmp_path / "rows.csv.gz", index=False)  # compressed: read as its name says
    predict(trained, tmp_path / "rows.csv.gz", tmp_path / "from_gz.csv")
    assert len(pd.read_csv(tmp_path / "from_gz.csv")) == 40
    rows.assign(island=rows["island"].str.replace("Dream", "Dréam")).to_csv(
        tmp_path / "latin.csv", index=False, encoding="latin-1"
    )
    refused = predict(trained, tmp_path / "latin.csv", tmp_path / "x.csv", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "not valid utf-8; expected text in --encoding (e.g. --encoding latin-1)" in (
        refused.stderr
    )
    predict_file(
        trained, tmp_path / "latin.csv", tmp_path / "latin_scored.csv", "--encoding", "latin-1"
    )
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 truncated")
    junk = predict(trained, tmp_path / "junk.parquet", tmp_path / "y.csv", check=False)
    assert junk.returncode == 1 and "cannot read it" in junk.stderr
    assert "Traceback" not in junk.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()


def test_chunks_typed_differently_by_a_csv_reader_write_one_table(trained, tmp_path):
    """The first chunk's `sex` is all missing (read as floats), a later one is text; an
    extra column is empty at first, numbers later: both used to end in ArrowInvalid."""
    from palmerpenguins import load_penguins

    rows = load_penguins().drop(columns=["species"]).dropna(subset=["bill_length_mm"]).copy()
    rows["sex"] = rows["sex"].astype(object)
    rows.loc[rows.index[:50], "sex"] = None
    rows.to_csv(tmp_path / "in.csv", index=False)
    predict(trained, tmp_path / "in.csv", tmp_path / "out.parquet")
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert len(scored) == len(rows) and scored["sex"].iloc[60] in ("male", "female")
    whole = pd.read_csv(tmp_path / "in.csv")
    predict_file(trained, tmp_path / "in.csv", tmp_path / "one.parquet", "--chunk-rows", "1000")
    assert (pd.read_parquet(tmp_path / "one.parquet")["prediction"] == scored["prediction"]).all()
    assert len(whole) == len(scored)


def test_an_output_that_is_a_directory_is_one_line(trained, tmp_path):
    from palmerpenguins import load_penguins

    load_penguins().drop(columns=["species"]).to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "out.csv").mkdir()
    result = predict(trained, tmp_path / "in.csv", tmp_path / "out.csv", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "out.csv: a directory; expected a file name to write" in result.stderr


def test_two_runs_writing_one_output_at_once_both_finish(trained, tmp_path):
    import subprocess
    import sys

    from palmerpenguins import load_penguins

    rows = pd.concat([load_penguins().drop(columns=["species"])] * 30, ignore_index=True)
    rows.to_csv(tmp_path / "in.csv", index=False)
    command = [sys.executable, "-m", "reprolab.serve.predict", "--input", str(tmp_path / "in.csv"),
               "--output", str(tmp_path / "out.parquet"), "--chunk-rows", "500"]  # fmt: skip
    runs = [
        subprocess.Popen(command, cwd=trained, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == len(rows)
    assert not list(tmp_path.glob(".out.parquet.tmp-*"))


def test_values_outside_what_training_saw_are_flagged_in_a_column(trained, tmp_path):
    from palmerpenguins import load_penguins

    rows = load_penguins().drop(columns=["species"]).head(5).copy()
    rows.loc[rows.index[1], "flipper_length_mm"] = 240.0  # the contract allows up to 250
    rows.to_csv(tmp_path / "in.csv", index=False)
    predict(trained, tmp_path / "in.csv", tmp_path / "out.csv")
    flags = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)["out_of_range"].tolist()
    assert flags[1].startswith("flipper_length_mm: 240 outside the training range [172, ")
    assert flags[0] == flags[2] == ""


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["bill_length_mm", "body_mass_g", "island", "sex", "year"]),
            st.sampled_from(
                ["", "NA", "?", "abc", "1e400", "-0", "\uff11\uff12", "\t", '"', "1,5", "x" * 300]
            ),
            st.integers(min_value=0, max_value=29),
        ),
        max_size=6,
    ),
    st.sampled_from([",", ";"]),
)
def test_generated_files_are_scored_or_refused_in_one_line(trained, tmp_path_factory, edits, sep):
    """hypothesis drives batch prediction with generated files: a scored table of every
    row, or exit 1 with one line naming the file, never a traceback or a partial output."""
    from palmerpenguins import load_penguins

    folder = tmp_path_factory.mktemp("generated")
    rows = load_penguins().drop(columns=["species"]).head(30).astype(object)
    for column, value, row in edits:
        rows.loc[rows.index[row], column] = value
    rows.to_csv(folder / "in.csv", index=False, sep=sep)
    result = predict_file(trained, folder / "in.csv", folder / "out.csv", "--delimiter", sep,
                          check=False)  # fmt: skip
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert len(pd.read_csv(folder / "out.csv", sep=",")) == 30
    else:
        errors = [line for line in result.stderr.splitlines() if ": error: " in line]
        assert result.returncode == 1 and len(errors) == 1, result.stderr
        assert not (folder / "out.csv").exists()
