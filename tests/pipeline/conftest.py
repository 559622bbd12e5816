"""Each pipeline test module gets a fresh git repository holding the committed files,
its DVC cache seeded from one build of the default pipeline per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reprolab.workflow.verify import clean_copy

from .helpers import run


@pytest.fixture(scope="session")
def built_cache(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DVC cache (outputs and run-cache) of one `dvc repro` of the committed files.

    Seeded into every module's repository, it lets the modules' own `dvc repro` of the
    default pipeline restore the outputs ("Stage ... is cached - skipping run") instead
    of computing them again, as a user's would after `dvc pull` from a shared remote.
    A stage whose code, params or inputs a test changes still runs; `dvc repro --force`
    always runs (test_end_to_end checks the bytes of a real build).
    """
    build = clean_copy(root, tmp_path_factory.mktemp("built"))
    run(build, "dvc", "repro")
    return build / ".dvc" / "cache"


@pytest.fixture(scope="module")
def repo(root: Path, tmp_path_factory: pytest.TempPathFactory, built_cache: Path) -> Path:
    """A new git repository holding this one's tracked files (and data/external), with
    no outputs checked out and a copy of the session's DVC cache."""
    dest = clean_copy(root, tmp_path_factory.mktemp("clone"))
    shutil.copytree(built_cache, dest / ".dvc" / "cache")
    run(dest, "git", "config", "user.name", "Pipeline Test")
    run(dest, "git", "config", "user.email", "pipeline-test@example.invalid")
    return dest
