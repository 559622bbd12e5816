import json
import re

import pandas as pd
import pytest

from reprolab.core.config import get, load_params
from reprolab.core.errors import ReprolabError
from reprolab.core.files import atomic_path, read_parquet, write_json, write_parquet


def test_failed_write_keeps_the_previous_output_and_no_temp_file(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_json_is_key_sorted_and_newline_terminated(tmp_path):
    write_json(tmp_path / "m.json", {"b": 1, "a": 2})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'


def test_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "m.json", {"a": float("nan")})
    assert not (tmp_path / "m.json").exists()


def test_parquet_round_trip_and_missing_input(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", None]})
    write_parquet(tmp_path / "f.parquet", frame)
    assert read_parquet(tmp_path / "f.parquet").equals(frame)
    with pytest.raises(ReprolabError, match=r"nope.parquet: file not found.*dvc repro"):
        read_parquet(tmp_path / "nope.parquet")


def test_missing_key_is_named(params):
    assert get(params, "data.target") == "species"
    assert get(params, "data.nope", None) is None
    with pytest.raises(ReprolabError, match=r"missing key 'split.folds'"):
        get(params, "split.folds")


def test_missing_params_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ReprolabError, match=r"params.yaml: file not found.*make params"):
        load_params(tmp_path / "params.yaml")


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("bins", "ten", "monitor.bins: found 'ten'; expected a number in [2, 1000]"),
        ("p_value", 2, "monitor.p_value: found 2; expected a number in [0, 1]"),
        ("min_drifted_features", 1.5, "monitor.min_drifted_features: found 1.5; expected a whole"),
        ("reference_rows", None, "monitor.reference_rows: found None; expected a number >= 1"),
    ],
)
def test_every_monitor_setting_is_checked(params, key, value, words):
    from reprolab.core.errors import ReprolabError
    from reprolab.monitor.verdict import MonitorSettings

    with pytest.raises(ReprolabError, match=re.escape(words)):
        MonitorSettings.from_params({**params, "monitor": {**params["monitor"], key: value}})
    # Typed as conf/ holds them (whatever values a user promotes there).
    settings = MonitorSettings.from_params(params)
    assert settings.bins == params["monitor"]["bins"] and isinstance(settings.bins, int)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("port", "80", "serve.port: found '80'; expected a whole number >= 1"),
        ("workers", 0, "serve.workers: found 0; expected a whole number >= 1"),
        ("body_timeout_seconds", -1, "serve.body_timeout_seconds: found -1; expected a number"),
        ("host", "", "serve.host: found ''; expected a host name"),
        ("max_record", 5, "serve.max_record: not a setting of serve; expected one of host, "),
    ],
)
def test_serve_settings_are_typed_and_every_key_checked(params, key, value, words):
    from dataclasses import FrozenInstanceError

    from reprolab.core.errors import ReprolabError
    from reprolab.serve.app import ServeSettings

    with pytest.raises(ReprolabError, match=re.escape(words)):
        ServeSettings.from_params({**params, "serve": {**params["serve"], key: value}})
    settings = ServeSettings.from_params(params)
    assert isinstance(settings.port, int) and isinstance(settings.body_timeout_seconds, float)
    with pytest.raises(FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    missing = {k: v for k, v in params["serve"].items() if k != "workers"}
    with pytest.raises(ReprolabError, match=re.escape("missing key 'serve.workers'")):
        ServeSettings.from_params({**params, "serve": missing})


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"max_relative_regression": "abc"}, "gate.max_relative_regression: found 'abc'"),
        ({"thresholds": {"balanced_accuracy": "high"}}, "gate.thresholds.balanced_accuracy: "),
        ({"thresholds": [0.9]}, "gate.thresholds: found [0.9]; expected a mapping"),
        # bool("false") is True: a quoted false would have passed every incomparable run.
        ({"allow_incomparable": "false"}, "gate.allow_incomparable: found 'false'; expected"),
        ({"max_relative_regresion": 0.1}, "gate.max_relative_regresion: not a setting of gate"),
    ],
)
def test_gate_settings_are_checked(params, change, words):
    from reprolab.core.errors import ReprolabError
    from reprolab.workflow.gate import GateSettings

    with pytest.raises(ReprolabError, match=re.escape(words)):
        GateSettings.from_params({**params, "gate": {**params["gate"], **change}})
    settings = GateSettings.from_params(params)
    assert isinstance(settings.allow_incomparable, bool)
    assert all(isinstance(v, float) for v in settings.thresholds.values())


def test_parquet_written_in_batches_is_one_table_or_nothing(tmp_path):
    from reprolab.core.files import write_parquet_batches

    frames = [
        pd.DataFrame({"x": [1.0, None], "s": ["a", "b"]}),
        pd.DataFrame({"x": [3.0, 4.0], "s": [None, "c"]}),
    ]
    write_parquet_batches(tmp_path / "f.parquet", iter(frames))
    assert read_parquet(tmp_path / "f.parquet").equals(pd.concat(frames, ignore_index=True))

    def failing():
        yield frames[0]
        raise ReprolabError("boom")

    with pytest.raises(ReprolabError, match="boom"):
        write_parquet_batches(tmp_path / "f.parquet", failing())
    assert len(read_parquet(tmp_path / "f.parquet")) == 4  # the earlier file, untouched
    assert [p.name for p in tmp_path.iterdir()] == ["f.parquet"]
    with pytest.raises(ReprolabError, match=r"g.parquet: no rows to write"):
        write_parquet_batches(tmp_path / "g.parquet", iter([]))


def test_values_from_the_data_are_shown_as_plain_numbers_in_messages():
    import numpy as np

    from reprolab.core.errors import shown

    assert [shown(v) for v in (np.float64("inf"), np.int64(5), np.bool_(True), "a", 1.5)] == [
        "inf",
        "5",
        "True",
        "'a'",
        "1.5",
    ]
