"""SIGKILL in the middle of writing an output, then `dvc repro`: complete, correct outputs."""

from __future__ import annotations

import os

import pytest

from reprolab.workflow.compose import compose_to

from .helpers import run

pytestmark = pytest.mark.pipeline

# Loaded by every Python process that has the copy's src/ on its path (the stages):
# the first write of the named file stops halfway and the process is SIGKILLed.
KILLER = """
import os, pathlib, signal

_name = os.environ.get("REPROLAB_TEST_KILL_WRITING")
_write_bytes = pathlib.Path.write_bytes


def _dying_write_bytes(self, data):
    marker = pathlib.Path(os.environ["REPROLAB_TEST_KILL_MARKER"])
    if _name and self.name.startswith(f".{_name}.tmp-") and not marker.exists():
        marker.write_text("killed once")
        with self.open("wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            os.fsync(handle.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    return _write_bytes(self, data)


pathlib.Path.write_bytes = _dying_write_bytes
"""


def test_killed_while_writing_the_model_then_repro_completes_identically(repo, tmp_path):
    # A model never trained before, so that DVC cannot restore it from its cache.
    compose_to(repo / "params.yaml", repo, ["model.C=0.3"])
    (repo / "src/sitecustomize.py").write_text(KILLER)
    env = {
        "REPROLAB_TEST_KILL_WRITING": "model.skops",
        "REPROLAB_TEST_KILL_MARKER": str(tmp_path / "killed"),
    }
    os.environ.update(env)
    try:
        killed = run(repo, "dvc", "repro", check=False)
        assert killed.returncode != 0
        assert "failed to reproduce 'train'" in killed.stderr
        assert (tmp_path / "killed").exists()
        half = list((repo / "models").glob(".model.skops.tmp-*"))
        assert len(half) == 1 and half[0].stat().st_size > 0  # the half-written temp file

        again = run(repo, "dvc", "repro")  # what the user does next
        assert "Running stage 'train'" in again.stdout
    finally:
        for key in env:
            os.environ.pop(key)
        (repo / "src/sitecustomize.py").unlink()
    assert not list((repo / "models").glob(".model.skops.tmp-*"))  # cleaned up
    assert "up to date" in run(repo, "dvc", "status").stdout
    recovered = (repo / "dvc.lock").read_text()
    # An uninterrupted run of the same stage gives the same bytes (same hashes).
    run(repo, "dvc", "repro", "--force", "--single-item", "train")
    assert (repo / "dvc.lock").read_text() == recovered


def test_a_failing_stage_keeps_the_last_good_uncommitted_outputs_kept_in_git(repo):
    """DVC deletes a stage's outputs before running it: the git-tracked ones (metrics,
    plots, reports) that no cache holds were lost when the stage then failed."""
    run(repo, "dvc", "repro")
    (repo / "data/production").mkdir(exist_ok=True)
    # A good batch: the last good monitor outputs, uncommitted.
    import pandas as pd

    test = pd.read_parquet(repo / "data/interim/test.parquet")
    test.to_csv(repo / "data/production/week1.csv", index=False)
    run(repo, "dvc", "repro")
    kept = {p: (repo / p).read_bytes() for p in ("metrics/monitor.json", "plots/drift.json", "reports/monitor.md")}  # fmt: skip
    assert run(repo, "git", "status", "--porcelain", "--", "metrics/monitor.json").stdout
    # A batch the monitor refuses: the stage fails, its last good outputs stay.
    test.assign(body_mass_g="heavy").to_csv(repo / "data/production/week2.csv", index=False)
    failed = run(repo, "dvc", "repro", check=False)
    assert failed.returncode != 0 and "monitor: error: " in failed.stderr
    assert {p: (repo / p).read_bytes() for p in kept} == kept
    (repo / "data/production/week2.csv").unlink()
    (repo / "data/production/week1.csv").unlink()
    run(repo, "dvc", "repro")
