"""Run a sweep's experiments on a Ray cluster; each comes back as an ordinary experiment.

The driver (this module, in the user's repo) bundles the baseline commit, makes sure
the DVC remote holds the baseline's data, and submits one Ray task per grid point
(`ray_run.run_experiment`). As runs finish it fetches their experiment refs into the
repo, so `make exps`, `make promote`, `dvc exp apply` + `dvc pull` work as for local
runs. A lost worker or node makes Ray retry the run (`sweep.ray.max_retries`); a run
that fails in the pipeline is a result, not retried.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from reprolab.core.config import load_params, section, whole
from reprolab.core.errors import ReprolabError
from reprolab.engine.cluster import connect
from reprolab.workflow.ray_run import RunSpec, run_experiment
from reprolab.workflow.runs import RunResult, unused_names
from reprolab.workflow.vcs import call, dvc, experiment_refs, git

# Remote settings a worker gets from the driver; credentials stay on the workers.
_SHARED_REMOTE_OPTIONS = ("endpointurl", "region", "verify", "use_ssl", "ssl_verify")


@dataclass(frozen=True)
class RaySettings:
    """`sweep.ray` from params.yaml, checked (conf/config.yaml holds the defaults)."""

    cpus_per_run: int
    max_retries: int
    scratch: str | None  # where workers make their scratch copies; None: the system's

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RaySettings:
        cfg = section(params, "sweep.ray", (f.name for f in fields(cls)))
        cpus = whole(cfg["cpus_per_run"], "sweep.ray.cpus_per_run", low=1)
        retries = whole(cfg["max_retries"], "sweep.ray.max_retries", low=0)
        scratch = cfg["scratch"]
        if scratch is not None and not (isinstance(scratch, str) and scratch):
            raise ReprolabError(f"sweep.ray.scratch: found {scratch!r}; expected a folder, or null")
        return cls(cpus_per_run=cpus, max_retries=retries, scratch=scratch)


def remote_options() -> tuple[str, dict[str, str]]:
    """The default DVC remote's name and the settings a worker needs to reach it."""
    name = call("dvc", "config", "core.remote", check=False).stdout.strip()
    if not name:
        raise ReprolabError(
            "no default DVC remote; expected one that every Ray node can reach "
            "(`dvc remote add -d <name> s3://...`, see docs/remotes.md)"
        )
    options = {"url": dvc("config", f"remote.{name}.url").strip()}
    for key in _SHARED_REMOTE_OPTIONS:
        value = call("dvc", "config", f"remote.{name}.{key}", check=False).stdout.strip()
        if value:
            options[key] = value
    return name, options


def push_baseline(remote: str) -> None:
    """The runs fetch the baseline's inputs and outputs from the remote: push what it
    lacks first, saying so."""
    import json  # noqa: PLC0415

    status = json.loads(dvc("status", "--cloud", "--json") or "{}")
    missing = sorted(path for path, state in status.items() if state in ("new", "missing"))
    if not missing:
        return
    print(
        f"pushing {len(missing)} baseline file(s) to DVC remote {remote!r} first: "
        f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}",
        flush=True,
    )
    result = call("dvc", "push", check=False)
    if result.returncode != 0:
        raise ReprolabError(
            f"dvc push to {remote!r} failed ({result.stderr.strip().splitlines()[-1:]}); the "
            "runs need the baseline's data there: fix the remote or run `make push`"
        )


def _remote_task(ray: Any, settings: RaySettings) -> Any:
    def run(bundle: bytes, spec: RunSpec) -> dict[str, Any]:
        result = run_experiment(bundle, spec)
        result["node"] = ray.get_runtime_context().get_node_id()[:8]
        return result

    return ray.remote(run).options(
        num_cpus=settings.cpus_per_run,
        max_retries=settings.max_retries,
        retry_exceptions=False,
    )


def fetch_experiment(ref: str, bundle: bytes) -> None:
    """Bring a finished run's experiment ref into this repository."""
    with tempfile.TemporaryDirectory(prefix="reprolab-exp-") as tmp:
        path = Path(tmp) / "exp.bundle"
        path.write_bytes(bundle)
        git("fetch", "-q", str(path), f"+{ref}:{ref}")


class Progress:
    """Runs done / failed / running, per node, elapsed and an estimate of what is left."""

    def __init__(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()
        self.done = self.failed = 0
        self.nodes: Counter[str] = Counter()

    def update(self, result: RunResult) -> None:
        self.done += 1
        self.failed += not result.ok
        self.nodes[result.node or "?"] += 1
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        nodes = ", ".join(f"{node}: {n}" for node, n in sorted(self.nodes.items()))
        line = (
            f"[{self.done}/{self.total}] {result.name}: {result.status}"
            f" ({result.duration:.0f} s on {result.node or '?'}) | failed {self.failed},"
            f" running {self.total - self.done} | per node {nodes} | {elapsed:.0f} s elapsed,"
            f" ~{left:.0f} s left"
        )
        print(line, flush=True)


class RayRunner:
    """Ray, connected, with the baseline pushed and bundled: submit runs, take each back
    as it finishes (its experiment ref already fetched into this repo)."""

    def __init__(self, address: str | None) -> None:
        self.settings = RaySettings.from_params(load_params())
        self.remote, self.options = remote_options()
        self.baseline = git("rev-parse", "HEAD").strip()
        self.identity = (git("config", "user.name").strip(), git("config", "user.email").strip())
        self.ray = connect(address)
        self.pending: dict[Any, RunSpec] = {}
        try:
            push_baseline(self.remote)
            started = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="reprolab-bundle-") as tmp:
                git("bundle", "create", "-q", f"{tmp}/baseline.bundle", "HEAD")
                self.bundle = self.ray.put(Path(tmp, "baseline.bundle").read_bytes())
            self.bundle_seconds = round(time.monotonic() - started, 2)
            self.task = _remote_task(self.ray, self.settings)
        except BaseException:
            self.ray.shutdown()
            raise

    def submit(self, name: str, overrides: list[str]) -> None:
        spec = RunSpec(
            name, tuple(overrides), self.baseline, self.remote, self.options,
            self.settings.cpus_per_run, self.identity, self.settings.scratch,
        )  # fmt: skip
        self.pending[self.task.remote(self.bundle, spec)] = spec

    def next_result(self) -> RunResult:
        ready, _ = self.ray.wait(list(self.pending), num_returns=1)
        spec = self.pending.pop(ready[0])
        return _collect(self.ray, ready[0], spec)

    def close(self) -> None:
        """Cancel what is still running (nothing of it reaches the repo) and disconnect."""
        for ref in self.pending:
            self.ray.cancel(ref, force=True)
        self.pending.clear()
        self.ray.shutdown()


def run_on_ray(combos: list[list[str]], grid: str, address: str | None) -> list[RunResult]:
    """Run every combination as one experiment on Ray; return one result per combination.
    On Ctrl-C or SIGTERM the outstanding runs are cancelled: only finished runs' refs
    have been fetched."""
    runner = RayRunner(address)
    try:
        stem = f"{grid}-{runner.baseline[:7]}"
        names = unused_names(stem, len(combos), set(experiment_refs()))
        for name, combo in zip(names, combos, strict=True):
            runner.submit(name, combo)
        cpus = runner.settings.cpus_per_run
        print(f"submitted {len(combos)} runs to Ray ({cpus} CPU each)", flush=True)
        progress, results = Progress(len(combos)), []
        while runner.pending:
            results.append(runner.next_result())
            progress.update(results[-1])
    finally:
        runner.close()
    order = {name: i for i, name in enumerate(names)}
    return sorted(results, key=lambda r: order[r.name or ""])


def _collect(ray: Any, ref: Any, spec: RunSpec) -> RunResult:
    """The run's RunResult; a finished run's experiment ref fetched into this repo. (What
    crosses from the worker is run_experiment's plain dict: Ray pickles it.)"""
    try:
        done = ray.get(ref)
    except Exception as error:  # a lost worker or node after every retry
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        error_line = f"lost on Ray after retries: {reason}"
        return RunResult(spec.name, tuple(spec.overrides), "lost", error_line)
    timings = dict(done.get("timings") or {})
    if done["status"] == "ok":
        started = time.monotonic()
        fetch_experiment(done["ref"], done["bundle"])
        timings["fetch"] = round(time.monotonic() - started, 2)
    return RunResult(
        spec.name,
        tuple(spec.overrides),
        done["status"],
        done.get("error"),
        metrics=done.get("metrics") or {},
        duration=done["duration"],
        node=done.get("node"),
        timings=timings,
    )
