"""Each stage's code deps in dvc.yaml, computed from its imports (`make deps`).

    python -m reprolab.workflow.stage_deps           # rewrite dvc.yaml's src/ deps
    python -m reprolab.workflow.stage_deps --check   # exit 1 and print what differs

A stage's code deps are the files its module runs: its own module, the shared core
(one folder entry), and every project module its imports reach; for a stage that loads
a model, also the modules of our classes the model may hold (loading runs their code).
`package` lists the code of every stage before it too (the model card hashes the code
that made the model), a whole folder where every module in it is such code.

Only the `- src/...` lines of each stage's `deps:` are rewritten, in place: comments,
data deps and their order stay as they are.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from reprolab.core.config import PIPELINE_FILE
from reprolab.core.errors import ReprolabError
from reprolab.core.files import write_bytes
from reprolab.core.shell import command_parser, user_errors
from reprolab.model.persistence import TRUSTED_TYPES

CORE = "src/reprolab/core"
# Stages whose deps also hold the code of every stage before them.
CODE_OF_UPSTREAM = ("package",)
# Our classes a saved model may hold: loading it runs their modules' code.
MODEL_MODULES = sorted(
    {name.rsplit(".", 1)[0] for name in TRUSTED_TYPES if name.startswith("reprolab.")}
)


def module_file(root: Path, module: str) -> Path:
    path = root / "src" / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def project_imports(root: Path, path: Path) -> set[str]:
    """The `reprolab` modules a file imports (`from reprolab.x import y`: x, and x.y
    when y is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reprolab"):
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}"
                for alias in node.names
                if module_file(root, f"{node.module}.{alias.name}").exists()
            }
    return found


def code_closure(root: Path, module: str) -> set[str]:
    """Every project source file (not `__init__.py`) a module runs, following imports;
    for a module that loads a model, the modules of our classes a model may hold."""
    seen: set[Path] = set()
    todo = [module_file(root, module)]
    if "load_model(" in todo[0].read_text(encoding="utf-8"):
        todo += [module_file(root, m) for m in MODEL_MODULES]
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        todo += [module_file(root, m) for m in project_imports(root, path)]
    return {p.relative_to(root).as_posix() for p in seen if p.name != "__init__.py"}


def _folder_files(root: Path, folder: str) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in (root / folder).rglob("*.py")
        if p.name != "__init__.py"
    }


def _collapsed(root: Path, files: set[str]) -> set[str]:
    """Files, with a folder standing for its modules where every one of them is listed."""
    result = set(files)
    for folder in sorted({str(Path(f).parent) for f in files}):
        members = _folder_files(root, folder)
        if members and members <= files:
            result = (result - members) | {folder}
    return result


def code_deps(root: Path, stages: list[str], name: str) -> list[str]:
    """A stage's `src/` deps as dvc.yaml lists them: its module, the core folder, then
    the rest sorted."""
    own = f"src/reprolab/stages/{name}.py"
    files = code_closure(root, f"reprolab.stages.{name}")
    if name in CODE_OF_UPSTREAM:
        for before in stages[: stages.index(name)]:
            files |= code_closure(root, f"reprolab.stages.{before}")
        files = _collapsed(root, files)
    rest = {f for f in files if f != own and f != CORE and not f.startswith(f"{CORE}/")}
    return [own, CORE, *sorted(rest)]


def code_deps_lines(root: Path, stages: list[str], name: str, indent: str) -> list[str]:
    """code_deps as dvc.yaml's lines; a stage that loads a model says why the modules
    of our classes are there."""
    lines = []
    loads_model = "load_model(" in module_file(root, f"reprolab.stages.{name}").read_text(
        encoding="utf-8"
    )
    for dep in code_deps(root, stages, name):
        if loads_model and name not in CODE_OF_UPSTREAM and dep.startswith("src/reprolab/model/"):
            names = ", ".join(m.rsplit(".", 1)[1] for m in MODEL_MODULES)
            lines.append(f"{indent}# {names}: our classes in the saved model run here.\n")
            loads_model = False
        lines.append(f"{indent}- {dep}\n")
    return lines


def rewritten(root: Path, text: str) -> str:
    """dvc.yaml's text with each stage's `- src/...` deps lines (and the comments among
    them) replaced by code_deps_lines."""
    stages = list((yaml.safe_load(text) or {}).get("stages") or {})
    lines = text.splitlines(keepends=True)
    for name in stages:
        start = _deps_line(lines, name)
        src = [
            i
            for i in range(start + 1, _block_end(lines, start))
            if re.match(r"\s*- src/", lines[i])
        ]
        if not src:
            raise ReprolabError(
                f"{PIPELINE_FILE}: stage {name} lists no src/ deps; expected its code"
            )
        run = lines[src[0] : src[-1] + 1]
        if not all(re.match(r"\s*(- src/|#)", line) for line in run):
            raise ReprolabError(
                f"{PIPELINE_FILE}: stage {name}'s src/ deps are not one run of lines; "
                "expected them together, to be rewritten in place"
            )
        indent = lines[src[0]][: lines[src[0]].index("-")]
        lines[src[0] : src[-1] + 1] = code_deps_lines(root, stages, name, indent)
    return "".join(lines)


def _deps_line(lines: list[str], stage: str) -> int:
    """The `deps:` line within the stage's own block (never the next stage's)."""
    inside = False
    for index, line in enumerate(lines):
        if re.match(r"^  \S[^:]*:\s*$", line):  # a stage's header, under `stages:`
            inside = line.strip() == f"{stage}:"
        elif inside and re.match(r"^    deps:\s*$", line):
            return index
    raise ReprolabError(f"{PIPELINE_FILE}: stage {stage} has no `deps:` block")


def _block_end(lines: list[str], start: int) -> int:
    """The first line after `deps:` that is not one of its entries or comments."""
    end = start + 1
    while end < len(lines) and (lines[end].startswith("      ") or not lines[end].strip()):
        end += 1
    return end


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.stage_deps", __doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    root = Path.cwd()
    with user_errors("deps"):
        current = (root / PIPELINE_FILE).read_text(encoding="utf-8")
        new = rewritten(root, current)
        if new == current:
            print(f"deps: {PIPELINE_FILE}'s code deps are each stage's imports")
            return 0
        if args.check:
            print(f"deps: {PIPELINE_FILE}'s code deps differ from the imports; run `make deps`")
            return 1
        write_bytes(root / PIPELINE_FILE, new.encode("utf-8"))
        print(f"deps: rewrote the code deps in {PIPELINE_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
