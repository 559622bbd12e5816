"""Each pipeline test module gets a fresh git repository holding the committed files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import run


@pytest.fixture(scope="module")
def repo(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new git repository holding exactly the committed files of this one."""
    dest = tmp_path_factory.mktemp("clone")
    tracked = run(root, "git", "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if (root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    run(dest, "git", "init", "-q", "-b", "main")
    run(dest, "git", "config", "user.name", "Pipeline Test")
    run(dest, "git", "config", "user.email", "pipeline-test@example.invalid")
    run(dest, "git", "add", "-A")
    run(dest, "git", "commit", "-qm", "copy of the repository under test")
    return dest
