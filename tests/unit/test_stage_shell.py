"""The stage shells as DVC runs them: real subprocesses, real files."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from reprolab.core.config import Paths

STAGES = ["ingest", "validate", "split", "featurize", "train", "evaluate", "package", "monitor"]


def _run(stage, cwd, root, *args):
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", f"reprolab.stages.{stage}", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stage", STAGES)
def test_help_describes_the_stage(stage, root, tmp_path):
    result = _run(stage, tmp_path, root, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: python -m reprolab.stages.{stage}")
    assert f"{stage}: " in result.stdout


def test_invalid_data_fails_with_one_message_and_a_report(root, tmp_path, penguins):
    shutil.copy(root / "params.yaml", tmp_path / "params.yaml")
    bad = penguins.copy()
    bad.loc[[0, 1, 2], "body_mass_g"] = 99_999.0
    bad.loc[4, "island"] = "Mars"
    (tmp_path / Paths.raw).parent.mkdir(parents=True)
    bad.to_parquet(tmp_path / Paths.raw)

    result = _run("validate", tmp_path, root)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "validate: error: data/raw/dataset.parquet: 3 schema check(s) failed:" in result.stderr
    assert "column 'body_mass_g', check in_range[2000.0, 7000.0]: 3 failing" in result.stderr
    assert (
        "column 'island', check isin(['Biscoe', 'Dream', 'Torgersen']): 1 failing" in result.stderr
    )
    assert "column '<table>', check min_rows[100]: 1 failing" in result.stderr
    report = json.loads((tmp_path / Paths.validation_report).read_text())
    assert report["passed"] is False
    assert len(report["failures"]) == 3


def test_missing_input_names_the_file_and_the_fix(root, tmp_path):
    shutil.copy(root / "params.yaml", tmp_path / "params.yaml")
    result = _run("split", tmp_path, root)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "split: error: reports/schema.yaml: file not found; "
        "expected the output of an earlier stage (run `dvc repro`)"
    )


def test_a_stage_run_outside_the_project_environment_says_so_in_one_line(root):
    """`.venv/bin/dvc exp run` without activating .venv runs stages with another python;
    `-S` (no site-packages) makes this one such a python."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-S", "-m", "reprolab.stages.train"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("train: error: ") and "lacks numpy, pandas" in lines[0]
    assert "source .venv/bin/activate" in lines[0]


def test_a_library_warning_is_one_line_naming_the_command(root):
    code = (
        "import warnings\n"
        "from reprolab.core.shell import user_errors\n"
        "with user_errors('train'):\n"
        "    warnings.warn('lbfgs failed to converge\\nIncrease max_iter.', RuntimeWarning)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stderr == (
        "train: warning: RuntimeWarning: lbfgs failed to converge Increase max_iter.\n"
    )


@pytest.mark.parametrize("traceback_wanted", [False, True])
def test_an_error_no_check_foresaw_is_one_line_unless_asked_for(root, traceback_wanted):
    code = (
        "from reprolab.core.shell import user_errors\n"
        "with user_errors('featurize'):\n"
        "    {}['x'] + 1\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    env.pop("REPROLAB_TRACEBACK", None)
    if traceback_wanted:
        env["REPROLAB_TRACEBACK"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    if traceback_wanted:
        assert "Traceback" in result.stderr
    else:
        assert result.stderr.startswith("featurize: error: unexpected KeyError: 'x'; ")
        assert "REPROLAB_TRACEBACK=1" in result.stderr and result.stderr.count("\n") == 1


def test_params_yaml_that_is_not_yaml_stops_a_stage_in_one_line(root, tmp_path):
    (tmp_path / "params.yaml").write_text("data: {target: species\n")
    result = _run("ingest", tmp_path, root)
    assert result.returncode == 1
    assert result.stderr.startswith("ingest: error: params.yaml: not valid YAML (line 2)")
    assert result.stderr.count("\n") == 1
