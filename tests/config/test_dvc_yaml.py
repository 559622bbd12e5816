"""dvc.yaml says exactly what each stage reads and writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reprolab.core.config import Paths, get
from reprolab.core.errors import ReprolabError
from reprolab.workflow.stage_deps import (
    CORE,
    code_deps,
    code_deps_lines,
    project_imports,
    rewritten,
)

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
STAGES = list(PIPELINE["stages"])


def _outs(stage: dict) -> set[str]:
    paths = set()
    for section in ("outs", "metrics", "plots"):
        for entry in stage.get(section, []):
            paths |= set(entry) if isinstance(entry, dict) else {entry}
    return paths


def _reprolab_imports(path: Path) -> set[str]:
    return project_imports(ROOT, path)


def test_stage_order_is_the_pipeline():
    assert STAGES == [
        "ingest",
        "validate",
        "split",
        "featurize",
        "train",
        "evaluate",
        "package",
        "monitor",
    ]


@pytest.mark.parametrize("name", STAGES)
def test_stage_runs_its_own_module(name):
    assert PIPELINE["stages"][name]["cmd"] == f"PYTHONPATH=src python -m reprolab.stages.{name}"


@pytest.mark.parametrize("name", STAGES)
def test_code_deps_are_exactly_the_code_the_stage_runs(name):
    """What `make deps` writes: the stage's import closure (package: with every earlier
    stage's code). On a difference, the block to paste is printed."""
    listed = [d for d in PIPELINE["stages"][name]["deps"] if d.startswith("src/")]
    expected = code_deps(ROOT, STAGES, name)
    block = "".join(code_deps_lines(ROOT, STAGES, name, "      "))
    assert listed == expected, f"run `make deps`, or paste as {name}'s src/ deps:\n{block}"


def test_make_deps_leaves_dvc_yaml_unchanged():
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert rewritten(ROOT, text) == text


def test_the_core_folder_imports_nothing_outside_it():
    for path in (ROOT / CORE).glob("*.py"):
        outside = {m for m in _reprolab_imports(path) if not m.startswith("reprolab.core")}
        assert not outside, f"{path.name} imports {outside}: list them as stage deps or move them"


def test_outputs_are_the_paths_the_code_writes():
    declared = set().union(*(_outs(stage) for stage in PIPELINE["stages"].values()))
    in_code = {str(value) for key, value in vars(Paths).items() if not key.startswith("_")}
    assert declared == in_code


def test_metrics_and_plot_data_are_tracked_by_git_not_the_cache():
    evaluate = PIPELINE["stages"]["evaluate"]
    entries = evaluate["metrics"] + evaluate["outs"]
    assert all(next(iter(e.values()))["cache"] is False for e in entries)


def test_outputs_kept_in_git_survive_a_failed_stage():
    """No cache holds a `cache: false` output: DVC must not delete it before its stage
    runs (persist), or a failing stage loses the last good one."""
    kept = [
        (name, next(iter(entry)))
        for name, stage in PIPELINE["stages"].items()
        for entry in stage.get("outs", []) + stage.get("metrics", [])
        if isinstance(entry, dict) and next(iter(entry.values())).get("cache") is False
    ]
    assert len(kept) >= 13
    for name, path in kept:
        entry = next(
            e
            for e in PIPELINE["stages"][name].get("outs", [])
            + PIPELINE["stages"][name].get("metrics", [])
            if isinstance(e, dict) and path in e
        )
        assert entry[path] == {"cache": False, "persist": True}, (name, path)
    plotted = {next(iter(p)) for p in PIPELINE["plots"]}
    assert plotted == {
        str(Paths.confusion),
        str(Paths.roc),
        str(Paths.precision_recall),
        str(Paths.predicted_vs_actual),
        str(Paths.residuals),
        str(Paths.reliability),
        str(Paths.drift),
        str(Paths.performance_estimates),
    }


@pytest.mark.parametrize("name", STAGES)
def test_params_keys_exist(name, params):
    for key in PIPELINE["stages"][name].get("params", []):
        get(params, key)


def test_only_train_and_the_model_card_read_the_model_params():
    # The card records the parameters (the whole params.yaml is its dependency);
    # everything else follows the model through its deps.
    reading_model = [n for n in STAGES if "model" in PIPELINE["stages"][n].get("params", [])]
    assert reading_model == ["train"]
    assert "params.yaml" in PIPELINE["stages"]["package"]["deps"]


# What each folder may import (besides core/, which every folder may use). Domain
# folders know nothing of the commands that drive them.
MAY_IMPORT = {
    "core": set(),
    "data": {"data"},
    "model": {"data", "model"},
    "monitor": {"data", "model", "monitor"},
    "engine": {"data", "model", "engine"},
    "serve": {"data", "model", "serve", "workflow.vcs"},
    "workflow": {"data", "model", "monitor", "serve", "engine", "workflow"},
    "stages": {"data", "model", "monitor", "engine", "workflow.compose"},
}


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_folders_import_only_in_the_allowed_direction(folder):
    allowed = {"reprolab.core"} | {f"reprolab.{name}" for name in MAY_IMPORT[folder]}
    for path in (ROOT / "src/reprolab" / folder).glob("*.py"):
        for module in _reprolab_imports(path):
            # `reprolab` itself only as a package: `reprolab.x` is checked against x.
            assert module == "reprolab" or any(
                module == a or module.startswith(f"{a}.") for a in allowed
            ), (
                f"{folder}/{path.name} imports {module}; {folder}/ may import "
                f"{sorted(MAY_IMPORT[folder]) or 'core only'} (see its __init__ docstring)"
            )


def test_the_package_has_no_module_outside_the_folders():
    top = sorted(p.name for p in (ROOT / "src/reprolab").glob("*.py"))
    assert top == ["__init__.py"]


def test_make_deps_adds_a_missing_import_and_keeps_comments_and_data_deps(tmp_path):
    """On a copy whose ingest lost a dep and split holds one too many: the src/ lines
    come back exact; the comments and the data deps around them are untouched."""
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    stale = text.replace("      - src/reprolab/data/sources.py\n", "", 1).replace(
        "      - src/reprolab/data/splitting.py\n",
        "      - src/reprolab/data/splitting.py\n      - src/reprolab/data/synthetic.py\n",
        1,
    )
    assert stale != text
    assert rewritten(ROOT, stale) == text


def test_make_deps_refuses_src_deps_it_cannot_rewrite_in_place():
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    split = text.replace(
        "      - src/reprolab/data/sources.py\n",
        "      - data/external\n      - src/reprolab/data/sources.py\n",
        1,
    )
    with pytest.raises(ReprolabError, match="ingest's src/ deps are not one run of lines"):
        rewritten(ROOT, split)
