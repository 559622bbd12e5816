import subprocess

import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.sweep import expand, failure_reason, load_grid, refuse_untracked


def test_expand_uses_hydra_sweep_syntax():
    combos = expand(["model=a,b", "model.max_depth=range(2,6,2)"])
    assert combos == [
        ["model=a", "model.max_depth=2"],
        ["model=a", "model.max_depth=4"],
        ["model=b", "model.max_depth=2"],
        ["model=b", "model.max_depth=4"],
    ]
    assert expand(["model.C=choice(0.1,1)"]) == [["model.C=0.1"], ["model.C=1"]]


def test_every_named_grid_expands(root):
    for name in ("default", "forest_depth", "forest_size"):
        assert len(expand(load_grid(name, root / "conf/sweeps.yaml"))) >= 4


def test_unknown_grid_names_the_choices(root):
    with pytest.raises(ReprolabError, match=r"no grid named 'nope'; expected one of \["):
        load_grid("nope", root / "conf/sweeps.yaml")


def test_untracked_source_files_are_refused_by_name(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "conf/model").mkdir(parents=True)
    (tmp_path / "conf/model/new.yaml").write_text("C: 1\n")
    (tmp_path / "notes.txt").write_text("not a source file\n")
    with pytest.raises(ReprolabError, match=r"untracked files \['conf/model/new.yaml'\]"):
        refuse_untracked(tmp_path)


def test_failure_reason_prefers_the_stage_error_line():
    log = (
        "Running stage 'train':\n> python -m reprolab.stages.train\n"
        "train: error: model: The 'C' parameter of LogisticRegression must be > 0\n"
        "ERROR: failed to reproduce 'train': failed to run\n"
    )
    assert failure_reason(log).startswith("train: error: model: The 'C' parameter")
    traceback = "Traceback (most recent call last):\n  File x\nValueError: bad\nERROR: failed\n"
    assert failure_reason(traceback) == "ValueError: bad"
    assert failure_reason("") == "(no output)"
