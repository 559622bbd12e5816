"""Benchmark: one run's LightGBM fit in memory, out of core, and on Ray (1 and 2 workers).

    make bench-distributed                    # 1M and 10M rows
    .venv/bin/python bench/distributed.py --rows 1000000

For each size, a clean copy composed with data=synthetic (20 numeric + 5 categorical
features, 3 classes) and model=lightgbm is built up to `featurize` once. Then `train`
and `evaluate` run as `dvc repro --single-item`, as a user's experiment would, with:
- engine=local, engine.out_of_core=false: the float matrix in memory (the old path);
- engine=local, engine.out_of_core=true: the file binned a chunk of rows at a time;
- engine=ray with 1 worker, then 2 workers, of 1 CPU each, on a simulated 2-node
  cluster (Ray's cluster_utils: a head with no CPUs and two 1-CPU nodes, each node
  with an object store large enough for its share of the rows).
Prints, per variant: the train stage's own time (its last line), the wall time of
`dvc repro -s train`, the peak RSS of the driver (the train stage's process, the
largest process `dvc repro` waited for) and of the largest Ray Train worker (its
VmHWM, polled), the model's balanced accuracy and log loss on the test split, and the
ratios the issue asks for: the largest process of the 2-worker run against the
in-memory train's peak, and the 2-worker fit's wall against the 1-worker one's.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from boosting import stage_seconds  # the sibling benchmarks: one way to time a stage
from scale import ENV, ROOT, measured, sizes_in_scratch

VARIANTS = {
    "local, in memory": ["engine=local", "engine.out_of_core=false"],
    "local, out of core": ["engine=local", "engine.out_of_core=true"],
    "ray, 1 worker": ["engine=ray", "engine.workers=1", "engine.cpus_per_worker=1"],
    "ray, 2 workers": ["engine=ray", "engine.workers=2", "engine.cpus_per_worker=1"],
}


class WorkerPeaks:
    """The peak RSS (VmHWM, MiB) of every Ray Train worker process seen while running."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            for pid in (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()):
                try:
                    title = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if not title.startswith(b"ray::RayTrainWorker"):
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue  # gone meanwhile
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[pid] = max(self.peaks.get(pid, 0), int(line.split()[1]) / 1024)

    @property
    def largest(self) -> float:
        return max(self.peaks.values(), default=float("nan"))


def two_node_cluster(rows: int):
    """Ray's simulated cluster: a head without CPUs, two 1-CPU nodes whose object stores
    hold a share of the float32 matrix with room to spare."""
    from ray.cluster_utils import Cluster  # noqa: PLC0415

    store = max(300 * 2**20, rows * 26 * 4)  # the whole matrix, in case one node gets it
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        cluster.add_node(num_cpus=1, object_store_memory=store)
    cluster.wait_for_nodes()
    return cluster


def run_size(rows: int, parent: Path) -> list[tuple]:
    sys.path.insert(0, str(ROOT / "src"))
    from reprolab.workflow.compose import compose_to  # noqa: PLC0415
    from reprolab.workflow.verify import clean_copy  # noqa: PLC0415

    repo = clean_copy(ROOT, parent / f"rows-{rows}")
    base = ["data=synthetic", f"data.source.rows={rows}", "model=lightgbm"]
    compose_to(repo / "params.yaml", repo, base)
    for stage in ("ingest", "validate", "split", "featurize"):
        measured(repo, "dvc", "repro", "--single-item", stage)
    print(f"  {rows:,} rows: features built", file=sys.stderr)
    # In-process nodes without a token (as the tests'); the stages find the cluster
    # through RAY_ADDRESS, as a user's would.
    for env in (os.environ, ENV):
        env["RAY_AUTH_MODE"] = "disabled"
        env.pop("RAY_AUTH_TOKEN", None)
    cluster = two_node_cluster(rows)
    ENV["RAY_ADDRESS"] = cluster.address
    results = []
    try:
        for variant, overrides in VARIANTS.items():
            compose_to(repo / "params.yaml", repo, [*base, *overrides])
            with WorkerPeaks() as workers:
                wall, rss, log = measured(repo, "dvc", "repro", "--single-item", "train")
            measured(repo, "dvc", "repro", "--single-item", "evaluate")
            metrics = json.loads((repo / "metrics/evaluate.json").read_text())
            fit = stage_seconds(log, "train")
            results.append((variant, fit, wall, rss, workers.largest, metrics))
            print(f"  {rows:,} rows {variant}: fit {fit:.1f} s, driver {rss:.0f} MiB, "
                  f"worker {workers.largest:.0f} MiB", file=sys.stderr)  # fmt: skip
    finally:
        cluster.shutdown()
    return results


def print_table(rows: int, results: list[tuple]) -> None:
    print(f"\n## {rows:,} rows (test split {results[0][5]['test_rows']:,} rows)")
    print("| variant | train stage s | dvc repro -s train s | driver peak MiB "
          "| largest worker peak MiB | balanced accuracy | log loss |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for variant, fit, wall, rss, worker, m in results:
        shown = "-" if worker != worker else f"{worker:.0f}"  # NaN: no worker
        print(f"| {variant} | {fit:.1f} | {wall:.1f} | {rss:.0f} | {shown} | "
              f"{m['balanced_accuracy']:.4f} | {m['log_loss']:.4f} |")  # fmt: skip
    by_name = {r[0]: r for r in results}
    _, _, _, memory_rss, _, memory_metrics = by_name["local, in memory"][:6]
    for variant, *_rest in results:
        _, fit, _, rss, worker, m = by_name[variant]
        largest = max(rss, 0 if worker != worker else worker)
        print(f"- {variant}: largest process {largest / memory_rss:.2f}x the in-memory "
              f"train's peak; balanced accuracy {m['balanced_accuracy'] - memory_metrics['balanced_accuracy']:+.4f} "
              "against in memory")  # fmt: skip
    one, two = by_name["ray, 1 worker"][1], by_name["ray, 2 workers"][1]
    print(f"- ray fit wall, 2 workers / 1 worker: {two / one:.2f}x")


def main() -> None:
    for rows, tmp in sizes_in_scratch(__doc__.splitlines()[0], [1_000_000, 10_000_000]):
        print_table(rows, run_size(rows, tmp))


if __name__ == "__main__":
    main()
