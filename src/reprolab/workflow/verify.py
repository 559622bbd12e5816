"""Check byte-reproducibility: build the pipeline twice from clean copies, compare outputs.

    python -m reprolab.workflow.verify [-S key=value ...]      # what `make verify` runs

Each copy holds the workspace's git-tracked files and the data files under
data/external/, in a new git repository with an empty DVC cache; `-S` overrides
are composed into its params.yaml as `dvc exp run -S` would. Both copies run
`dvc repro --force` at the same time; every output, metric and plot file of
dvc.yaml must hash the same, or each difference is named and the exit code is 1.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reprolab.core.config import EXTERNAL_DIR, PIPELINE_OUTPUTS
from reprolab.core.errors import ReprolabError
from reprolab.core.lockfile import file_md5
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.vcs import call, git

IDENTITY = ["-c", "user.name=reprolab verify", "-c", "user.email=verify@reprolab.invalid"]


def clean_copy(root: Path, dest: Path) -> Path:
    """A new git repository with root's tracked files (as in the workspace) and its
    data/external files; no DVC cache, no outputs."""
    tracked = [name for name in git("ls-files", "-z", cwd=root).split("\0") if name]
    external = sorted(p.relative_to(root) for p in (root / EXTERNAL_DIR).rglob("*") if p.is_file())
    for name in [*tracked, *map(str, external)]:
        if (root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git(*IDENTITY, "commit", "-qm", "clean copy", cwd=dest)
    return dest


def digest(path: Path) -> str:
    if not path.exists():
        return "missing"
    return file_md5(path)


def build(copy: Path) -> None:
    result = call("dvc", "repro", "--force", "--no-run-cache", cwd=copy, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise ReprolabError(f"dvc repro failed in {copy}:\n{tail}")


def verify(root: Path, overrides: list[str]) -> list[str]:
    """Differences between two clean builds, as 'path: hash1 != hash2' lines."""
    with tempfile.TemporaryDirectory(prefix="reprolab-verify-") as tmp:
        copies = [clean_copy(root, Path(tmp) / name) for name in ("first", "second")]
        if overrides:
            from reprolab.workflow.compose import compose_to  # noqa: PLC0415

            for copy in copies:  # one at a time: Hydra's global state is not thread-safe
                compose_to(copy / "params.yaml", copy, overrides)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(build, copies))
        differences = []
        for path in map(str, PIPELINE_OUTPUTS):
            first, second = (digest(copy / path) for copy in copies)
            print(f"{first}  {path}")
            if first != second or first == "missing":
                differences.append(f"{path}: {first} != {second}")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.verify", __doc__)
    parser.add_argument(
        "-S",
        "--set",
        action="append",
        default=[],
        dest="overrides",
        help="a Hydra override, as for dvc exp run -S",
    )
    args = parser.parse_args(argv)
    with user_errors("verify", exit_code=2):
        differences = verify(Path.cwd(), args.overrides)
    if differences:
        print("verify: outputs differ between two clean builds:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("verify: two clean builds produced identical outputs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
