"""Is a file in the workspace the one that `dvc.lock` records?

The service, batch prediction and the gate load models from the workspace. After a
`git checkout` without `dvc checkout`, or a pull from a tampered remote, the file
there is not the one the commit's pipeline made: loading it would serve a model
that the metadata, metrics and schema do not describe. These checks stop that.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from reprolab.core.config import LOCK_FILE
from reprolab.core.errors import ReprolabError

FIX = "run `dvc checkout` (or `dvc pull`; `dvc repro` to rebuild)"


def file_md5(path: Path) -> str:
    """The hash DVC records for the file in dvc.lock (read in 1 MiB blocks)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locked_hashes(lock_text: str) -> dict[str, str]:
    """{path: md5} of every stage output, metric and plot file that dvc.lock records."""
    import yaml  # noqa: PLC0415

    lock = yaml.safe_load(lock_text) or {}
    hashes: dict[str, str] = {}
    for stage in (lock.get("stages") or {}).values():
        for out in stage.get("outs") or []:
            if isinstance(out, dict) and out.get("md5") and out.get("path"):
                hashes[str(out["path"])] = str(out["md5"])
    return hashes


def require_locked(
    paths: list[Path], lock: Path = LOCK_FILE, allow_unlisted: bool = False, root: Path = Path()
) -> None:
    """Refuse, naming the file and the fix, unless every path hashes as dvc.lock records.

    `allow_unlisted`: a file dvc.lock does not list at all (a model trained elsewhere) is
    accepted; a listed file whose hash differs never is, since it claims to be the
    pipeline's output and is not. `root`: where the paths (as dvc.lock names them) are,
    for a registered version fetched outside the workspace with its commit's dvc.lock.
    """
    try:
        hashes = locked_hashes(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hashes = {}
    for name in paths:
        key = name.as_posix()
        path = root / name
        if not path.is_file():
            raise ReprolabError(f"{path}: file not found; expected the pipeline's output: {FIX}")
        if key not in hashes:
            if allow_unlisted:
                continue
            raise ReprolabError(
                f"{path}: not an output recorded in {lock}; expected a file the pipeline made "
                "(pass --allow-unlisted-model to use it anyway)"
            )
        found = file_md5(path)
        if found != hashes[key]:
            raise ReprolabError(
                f"{path}: md5 {found} is not the {hashes[key]} that {lock} records: the workspace "
                f"holds a file this commit's pipeline did not make; {FIX}"
            )
