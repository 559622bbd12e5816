"""Search beyond grids: Optuna proposes, every trial is a real DVC experiment.

    python -m reprolab.workflow.search --space forest --trials 40             # make search
    python -m reprolab.workflow.search --space forest --trials 40 --mode ray  # MODE=ray

Ask-and-tell: the driver asks Optuna (TPE, seeded with the project's `seed`) for a
trial's parameters, runs it as `dvc exp run -n <space>-<number> -S ...` (locally in a
temporary copy, `--temp`, one at a time; or on the Ray runner, `parallel` at a time),
reads the objective from the experiment's metrics and tells Optuna. A failed trial is
told as failed, with its error line; the search goes on. The study is a journal file
in reports/search/<space>/ (with the summary and charts): run the same command with a
larger --trials to resume; finished trials are not run again.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Literal, cast

from reprolab.core.config import Paths, get, load_params
from reprolab.core.errors import ReprolabError
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.ranking import Ranking, known_direction, resolve_ranking
from reprolab.workflow.runs import Runner, RunResult, unused_names
from reprolab.workflow.search_space import Space, load_space, suggest
from reprolab.workflow.vcs import call, experiment_refs, experiment_revision, failure_reason, git

SEARCH_REPORTS = Path("reports/search")


def objective(space: Space, params: dict[str, Any]) -> tuple[str, str]:
    """The metric to optimise and its direction: the space's, else the ranking's; the
    metric must be one the pipeline writes (checked on the committed metrics file)."""
    names = written_metrics()
    ranking = resolve_ranking(get(params, "ranking"), names)
    metric = space.metric or ranking.primary_metric
    if metric not in names:
        raise ReprolabError(
            f"conf/search/{space.name}.yaml: metric: {metric!r} is not written by the pipeline "
            f"({Paths.metrics}); expected one of {sorted(names)}"
        )
    if space.direction:
        return metric, space.direction
    if metric == ranking.primary_metric:
        return metric, ranking.direction
    return metric, known_direction(metric, f"conf/search/{space.name}.yaml: direction")


def written_metrics() -> set[str]:
    """The numeric metrics of the committed metrics file (the task's, by their names)."""
    return set(numbers(json.loads(Paths.metrics.read_text(encoding="utf-8"))))


def search_ranking(metric: str, direction: str, ranking: dict[str, Any]) -> Ranking:
    """The ranking rule of `make exps` with the search's objective as the primary metric:
    ties are broken by the configured secondary metric, as there."""
    resolved = resolve_ranking(ranking, written_metrics())
    if resolved.secondary_metric == metric:
        return Ranking(metric, direction)
    return Ranking(metric, direction, resolved.secondary_metric, resolved.secondary_direction)


class LocalRunner:
    """One trial at a time, each in a temporary copy of the repo (`dvc exp run --temp`)."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, list[str]]] = []

    def submit(self, name: str, overrides: list[str]) -> None:
        self.pending.append((name, overrides))

    def next_result(self) -> RunResult:
        name, overrides = self.pending.pop(0)
        started = time.monotonic()
        args = [a for o in overrides for a in ("-S", o)]
        ran = call("dvc", "exp", "run", "--temp", "-n", name, *args, check=False, own_group=True)
        took = round(time.monotonic() - started, 1)
        if ran.returncode != 0:
            error = failure_reason(ran.stdout + ran.stderr)
            return RunResult(name, tuple(overrides), "failed", error, duration=took)
        revision = experiment_revision(name)
        metrics = json.loads(git("show", f"{revision}:{Paths.metrics}")) if revision else {}
        return RunResult(name, tuple(overrides), "ok", metrics=metrics, duration=took)

    def close(self) -> None:
        self.pending.clear()


def open_study(space: Space, direction: str, seed: int, folder: Path) -> Any:
    import optuna  # noqa: PLC0415
    from optuna.storages import JournalStorage  # noqa: PLC0415
    from optuna.storages.journal import JournalFileBackend  # noqa: PLC0415

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(folder / "journal.log")))
    study = optuna.create_study(
        study_name=space.name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed),
        direction=cast(Literal["minimize", "maximize"], direction),  # known_direction's
        load_if_exists=True,
    )
    if study.trials:
        # A resumed search continues the sampler instead of restarting it: seeded as
        # before, TPE's random start proposed the first trials' parameters again.
        study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
    if study.direction.name.lower() != direction:
        raise ReprolabError(
            f"{folder / 'journal.log'}: the study {space.name!r} {study.direction.name.lower()}s; "
            f"expected {direction}: remove {folder} to start a new study"
        )
    return study


def recover_interrupted(study: Any, metric: str) -> None:
    """Trials a killed search left running: told from their experiment if its run had
    finished (it is not run again), else marked interrupted and proposed again first,
    with the same parameters."""
    from optuna.trial import TrialState  # noqa: PLC0415

    for trial in study.get_trials(deepcopy=False):
        if trial.state != TrialState.RUNNING:
            continue
        revision = experiment_revision(trial.user_attrs.get("experiment") or "")
        if revision:
            metrics = json.loads(git("show", f"{revision}:{Paths.metrics}"))
            if isinstance(metrics.get(metric), int | float):
                study._storage.set_trial_user_attr(trial._trial_id, "metrics", numbers(metrics))
                study.tell(trial.number, metrics[metric])
                continue
        # Optuna has no public setter for another process's trial attributes.
        study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
        study.tell(trial.number, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)


def finished(study: Any) -> list[Any]:
    """Trials that ran to an end: completed or failed, not those a kill interrupted."""
    return [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state.name in ("COMPLETE", "FAIL") and not t.user_attrs.get("interrupted")
    ]


def counted(study: Any) -> int:
    """Trials that count towards --trials: the finished ones."""
    return len(finished(study))


# Proposals in a row that repeat a finished trial before the space counts as exhausted.
MAX_REPEATS = 50


def ask_new(study: Any, space: Space) -> tuple[Any, list[str]] | None:
    """A trial whose parameters no finished trial had, with its overrides; None when
    the sampler proposes only parameter sets already run (a small discrete space). A
    repeat is told as pruned, never run (it is left out of every row)."""
    import optuna  # noqa: PLC0415

    seen = [t.params for t in finished(study)]
    for _ in range(MAX_REPEATS):
        trial = study.ask()
        overrides = suggest(trial, space)
        if trial.params not in seen:
            return trial, overrides
        trial.set_user_attr("repeat", True)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return None


def trial_rows(study: Any) -> list[dict[str, Any]]:
    return [
        {
            "number": t.number,
            "experiment": t.user_attrs.get("experiment"),
            "state": "interrupted" if t.user_attrs.get("interrupted") else t.state.name.lower(),
            "value": t.value if t.state.name == "COMPLETE" else None,
            "metrics": t.user_attrs.get("metrics") or {},
            "params": t.params,
            "overrides": t.user_attrs.get("overrides", []),
            "error": t.user_attrs.get("error"),
        }
        for t in study.get_trials(deepcopy=False)
        if not t.user_attrs.get("repeat")
    ]


def numbers(metrics: dict[str, Any]) -> dict[str, float]:
    """The top-level numeric metrics of a run (what ranking reads)."""
    return {k: v for k, v in metrics.items() if isinstance(v, int | float)}


def search(space: Space, runner: Runner, study: Any, metric: str, parallel: int) -> None:
    """Ask, run, tell until the space's trial count (or its time budget) is reached."""
    taken = set(experiment_refs())
    deadline = time.monotonic() + space.timeout if space.timeout else None
    to_run = max(space.trials - counted(study), 0)
    print(f"search {space.name!r}: {counted(study)} trial(s) done, {to_run} to run", flush=True)
    in_flight: dict[str, Any] = {}
    asked = 0
    while asked < to_run or in_flight:
        while len(in_flight) < parallel and asked < to_run:
            if deadline and time.monotonic() > deadline:
                print(f"time budget of {space.timeout:g} s reached: no new trials", flush=True)
                to_run = asked
                break
            proposed = ask_new(study, space)
            if proposed is None:
                print(
                    f"the last {MAX_REPEATS} proposals all repeat finished trials: the space "
                    "has no new parameter sets; no new trials",
                    flush=True,
                )
                to_run = asked
                break
            trial, overrides = proposed
            name = unused_names(f"{space.name}-{trial.number}", 1, taken, bare_first=True)[0]
            taken.add(name)
            trial.set_user_attr("experiment", name)
            trial.set_user_attr("overrides", overrides)
            runner.submit(name, overrides)
            in_flight[name] = trial
            asked += 1
        if not in_flight:
            break
        result = runner.next_result()
        trial = in_flight.pop(result.name or "")
        value = result.metrics.get(metric)
        if result.ok and isinstance(value, int | float):
            trial.set_user_attr("metrics", numbers(result.metrics))  # ties: the secondary
            study.tell(trial, value)
            said = f"{metric} = {value:.6g}"
        else:
            error = result.error or f"no {metric} in its metrics"
            trial.set_user_attr("error", error)
            study.tell(trial, state=_failed())
            said = f"failed: {error}"
        print(f"trial {trial.number} ({result.name}, {result.duration:.0f} s): {said}",
              flush=True)  # fmt: skip


def _failed() -> Any:
    from optuna.trial import TrialState  # noqa: PLC0415

    return TrialState.FAIL


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.search", __doc__)
    parser.add_argument("--space", required=True, help="conf/search/<space>.yaml")
    parser.add_argument("--trials", type=int, default=None, help="trials in all (resumes)")
    parser.add_argument("--mode", choices=("local", "ray"), default="local")
    parser.add_argument("--parallel", type=int, default=None, help="ray mode: trials at a time")
    parser.add_argument("--address", default=None, help="ray mode: the cluster's head")
    args = parser.parse_args(argv)
    from reprolab.workflow.sweep import (  # noqa: PLC0415
        refuse_changed_workspace,
        refuse_untracked,
        stop_on_sigterm,
    )

    stop_on_sigterm()
    with user_errors("search"):
        space = load_space(args.space, args.trials)
        params = load_params()
        metric, direction = objective(space, params)
        refuse_untracked()
        refuse_changed_workspace()
        folder = SEARCH_REPORTS / space.name
        study = open_study(space, direction, int(get(params, "seed")), folder)
        recover_interrupted(study, metric)
        if args.mode == "ray":
            from reprolab.workflow.ray_sweep import RayRunner  # noqa: PLC0415

            runner: Runner = RayRunner(args.address)
            parallel = args.parallel or space.parallel
        else:
            runner, parallel = LocalRunner(), 1
        try:
            search(space, runner, study, metric, parallel)
        finally:
            runner.close()
            from reprolab.workflow.search_report import write_report  # noqa: PLC0415

            rows = trial_rows(study)
            rules = search_ranking(metric, direction, get(params, "ranking"))
            summary = write_report(folder, space.name, rows, space.params, rules)
        print(f"wrote {summary}", flush=True)
        failed = [r for r in rows if r["state"] == "fail"]
        for row in failed:
            print(
                f"failed: trial {row['number']} ({row['experiment']}): {row['error']}",
                file=sys.stderr,
            )
    return 0 if any(row["value"] is not None for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
