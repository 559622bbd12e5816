"""The one wrapper for calling git and dvc from the project's commands, and what it
tells about the workspace: which pipeline files differ from the last commit, which
experiment a name refers to.

A failing call becomes a ReprolabError naming the command and its last error line,
never a CalledProcessError traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
from pathlib import Path

from reprolab.core.config import PIPELINE_STATE
from reprolab.core.errors import ReprolabError

RESET_HINT = "`make reset` puts the committed state back (your changes are kept in a git stash)"


def call(
    *cmd: str, cwd: Path | None = None, check: bool = True, own_group: bool = False
) -> subprocess.CompletedProcess:
    """Run `git ...` or `dvc ...` and capture its output; on failure (with `check`) raise
    one line naming the command.

    `own_group`: run it in a process group of its own and, if we are stopped (SIGTERM,
    Ctrl-C), end the whole group, so that no stage it started writes outputs after we
    have put the workspace back."""
    try:
        process = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=own_group,
        )
    except FileNotFoundError:
        raise ReprolabError(
            f"{cmd[0]}: command not found; expected it on PATH (run `make install` and "
            "`source .venv/bin/activate`)"
        ) from None
    try:
        out, err = process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            if own_group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.wait()
        raise
    result = subprocess.CompletedProcess(list(cmd), process.returncode, out, err)
    if check and result.returncode != 0:
        raise ReprolabError(f"`{' '.join(cmd)}` failed: {last_line(err or out, result.returncode)}")
    return result


def last_line(output: str, returncode: int) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {returncode}"


def start_detached(*cmd: str) -> None:
    """Start a command whose children outlive it (e.g. `dvc queue start`'s workers): they
    inherit its output, so a pipe would never close; its errors go through a file."""
    with tempfile.TemporaryFile("w+") as errors:
        result = subprocess.run(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            check=False,
        )
        errors.seek(0)
        if result.returncode != 0:
            raise ReprolabError(
                f"`{' '.join(cmd)}` failed: {last_line(errors.read(), result.returncode)}"
            )


def git(*args: str, cwd: Path | None = None) -> str:
    return call("git", *args, cwd=cwd).stdout


def dvc(*args: str, cwd: Path | None = None) -> str:
    return call("dvc", *args, cwd=cwd).stdout


def gto(*args: str, cwd: Path | None = None) -> str:
    """GTO, the model registry's git tags (model@v1.2.0, model#prod#3)."""
    return call("gto", *args, cwd=cwd).stdout


def repair_dvc_lock(root: Path = Path()) -> bool:
    """Remove DVC's read-write lock file when a killed DVC process left it half-written
    (every DVC command then fails: "Unable to read RWLock-file ... JSON structure is
    corrupted"). Only an unreadable one: a readable one may be another process's."""
    import json  # noqa: PLC0415

    lock = root / ".dvc" / "tmp" / "rwlock"
    try:
        json.loads(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (ValueError, UnicodeDecodeError):
        lock.unlink(missing_ok=True)
        return True
    return False


def changed_pipeline_files(cwd: Path | None = None) -> list[str]:
    """`git status` lines for the files a run or a promotion rewrites (conf/, params.yaml,
    dvc.lock, metrics/, plots/, reports/), untracked files included."""
    out = git("status", "--porcelain", "--untracked-files=all", "--", *PIPELINE_STATE, cwd=cwd)
    return [line for line in out.splitlines() if line.strip()]


# refs/exps/<2 hex>/<38 hex>/<name>: one per experiment (not the queue's own refs).
_EXPERIMENT_REF = re.compile(r"^refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/(?P<name>[^/]+)$")


def experiment_refs(cwd: Path | None = None) -> dict[str, tuple[str, str]]:
    """Every experiment of the repository, on any commit: {name: (ref, commit)}."""
    out = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps", cwd=cwd)
    refs = {}
    for line in out.splitlines():
        ref, _, sha = line.partition(" ")
        found = _EXPERIMENT_REF.match(ref)
        if found:
            refs[found.group("name")] = (ref, sha)
    return refs


def experiment_revision(name: str, cwd: Path | None = None) -> str | None:
    """The commit of the experiment called `name`, or None."""
    found = experiment_refs(cwd).get(name)
    return found[1] if found else None


def unversioned_inputs(
    revision: str, folders: tuple[str, ...], cwd: Path | None = None
) -> list[str]:
    """Files a run at `revision` read that a clone would not have: files in the stages'
    input `folders` that neither git nor DVC versions (untracked and not ignored), and
    the files its params name (data.path, data.schema_file) that the revision does not
    version, by git or by a `.dvc` file of their own or of a folder above them."""
    import yaml  # noqa: PLC0415

    stray = git("ls-files", "--others", "--exclude-standard", "--", *folders, cwd=cwd).split()
    tracked = set(git("ls-tree", "-r", "--name-only", revision, "--", *folders, cwd=cwd).split())
    params = yaml.safe_load(git("show", f"{revision}:params.yaml", cwd=cwd)) or {}
    data = params.get("data") or {}
    named = [str(data[key]) for key in ("path", "schema_file") if data.get(key)]
    missing = [path for path in named if not _versioned(Path(path), tracked)]
    return sorted({*stray, *missing})


def _versioned(path: Path, tracked: set[str]) -> bool:
    candidates = [path, *path.parents]
    return path.as_posix() in tracked or any(
        f"{p.as_posix()}.dvc" in tracked for p in candidates if p.as_posix() != "."
    )


def workspace_matches(revision: str, cwd: Path | None = None) -> bool:
    """Do the pipeline files in the workspace equal those of `revision`?"""
    result = call("git", "diff", "--quiet", revision, "--", *PIPELINE_STATE, cwd=cwd, check=False)
    untracked = git(
        "ls-files", "--others", "--exclude-standard", "--", *PIPELINE_STATE, cwd=cwd
    ).strip()
    return result.returncode == 0 and not untracked


def failure_reason(log: str) -> str:
    """The most telling line of a failed run's output: a stage's own one-line error if
    there is one, else the last exception line, else the last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for pattern in (r"^\w+: error: ", r"^[\w.]*(Error|Exception)\b", r"^ERROR: "):
        matches = [line for line in lines if re.match(pattern, line)]
        if matches:
            return matches[-1]
    return lines[-1] if lines else "(no output)"
