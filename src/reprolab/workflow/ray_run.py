"""One sweep run on a Ray worker, isolated from every other run and from the user's repo.

The baseline commit arrives as a git bundle (through Ray's object store); the run clones
it into a scratch directory of its own with its own DVC cache, runs `dvc exp run` there
(pulling only the inputs it needs from the DVC remote), pushes its outputs to the DVC
remote and hands back the experiment as a git bundle plus a summary. Nothing on the
worker needs git credentials: git objects travel through Ray, data through DVC.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprolab.core.config import Paths
from reprolab.workflow.vcs import call, experiment_refs, failure_reason, git, last_line

LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class RunSpec:
    """What a worker needs to make one experiment."""

    name: str
    overrides: tuple[str, ...]
    baseline: str  # the commit the bundle holds
    remote: str  # DVC remote name
    remote_options: dict[str, str]  # url (absolute) and other non-secret settings
    cpus: int
    identity: tuple[str, str]  # git user.name, user.email for the experiment commit
    scratch_root: str | None = None


def _timed(timings: dict[str, float], step: str, *cmd: str, cwd: Path) -> Any:
    started = time.monotonic()
    result = call(*cmd, cwd=cwd, check=False)
    timings[step] = round(timings.get(step, 0.0) + time.monotonic() - started, 2)
    return result


def _prepare(bundle: bytes, spec: RunSpec, scratch: Path, timings: dict[str, float]) -> Path:
    started = time.monotonic()
    (scratch / "baseline.bundle").write_bytes(bundle)
    repo = scratch / "repo"
    git("clone", "-q", "--no-checkout", str(scratch / "baseline.bundle"), str(repo), cwd=scratch)
    git("checkout", "-q", "--detach", spec.baseline, cwd=repo)
    git("config", "user.name", spec.identity[0], cwd=repo)
    git("config", "user.email", spec.identity[1], cwd=repo)
    # Written directly (each `dvc config` call costs a DVC start-up, ~0.4 s): this run's
    # own cache, and the project's remote with the settings the driver sent.
    remote = "".join(f"    {key} = {value}\n" for key, value in spec.remote_options.items())
    (repo / ".dvc/config.local").write_text(
        f"[core]\n    remote = {spec.remote}\n[cache]\n    dir = {scratch / 'cache'}\n"
        f"['remote \"{spec.remote}\"']\n{remote}",
        encoding="utf-8",
    )
    timings["clone"] = round(time.monotonic() - started, 2)
    return repo


def _summary(spec: RunSpec, status: str, started: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "overrides": list(spec.overrides),
        "status": status,
        "node": socket.gethostname() + ":" + os.environ.get("RAY_NODE_ID", "")[:8],
        "duration": round(time.monotonic() - started, 2),
        **extra,
    }


def run_experiment(bundle: bytes, spec: RunSpec) -> dict[str, Any]:
    """Make the experiment `spec` describes; never raises for a pipeline failure (that is
    a result, not a fault to retry): only a lost worker or node makes Ray retry."""
    started = time.monotonic()
    # Stages run `python` and `dvc` from PATH: this worker's environment.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    timings: dict[str, float] = {}
    scratch = Path(tempfile.mkdtemp(prefix=f"reprolab-{spec.name}-", dir=spec.scratch_root))
    try:
        repo = _prepare(bundle, spec, scratch, timings)
        overrides = [*spec.overrides, f"n_jobs={spec.cpus}"]
        args = [a for o in overrides for a in ("-S", o)]
        ran = _timed(
            timings,
            "run",
            "dvc",
            "exp",
            "run",
            "--pull",
            "--allow-missing",
            "-n",
            spec.name,
            *args,
            cwd=repo,
        )
        log = ran.stdout + ran.stderr
        tail = "\n".join(log.strip().splitlines()[-LOG_TAIL_LINES:])
        if ran.returncode != 0:
            return _summary(spec, "failed", started, error=failure_reason(log), log_tail=tail)
        pushed = _timed(timings, "push", "dvc", "push", "--quiet", cwd=repo)
        if pushed.returncode != 0:
            reason = last_line(pushed.stderr or pushed.stdout, pushed.returncode)
            return _summary(spec, "failed", started, error=f"dvc push: {reason}", log_tail=tail)
        ref = experiment_refs(repo).get(spec.name, (None, None))[0]
        if ref is None:
            return _summary(spec, "failed", started, error="no experiment ref", log_tail=tail)
        git(
            "bundle",
            "create",
            "-q",
            str(scratch / "exp.bundle"),
            ref,
            f"^{spec.baseline}",
            cwd=repo,
        )
        metrics = json.loads((repo / Paths.metrics).read_text(encoding="utf-8"))
        return _summary(
            spec,
            "ok",
            started,
            ref=ref,
            bundle=(scratch / "exp.bundle").read_bytes(),
            metrics=metrics,
            timings=timings,
            log_tail=tail,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
