"""dvc.yaml says exactly what each stage reads and writes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from reprolab.core.config import Paths, get
from reprolab.model.persistence import TRUSTED_TYPES

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
STAGES = list(PIPELINE["stages"])


def _outs(stage: dict) -> set[str]:
    paths = set()
    for section in ("outs", "metrics", "plots"):
        for entry in stage.get(section, []):
            paths |= set(entry) if isinstance(entry, dict) else {entry}
    return paths


def _module_file(module: str) -> Path:
    path = ROOT / "src" / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _reprolab_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reprolab"):
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _module_file(f"{node.module}.{alias.name}").exists()
            }
    return found


# Our classes a saved model may hold: loading it runs their modules' code.
MODEL_MODULES = {name.rsplit(".", 1)[0] for name in TRUSTED_TYPES if name.startswith("reprolab.")}


def _code_closure(module: str) -> set[str]:
    """Every project source file a stage module runs, following its imports, and, for
    a stage that loads a model, the modules of our classes the model may hold."""
    seen: set[Path] = set()
    todo = [_module_file(module)]
    if "load_model(" in todo[0].read_text(encoding="utf-8"):
        todo += [_module_file(m) for m in MODEL_MODULES]
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        todo += [_module_file(m) for m in _reprolab_imports(path)]
    return {str(p.relative_to(ROOT)) for p in seen if p.name != "__init__.py"}


def _files(deps: set[str]) -> set[str]:
    """Code deps with folders expanded into their modules (not __init__.py)."""
    files = set()
    for dep in deps:
        path = ROOT / dep
        found = path.rglob("*.py") if path.is_dir() else [path]
        files |= {str(p.relative_to(ROOT)) for p in found if p.name != "__init__.py"}
    return files


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


CORE = "src/reprolab/core"


@pytest.mark.parametrize("name", STAGES)
def test_code_deps_are_exactly_the_code_the_stage_runs(name):
    deps = {d for d in PIPELINE["stages"][name]["deps"] if d.startswith("src/")}
    closure = _code_closure(f"reprolab.stages.{name}")
    if name == "package":  # also the code of every stage before it: the card hashes it
        upstream = {
            d
            for stage in STAGES[: STAGES.index("package")]
            for d in PIPELINE["stages"][stage]["deps"]
            if d.startswith("src/")
        }
        closure_deps = {CORE} | {p for p in closure if not p.startswith(f"{CORE}/")}
        # A folder may stand for its files when every one of them is such code.
        assert _files(deps) == _files(upstream | closure_deps)
        assert not any(d.endswith(".py") and str(Path(d).parent) in deps for d in deps)
        return
    # The shared core is one folder entry: every stage runs it, whole.
    assert any(path.startswith(f"{CORE}/") for path in closure)
    assert deps == {CORE} | {path for path in closure if not path.startswith(f"{CORE}/")}


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
        str(Paths.drift),
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
    "serve": {"data", "model", "serve", "workflow.vcs"},
    "workflow": {"data", "model", "monitor", "serve", "workflow"},
    "stages": {"data", "model", "monitor", "workflow.compose"},
}


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_folders_import_only_in_the_allowed_direction(folder):
    allowed = {"reprolab", "reprolab.core"} | {f"reprolab.{name}" for name in MAY_IMPORT[folder]}
    for path in (ROOT / "src/reprolab" / folder).glob("*.py"):
        for module in _reprolab_imports(path):
            assert any(module == a or module.startswith(f"{a}.") for a in allowed), (
                f"{folder}/{path.name} imports {module}; {folder}/ may import "
                f"{sorted(MAY_IMPORT[folder]) or 'core only'} (see its __init__ docstring)"
            )


def test_the_package_has_no_module_outside_the_folders():
    top = sorted(p.name for p in (ROOT / "src/reprolab").glob("*.py"))
    assert top == ["__init__.py"]
