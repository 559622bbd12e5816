"""The README and docs/ name only things that exist: paths, make targets, modules,
links, and the pipeline picture is the real dvc.yaml's."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from reprolab.core.config import OFFLINE_PLOTS_TEMPLATE, PIPELINE_OUTPUTS, PR_PLOTS, PR_REPORT

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("src/", "conf/", "docs/", "tests/", "bench/", "schemas/", "requirements/", ".dvc/")
PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _tracked() -> set[str]:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    folders = {str(Path(f).parent) + "/" for f in files}
    folders |= {
        p
        for f in folders
        for p in (str(Path(*Path(f).parts[:i])) + "/" for i in range(1, len(Path(f).parts)))
    }
    return set(files) | folders


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_path_a_page_names_exists(page):
    # Tracked files, pipeline outputs, and what `make install` / `make report` generate.
    generated = {OFFLINE_PLOTS_TEMPLATE, PR_REPORT, PR_PLOTS}
    tracked = _tracked() | {str(p) for p in (*PIPELINE_OUTPUTS, *generated)}
    named = {
        token.rstrip("/.,:") + ("/" if token.endswith("/") else "")
        for token in re.findall(r"[\w./-]+", _text(page))
        if token.startswith(TOP)
        and not re.search(r"[<>*{}]", token)
        and not token.endswith(".local")
    }
    missing = sorted(
        p
        for p in named
        if p not in tracked and p.rstrip("/") not in tracked and not (ROOT / p).exists()
    )
    assert not missing, f"{page.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_make_target_and_module_a_page_names_exists(page):
    makefile = _text(ROOT / "Makefile")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.MULTILINE))
    text = _text(page)
    unknown = sorted(
        {
            t
            for t in re.findall(r"(?:^|`)\s*make ([a-z][\w-]*)", text, flags=re.MULTILINE)
            if t not in targets
        }
    )
    assert not unknown, f"{page.name}: unknown make target(s) {unknown}"
    for module in set(re.findall(r"python -m (reprolab[\w.]*)", text)):
        path = ROOT / "src" / Path(*module.split("."))
        assert path.with_suffix(".py").exists() or path.is_dir(), f"{page.name}: {module}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", _text(page)):
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def _edges() -> set[tuple[str, str]]:
    """(a, b) when stage b reads an output of stage a."""
    outs = {}
    for name, stage in PIPELINE["stages"].items():
        for section in ("outs", "metrics", "plots"):
            for entry in stage.get(section, []):
                outs[next(iter(entry)) if isinstance(entry, dict) else entry] = name
    return {
        (outs[dep], name)
        for name, stage in PIPELINE["stages"].items()
        for dep in stage.get("deps", [])
        if dep in outs
    }


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", ROOT / "docs/pipeline.md"], ids=lambda p: p.name
)
def test_the_pipeline_picture_is_the_real_dag(page):
    picture = _text(page).split("`dvc dag`:", 1)[1].split("```")[1]
    stages = set(PIPELINE["stages"])
    shown = [w for w in re.findall(r"[a-z]+", picture) if w in stages]
    assert set(shown) == stages, f"{page.name}: the picture shows {sorted(set(shown))}"
    edges = _edges()
    for line in picture.splitlines():
        names = [w for w in re.findall(r"[a-z]+", line.split("(")[0]) if w in stages]
        for before, after in itertools.pairwise(names):
            assert (before, after) in edges, f"{page.name}: no edge {before} → {after} in dvc.yaml"


PACKAGE = ROOT / "src" / "reprolab"
FOLDERS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())


def _modules(folder: str) -> set[str]:
    return {p.stem for p in (PACKAGE / folder).glob("*.py") if p.stem != "__init__"}


def _layout_blocks() -> dict[str, set[str]]:
    """docs/layout.md's tree: the module names (`name.py`) listed under each folder."""
    tree = _text(ROOT / "docs/layout.md").split("```")[1]
    blocks: dict[str, set[str]] = {}
    folder = None
    for line in tree.splitlines():
        start = re.match(r"^  (\w+)/", line)
        if start:
            folder = start.group(1)
        elif not line.startswith("    "):
            folder = None
        if folder:
            blocks.setdefault(folder, set()).update(re.findall(r"\b(\w+)\.py\b", line))
    return blocks


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_layout_page_lists_every_module_and_only_modules_that_exist(folder):
    listed = _layout_blocks().get(folder, set())
    if folder == "stages":  # listed as `<stage>.py`: one module per dvc.yaml stage
        assert _modules(folder) == set(PIPELINE["stages"])
        return
    assert listed == _modules(folder), (
        f"docs/layout.md, {folder}/: missing {sorted(_modules(folder) - listed)}, "
        f"no such module {sorted(listed - _modules(folder))}"
    )


@pytest.mark.parametrize("folder", [f for f in FOLDERS if f != "stages"])
def test_each_folder_s_docstring_names_every_module_in_it(folder):
    docstring = _text(PACKAGE / folder / "__init__.py")
    missing = sorted(m for m in _modules(folder) if not re.search(rf"\b{m}\b", docstring))
    assert not missing, f"src/reprolab/{folder}/__init__.py does not name {missing}"
