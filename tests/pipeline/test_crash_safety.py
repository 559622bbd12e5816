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
