"""Each pipeline test module gets a fresh git repository holding the committed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprolab.workflow.verify import clean_copy

from .helpers import run


@pytest.fixture(scope="module")
def repo(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new git repository holding this one's tracked files (and data/external)."""
    dest = clean_copy(root, tmp_path_factory.mktemp("clone"))
    run(dest, "git", "config", "user.name", "Pipeline Test")
    run(dest, "git", "config", "user.email", "pipeline-test@example.invalid")
    return dest
