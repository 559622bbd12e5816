"""The bad-input matrix: each case exits non-zero with one message naming the file, column
or key, no traceback, and no half-written output. Stages run as DVC runs them."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from reprolab.workflow.compose import compose_to

from .helpers import run
from .tables import churn, houses

pytestmark = pytest.mark.pipeline

STAGES = ("ingest", "validate", "split")


def _houses_with(**changes) -> pd.DataFrame:
    frame = houses(rows=60)
    for column, values in changes.items():
        frame[column] = values
    return frame


def _write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        content.to_csv(path, index=False)


GOOD = "area_m2,rooms,price\n50,2,100\n60,3,120\n"
CASES = {
    # case: (file content or None, extra overrides, failing stage, words of the message)
    "missing file": (None, [], "ingest", "data.path: file 'data/external/t.csv' not found"),
    "empty file": (b"", [], "ingest", "data/external/t.csv: empty file"),
    "header only": (
        "area_m2,rooms,price\n",
        [],
        "ingest",
        "data/external/t.csv: header only, no data rows",
    ),
    "undecodable bytes": (
        b"area,price\n\xff\xfe\x00bad,1\n",
        [],
        "ingest",
        "data/external/t.csv: line 2 has bytes b'\\xff' that are not valid utf-8",
    ),
    "wrong delimiter": (
        "area_m2;rooms;price\n50;2;100\n60;3;120\n",
        ["data.source.delimiter=','"],
        "ingest",
        "found one column 'area_m2;rooms;price'",
    ),
    "duplicate column names": (
        "a,a,price\n1,2,3\n4,5,6\n",
        [],
        "ingest",
        "duplicate column names ['a']",
    ),
    "target column missing": (
        GOOD,
        ["data.target=cost"],
        "validate",
        "data.target: column 'cost' not found",
    ),
    "target all null": (
        _houses_with(price=np.nan),
        [],
        "validate",
        "column 'price' (data.target): all values missing",
    ),
    "target constant": (
        _houses_with(price=5.0),
        [],
        "validate",
        "column 'price' (data.target): one value only",
    ),
    "single class": (
        churn().assign(churned=1),
        ["data.target=churned", "data.task=classification"],
        "validate",
        "column 'churned' (data.target): 1 class(es); expected at least 2",
    ),
    "class too small to split": (
        churn().assign(churned=[2] + [0, 1] * 99 + [0]),
        ["data.target=churned"],
        "validate",
        "column 'churned', check class_has_2_rows: 1 failing",
    ),
    # Named as soon as the file is read: inferred roles would otherwise make it a category.
    "text in a numeric column": (
        _houses_with(rooms=["two"] + [3] * 59),
        ["data.numeric=[rooms,area_m2]", "data.categorical=[city]"],
        "ingest",
        "column 'rooms' looks numeric (59 of its 60 values are numbers) but 1 values are not "
        "(e.g. 'two')",
    ),
    "infinity": (
        _houses_with(area_m2=[np.inf] + [50.0] * 59),
        [],
        "validate",
        "column 'area_m2', check is_finite: 1 failing",
    ),
    "row id in the features": (
        houses(rows=60),
        ["data.numeric=[listing_id,area_m2]", "data.categorical=[city]"],
        "validate",
        "column 'listing_id', check not_a_row_id",
    ),
    "copy of the target": (
        _houses_with(price_again=houses(rows=60)["price"]),
        ["data.numeric=[price_again,area_m2]", "data.categorical=[city]"],
        "validate",
        "column 'price_again', check not_a_copy_of_the_target",
    ),
    # Which role would win is an accident of the code (it was a traceback in featurize).
    "column in two roles": (
        houses(rows=60),
        ["data.numeric=[rooms,area_m2]", "data.categorical=[rooms]"],
        "validate",
        "data.categorical: column 'rooms' is also data.numeric",
    ),
    "all-null feature": (
        _houses_with(rooms=np.nan),
        ["data.numeric=[rooms,area_m2]", "data.categorical=[city]"],
        "validate",
        "column 'rooms', check not_all_missing: 60 failing",
    ),
}


def _stage(workdir: Path, root: Path, stage: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", f"reprolab.stages.{stage}"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_clearly_and_cleanly(case, root, tmp_path):
    content, overrides, failing, words = CASES[case]
    if content is not None:
        _write(tmp_path / "data/external/t.csv", content)
    compose_to(
        tmp_path / "params.yaml",
        root,
        ["data=csv", "data.path=data/external/t.csv", "data.target=price", *overrides],
    )
    for stage in STAGES:
        result = _stage(tmp_path, root, stage)
        if result.returncode != 0:
            break
    assert stage == failing, result.stderr
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{stage}: error: "), result.stderr
    assert words in result.stderr, result.stderr
    # Nothing half-written: no temp files, and the failing stage's data output is absent.
    assert not list(tmp_path.rglob(".*.tmp-*"))
    if stage == "ingest":
        assert not (tmp_path / "data/raw/dataset.parquet").exists()
    if stage == "validate":
        assert not (tmp_path / "data/interim").exists()


def _first_failure(workdir: Path, root: Path) -> tuple[str, subprocess.CompletedProcess]:
    for stage in STAGES:
        result = _stage(workdir, root, stage)
        if result.returncode != 0:
            return stage, result
    return "", result


def test_an_unset_target_is_named_before_ingest_reads_the_file(root, tmp_path):
    _write(tmp_path / "data/external/t.csv", GOOD)
    compose_to(tmp_path / "params.yaml", root, ["data=csv", "data.path=data/external/t.csv"])
    stage, result = _first_failure(tmp_path, root)
    assert stage == "ingest" and result.stderr.startswith(
        "ingest: error: data.target: required and not set; expected the column to predict"
    ), result.stderr
    assert not (tmp_path / "data/raw").exists()


@pytest.mark.parametrize(
    ("content", "target", "expected"),
    [
        # gzip bytes, whatever the name
        (
            gzip.compress(houses(rows=60).to_csv(index=False).encode(), mtime=0),
            "price",
            "regression",
        ),
        # numbers with thousands separators in the target, as in a feature
        (
            houses(rows=60)
            .assign(price=lambda f: f["price"] * 1000)
            .to_csv(index=False, float_format="{:,.0f}".format)
            .replace("\r", ""),
            "price",
            "regression",
        ),
        # columns named 0, 1, 2: `-S data.target=2` is YAML's number 2, the column "2"
        (
            houses(rows=60)[["area_m2", "rooms", "price"]].set_axis(["0", "1", "2"], axis=1),
            "2",
            "regression",
        ),
    ],
    ids=["gzip", "thousands in the target", "numbers as column names"],
)
def test_real_table_shapes_read_as_meant(root, tmp_path, content, target, expected):
    import yaml

    _write(tmp_path / "data/external/t.csv", content)
    compose_to(
        tmp_path / "params.yaml",
        root,
        ["data=csv", "data.path=data/external/t.csv", f"data.target={target}"],
    )
    stage, result = _first_failure(tmp_path, root)
    assert stage == "", result.stderr
    schema = yaml.safe_load((tmp_path / "reports/schema.yaml").read_text())
    assert (schema["task"], schema["target"]) == (expected, "price" if target == "price" else "2")
    assert len(schema["numeric"]) >= 2


def test_unknown_config_key_and_model_name_are_named(repo):
    key = run(repo, "dvc", "exp", "run", "-S", "split.folds=5", check=False)
    assert key.returncode != 0
    assert "split.folds" in key.stderr
    model = run(repo, "dvc", "exp", "run", "-S", "model=gradient_magic", check=False)
    assert model.returncode != 0
    assert "model/gradient_magic" in model.stderr or "gradient_magic" in model.stderr
    # Nothing lost: the committed outputs are intact and still match dvc.lock.
    assert run(repo, "git", "status", "--porcelain", "--", "dvc.lock", "metrics").stdout == ""


def test_a_time_split_whose_test_period_lacks_a_class_is_evaluated(root, tmp_path):
    """Seattle weather's shape: no `snow` after 2015. Metrics over the classes present,
    the absent one named (evaluate refused it, blaming the split's size)."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2012-01-01", "2015-12-31", freq="D")
    temp = rng.normal(12, 8, len(days)).round(1)
    rain = rng.gamma(1.0, 3.0, len(days)).round(1)
    weather = np.where(rain > 4, "rain", np.where(temp < 2, "snow", "sun"))
    weather[(days.year == 2015) & (weather == "snow")] = "sun"
    frame = pd.DataFrame({"year": days.year, "temp_max": temp, "precipitation": rain,
                          "weather": weather})  # fmt: skip
    _write(tmp_path / "data/external/t.csv", frame)
    overrides = ["data.time_column=year", "split=time", "split.test_from=2015"]
    compose_to(
        tmp_path / "params.yaml",
        root,
        ["data=csv", "data.path=data/external/t.csv", "data.target=weather", *overrides],
    )
    for stage in (*STAGES, "featurize", "train", "evaluate"):
        result = _stage(tmp_path, root, stage)
        assert result.returncode == 0, result.stderr
    assert "test split has no rows of class(es) ['snow']" in result.stderr
    metrics = json.loads((tmp_path / "metrics/evaluate.json").read_text())
    assert metrics["absent_classes"] == ["snow"]
    assert 0.5 < metrics["roc_auc_ovr"] <= 1 and metrics["per_class"]["snow"]["support"] == 0


def test_panel_data_refused_by_the_overlap_guard_splits_by_group(root, tmp_path):
    """Repeated people: a random split puts copies of a person's rows on both sides."""
    rng = np.random.default_rng(1)
    people = pd.DataFrame({"person": np.arange(80), "age": rng.integers(20, 70, 80),
                           "income": rng.normal(50, 15, 80).round(1)})  # fmt: skip
    people["plan"] = np.where(people["income"] > 50, "gold", "basic")
    panel = people.loc[people.index.repeat(4)].reset_index(drop=True)  # 4 waves, same answers
    _write(tmp_path / "data/external/t.csv", panel)
    data = ["data=csv", "data.path=data/external/t.csv", "data.target=plan"]
    compose_to(tmp_path / "params.yaml", root, [*data, "data.drop=[person]"])
    stage, result = _first_failure(tmp_path, root)
    assert stage == "split" and "split=group, split.group_column=<column>" in result.stderr
    compose_to(
        tmp_path / "params.yaml",
        root,
        [*data, "data.drop=[person]", "split=group", "split.group_column=person"],
    )
    stage, result = _first_failure(tmp_path, root)
    assert stage == "", result.stderr
    assert "(group: whole groups of 'person' on each side)" in result.stderr
    train = pd.read_parquet(tmp_path / "data/interim/train.parquet")
    test = pd.read_parquet(tmp_path / "data/interim/test.parquet")
    assert not set(train["person"]) & set(test["person"])
    assert len(test) == 80  # 20 whole people of 4 rows: a quarter of the rows


def test_category_spellings_are_reported_and_folded_only_on_request(root, tmp_path):
    spellings = ["Strong Democrat"] * 50 + ["strong democrat "] * 4 + ["Strong Democat"]
    income = np.random.default_rng(0).normal(50, 10, 100).round(3)
    frame = pd.DataFrame({"party": spellings + ["Independent"] * 45, "income": income,
                          "voted": ["yes", "no"] * 50})  # fmt: skip
    _write(tmp_path / "data/external/t.csv", frame)
    data = ["data=csv", "data.path=data/external/t.csv", "data.target=voted"]
    compose_to(tmp_path / "params.yaml", root, data)
    stage, result = _first_failure(tmp_path, root)
    assert stage == "", result.stderr
    assert "validate: warning: column 'party': spellings that are likely one category" in (
        _stage(tmp_path, root, "validate").stderr
    )
    report = json.loads((tmp_path / "reports/validation.json").read_text())
    assert [g["kind"] for g in report["category_variants"]["party"]] == [
        "case, spaces or punctuation",
        "typo",
    ]
    compose_to(tmp_path / "params.yaml", root, [*data, "data.categories_normalize=true"])
    ingest = _stage(tmp_path, root, "ingest")
    assert "folded 'strong democrat ' (4 rows) into 'Strong Democrat'" in ingest.stderr
    raw = pd.read_parquet(tmp_path / "data/raw/dataset.parquet")
    assert sorted(raw["party"].unique()) == ["Independent", "Strong Democat", "Strong Democrat"]


def test_new_files_are_read_in_the_training_file_s_own_format(root, tmp_path):
    """A `;`-separated file with decimal commas and `16.000`-style thousands: predict and
    the monitor read new files of that format as ingest read the training file."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"area": rng.uniform(20, 200, 120).round(1),
                          "price": rng.integers(5_000, 90_000, 120)})  # fmt: skip
    frame["kind"] = np.where(frame["price"] > 40_000, "big", "small")

    def european(part: pd.DataFrame) -> str:
        text = part.assign(
            area=part["area"].map(lambda v: f"{v:.1f}".replace(".", ",")),
            price=part["price"].map(lambda v: f"{v:,}".replace(",", ".")),
        )
        return text.to_csv(index=False, sep=";")

    _write(tmp_path / "data/external/t.csv", european(frame[:100]))
    compose_to(tmp_path / "params.yaml", root,
               ["data=csv", "data.path=data/external/t.csv", "data.target=kind"])  # fmt: skip
    for stage in (*STAGES, "featurize", "train"):
        assert _stage(tmp_path, root, stage).returncode == 0
    schema = yaml.safe_load((tmp_path / "reports/schema.yaml").read_text())
    assert schema["source_format"] == {"encoding": "utf-8", "delimiter": ";", "decimal": ",",
                                       "thousands": ".", "na_values": []}  # fmt: skip
    new = frame[100:].drop(columns=["kind"])
    (tmp_path / "new.csv").write_text(european(new))
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    scored = subprocess.run(
        [sys.executable, "-m", "reprolab.serve.predict", "--input", "new.csv", "--output",
         "scored.csv", "--allow-unlisted-model"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert "delimiter=';'" in scored.stderr
    assert pd.read_csv(tmp_path / "scored.csv")["price"].tolist() == new["price"].tolist()
    (tmp_path / "data/production").mkdir()
    (tmp_path / "data/production/week.csv").write_text(european(frame[100:]))
    assert _stage(tmp_path, root, "evaluate").returncode == 0  # the monitor reads its metrics
    monitor = _stage(tmp_path, root, "monitor")
    assert monitor.returncode == 0, monitor.stderr
