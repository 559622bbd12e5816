"""Run a named sweep grid from conf/sweeps.yaml as DVC experiments and wait for all of them.

    python -m reprolab.workflow.sweep [--grid default] [--mode workspace|queue|ray]
                                      [--jobs N] [--address HOST:PORT]

`workspace` (default) runs the combinations one after another with `dvc exp run` (the fastest
on a 2-core machine, see README) and restores the workspace's pipeline files
afterwards; `queue` queues the sweep (`dvc exp run --queue -S ...`) and runs it with
`dvc queue start -j N`; `ray` runs each on a Ray cluster (`ray_sweep`) and brings it
back as an ordinary experiment. Every experiment is reported, failed ones with their
error, and the exit code is non-zero if any failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reprolab.core.config import CONF_DIR, PARAMS_FILE, PIPELINE_STATE
from reprolab.core.errors import ReprolabError
from reprolab.core.files import put_back, snapshot
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.compose import composed_text
from reprolab.workflow.runs import RunResult
from reprolab.workflow.vcs import (
    RESET_HINT,
    call,
    changed_pipeline_files,
    failure_reason,
    git,
    repair_dvc_lock,
    start_detached,
)

GRIDS_FILE = CONF_DIR / "sweeps.yaml"
# What `dvc exp run` in the workspace rewrites; restored after a workspace sweep.
PIPELINE_FILES = tuple(path for path in PIPELINE_STATE if path != "conf")


def load_grid(name: str, path: Path = GRIDS_FILE) -> list[str]:
    import yaml  # noqa: PLC0415

    grids = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if name not in grids:
        raise ReprolabError(f"{path}: no grid named {name!r}; expected one of {sorted(grids)}")
    overrides = grids[name]
    if not (isinstance(overrides, list) and all(isinstance(o, str) for o in overrides)):
        raise ReprolabError(f"{path}: grid {name!r} must be a list of override strings")
    return overrides


def expand(overrides: list[str]) -> list[list[str]]:
    """Every combination of a sweep, with DVC's own expansion of Hydra sweep syntax."""
    from dvc.utils.hydra import get_hydra_sweeps  # noqa: PLC0415

    try:
        sweeps = get_hydra_sweeps({"params.yaml": overrides})
    except Exception as error:  # Hydra's grammar errors have no common base class
        raise ReprolabError(f"sweep overrides {overrides}: {error}") from None
    return [combo["params.yaml"] for combo in sweeps]


def untracked_sources(root: Path = Path()) -> list[str]:
    """Files under src/ or conf/ that git does not track: queued runs would not see them."""
    return sorted(
        git("ls-files", "--others", "--exclude-standard", "--", "src", "conf", cwd=root).split()
    )


def refuse_untracked(root: Path = Path()) -> None:
    untracked = untracked_sources(root)
    if untracked:
        raise ReprolabError(
            f"untracked files {untracked} under src/ or conf/: experiments run from git "
            "commits and would not include them; `git add` them (or remove them) first"
        )


def refuse_changed_workspace() -> None:
    """A sweep starts from the last commit: an applied experiment or uncommitted pipeline
    files would be recomposed over (workspace mode) or silently left out (queue mode)."""
    changed = changed_pipeline_files()
    if changed:
        shown = ", ".join(line[3:] for line in changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise ReprolabError(
            f"uncommitted changes in the pipeline files ({shown}): a sweep runs from the last "
            f"commit; expected a clean workspace: commit them, or {RESET_HINT}"
        )
    if composed_text(Path()) != PARAMS_FILE.read_text(encoding="utf-8"):
        raise ReprolabError(
            f"{PARAMS_FILE}: not the composition of {CONF_DIR}/ at this commit; expected "
            "them to agree: run `make params` and commit params.yaml"
        )


def stop_on_sigterm() -> None:
    """SIGTERM (a CI cancel, `kill`) ends the sweep like Ctrl-C: through the `finally`
    that restores the workspace, not by dying in the middle of it."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _dvc(*args: str, own_group: bool = False) -> subprocess.CompletedProcess:
    return call("dvc", *args, check=False, own_group=own_group)


def run_in_workspace(combos: list[list[str]]) -> list[RunResult]:
    saved = snapshot(PIPELINE_FILES)
    results = []
    try:
        for number, combo in enumerate(combos, start=1):
            started = time.perf_counter()
            done = _dvc("exp", "run", *(arg for o in combo for arg in ("-S", o)), own_group=True)
            ok = done.returncode == 0
            error = None if ok else failure_reason(done.stdout + "\n" + done.stderr)
            took = round(time.perf_counter() - started, 1)
            status = "ok" if ok else "failed"
            results.append(RunResult(None, tuple(combo), status, error, duration=took))
            print(
                f"[{number}/{len(combos)}] {' '.join(combo)}: "
                f"{'done' if ok else 'FAILED'} ({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    finally:
        put_back(saved)
        # A run stopped after DVC staged its files (params.yaml) leaves them in the index;
        # the workspace was clean before the sweep, so HEAD's index is the one to restore.
        call("git", "reset", "-q", "--", *PIPELINE_FILES, check=False)
        # A run killed while DVC wrote its lock file leaves it unreadable to every command.
        repair_dvc_lock()
        _dvc("checkout", "--quiet")
    return results


def _queue_status() -> dict[str, str]:
    from dvc.repo import Repo  # noqa: PLC0415

    with Repo() as repo:
        return {task["name"]: task["status"] for task in repo.experiments.celery_queue.status()}


def queue_workers_alive(root: Path = Path()) -> bool:
    """Is any DVC queue worker of this repository running? (`dvc exp queue-worker`
    processes; a worker killed by the OOM killer or a user leaves its tasks Running.)"""
    import psutil  # noqa: PLC0415

    here = str(root.resolve())
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = process.info.get("cmdline") or []
        if "queue-worker" in cmdline and (process.info.get("cwd") or "").startswith(here):
            return True
    return False


def wait_for(names: list[str], timeout: float, poll: float, grace: float = 20.0) -> dict[str, str]:
    """Poll the queue until every run of `names` has finished. Raise, naming the runs
    not finished, at the deadline or once no worker has been alive for `grace` s."""
    finished: dict[str, str] = {}
    started = last_alive = time.monotonic()
    while len(finished) < len(names):
        time.sleep(poll)
        status = _queue_status()
        for name in names:
            if name not in finished and status.get(name) in ("Success", "Failed"):
                finished[name] = status[name]
                print(f"[{len(finished)}/{len(names)}] {name}: {status[name]}", flush=True)
        now = time.monotonic()
        if queue_workers_alive():
            last_alive = now
        lost = [n for n in names if n not in finished]
        if lost and now - last_alive > grace:
            reason = f"no queue worker has been running for {grace:.0f} s (killed?)"
        elif lost and now - started > timeout:
            reason = f"the sweep's deadline of {timeout:.0f} s passed (--timeout)"
        else:
            continue
        _dvc("queue", "kill", *lost)
        raise ReprolabError(
            f"sweep: {reason}; {len(lost)} run(s) did not finish: {', '.join(lost)}; "
            f"{len(finished)} finished (see `make exps`); `dvc queue logs <name>` tells more"
        )
    return finished


def run_in_queue(
    overrides: list[str], jobs: int, timeout: float = 6 * 3600, poll: float = 2.0
) -> list[RunResult]:
    before = set(_queue_status())
    queued = _dvc("exp", "run", "--queue", *(arg for o in overrides for arg in ("-S", o)))
    if queued.returncode != 0:
        raise ReprolabError(f"dvc exp run --queue failed: {queued.stderr.strip()}")
    names = sorted(set(_queue_status()) - before)
    print(f"queued {len(names)} experiments; running with {jobs} worker(s)", flush=True)
    start_detached("dvc", "queue", "start", "-j", str(jobs))
    try:
        finished = wait_for(names, timeout, poll)
    finally:
        _dvc("queue", "stop")  # idle workers would otherwise linger
    results = []
    for name in names:
        ok = finished[name] == "Success"
        error = None if ok else failure_reason(_dvc("queue", "logs", name).stdout)
        results.append(RunResult(name, (), "ok" if ok else "failed", error))
    # Failed runs leave no experiment commit; their log stays in `dvc queue logs <name>`.
    return results


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.sweep", __doc__)
    parser.add_argument("--grid", default="default", help="grid name in conf/sweeps.yaml")
    parser.add_argument("--mode", choices=("workspace", "queue", "ray"), default="workspace")
    parser.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS") or None,
        help="ray mode: the cluster's head (host:port); default RAY_ADDRESS, else a local Ray",
    )
    parser.add_argument("--jobs", "-j", type=int, default=1, help="queue workers (queue mode)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=6 * 3600,
        help="queue mode: seconds to wait for the whole sweep before giving up (default 6 h)",
    )
    args = parser.parse_args(argv)
    stop_on_sigterm()
    with user_errors("sweep"):
        refuse_untracked()
        refuse_changed_workspace()
        overrides = load_grid(args.grid)
        combos = expand(overrides)
        print(f"sweep {args.grid!r}: {len(combos)} experiments ({args.mode})", flush=True)
        if args.mode == "workspace":
            results = run_in_workspace(combos)
        elif args.mode == "ray":
            from reprolab.workflow.ray_sweep import run_on_ray  # noqa: PLC0415

            results = run_on_ray(combos, args.grid, args.address)
        else:
            results = run_in_queue(overrides, args.jobs, args.timeout)
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"failed: {result.label}: {result.error}", file=sys.stderr)
    print(f"{len(results) - len(failed)} of {len(results)} experiments succeeded")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
