"""Sharing through a DVC remote on a real S3-compatible server (moto, on loopback): push,
pull into fresh clones, CI-style `repro --pull`, failures that change nothing locally,
interrupted pushes, missing data named, experiment sharing, and a safe `dvc gc`."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from .helpers import BIN, exp_run, run
from .s3_server import CREDENTIALS, create_bucket, list_keys, moto_server, overwrite_key

pytestmark = pytest.mark.pipeline
BUCKET = "dvc-store"


@pytest.fixture(scope="module")
def s3():
    with moto_server() as (endpoint, process):
        create_bucket(endpoint, BUCKET)
        yield endpoint, process


@pytest.fixture(scope="module")
def origin(repo, s3, tmp_path_factory):
    """The repo with an S3 remote (URL committed; endpoint and keys in config.local), its
    results pushed, and a bare git repository as the team's git remote."""
    endpoint, _ = s3
    run(repo, "dvc", "remote", "add", "s3", f"s3://{BUCKET}/reprolab")
    run(repo, "dvc", "remote", "modify", "s3", "verify", "true")  # committed, as in README
    run(repo, "dvc", "remote", "modify", "--local", "s3", "endpointurl", endpoint)
    run(repo, "dvc", "remote", "modify", "--local", "s3", "access_key_id", "testing")
    run(repo, "dvc", "remote", "modify", "--local", "s3", "secret_access_key", "testing")
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "results and the team's S3 remote")
    run(repo, "dvc", "push", "-r", "s3")
    assert "config.local" not in run(repo, "git", "ls-files", ".dvc").stdout  # never committed
    bare = tmp_path_factory.mktemp("git-remote") / "origin.git"
    run(repo, "git", "init", "-q", "--bare", "-b", "main", str(bare))
    run(repo, "git", "remote", "add", "origin", str(bare))
    run(repo, "git", "push", "-q", "--no-verify", "origin", "main")
    return bare


def teammate(origin, tmp_path, s3, name="clone"):
    """A fresh clone whose S3 settings come from environment variables."""
    endpoint, _ = s3
    dest = tmp_path / name
    run(tmp_path, "git", "clone", "-q", str(origin), str(dest))
    run(dest, "git", "config", "user.name", "Teammate")
    run(dest, "git", "config", "user.email", "teammate@example.invalid")
    os.environ.update({**CREDENTIALS, "AWS_ENDPOINT_URL_S3": endpoint})
    run(dest, "dvc", "remote", "default", "--local", "s3")
    return dest


@pytest.fixture(autouse=True)
def _clean_env():
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


def outs_match_lock(repo) -> None:
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            data = (repo / out["path"]).read_bytes()
            assert hashlib.md5(data, usedforsecurity=False).hexdigest() == out["md5"], out["path"]


def test_push_then_pull_into_a_fresh_clone(repo, origin, s3, tmp_path):
    run(repo, "dvc", "push", "-r", "s3")
    assert list_keys(s3[0], BUCKET)
    clone = teammate(origin, tmp_path, s3)
    run(clone, "dvc", "pull", "-r", "s3")
    assert "up to date" in run(clone, "dvc", "status").stdout
    outs_match_lock(clone)


def test_a_tampered_remote_object_is_refused_on_pull(repo, origin, s3, tmp_path):
    run(repo, "dvc", "push", "-r", "s3")
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    model_md5 = next(
        out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
        if out["path"] == "models/model.skops"
    )
    key = next(k for k in list_keys(s3[0], BUCKET) if k.endswith(model_md5[2:]))
    overwrite_key(s3[0], BUCKET, key, b"not the model")
    try:
        clone = teammate(origin, tmp_path, s3)
        pulled = run(clone, "dvc", "pull", "-r", "s3", check=False)
        assert pulled.returncode != 0
        assert not (clone / "models/model.skops").exists()
        assert "up to date" not in run(clone, "dvc", "status", check=False).stdout
    finally:  # restore the object for later tests
        cached = repo / ".dvc/cache/files/md5" / model_md5[:2] / model_md5[2:]
        overwrite_key(s3[0], BUCKET, key, cached.read_bytes())


def test_ci_style_repro_reuses_remote_outputs(origin, s3, tmp_path):
    clone = teammate(origin, tmp_path, s3)
    result = run(clone, "dvc", "repro", "--pull", "--allow-missing")
    assert "Running stage" not in result.stdout
    run(clone, "dvc", "pull", "-r", "s3")
    assert "up to date" in run(clone, "dvc", "status").stdout


def _workspace_digest(repo):
    # .dvc/tmp holds DVC's own lock and index files: not the user's data.
    files = sorted(
        p
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.parts and "tmp" not in p.relative_to(repo).parts[:2]
    )
    return {str(p.relative_to(repo)): p.stat().st_mtime_ns for p in files}


def test_unreachable_or_misconfigured_remote_fails_clearly_and_changes_nothing(repo):
    run(repo, "dvc", "checkout", "-q")  # a built workspace, whichever test ran before
    dead = f"http://127.0.0.1:{_closed_port()}"
    run(repo, "dvc", "remote", "add", "--local", "dead", f"s3://{BUCKET}/x")
    run(repo, "dvc", "remote", "modify", "--local", "dead", "endpointurl", dead)
    run(repo, "dvc", "remote", "add", "--local", "nobucket", "s3://no-such-bucket/x")
    before = _workspace_digest(repo)
    try:
        for name, words in (("dead", "127.0.0.1"), ("nobucket", "no-such-bucket")):
            os.environ.update(CREDENTIALS)
            result = run(repo, "dvc", "push", "-r", name, check=False)
            assert result.returncode != 0
            assert "ERROR" in result.stderr
            assert words in result.stderr or "bucket" in result.stderr.lower(), result.stderr
    finally:
        run(repo, "dvc", "remote", "remove", "--local", "dead")
        run(repo, "dvc", "remote", "remove", "--local", "nobucket")
    after = _workspace_digest(repo)
    assert {k: v for k, v in after.items() if "config.local" not in k} == {
        k: v for k, v in before.items() if "config.local" not in k
    }
    assert "up to date" in run(repo, "dvc", "status").stdout


def _closed_port():
    from .s3_server import free_port

    return free_port()


def test_interrupted_push_then_push_again_completes(repo, origin, s3, tmp_path):
    endpoint, server = s3
    run(repo, "git", "checkout", "-q", "-b", "bigger-forest")
    run(repo, sys.executable, "-m", "reprolab.workflow.compose")
    run(repo, "dvc", "exp", "run", "-S", "model=random_forest", "-S", "model.n_estimators=300")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "forest")
    # Part of this version reaches the remote; then the server stops answering in the
    # middle of the full push, which is killed; then the server resumes.
    run(repo, "dvc", "push", "-r", "s3", "featurize")
    before = len(list_keys(endpoint, BUCKET))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    pushing = subprocess.Popen(
        ["dvc", "push", "-r", "s3"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server.send_signal(signal.SIGSTOP)
    time.sleep(2)
    pushing.kill()
    pushing.wait()
    server.send_signal(signal.SIGCONT)
    assert "in sync" not in run(repo, "dvc", "status", "--cloud", "-r", "s3").stdout
    run(repo, "dvc", "push", "-r", "s3")
    assert len(list_keys(endpoint, BUCKET)) > before
    status = run(repo, "dvc", "status", "--cloud", "-r", "s3")
    assert "in sync" in status.stdout
    run(repo, "git", "push", "-q", "--no-verify", "origin", "bigger-forest")
    clone = teammate(origin, tmp_path, s3)
    run(clone, "git", "checkout", "-q", "bigger-forest")
    run(clone, "dvc", "pull", "-r", "s3")
    outs_match_lock(clone)
    run(repo, "git", "checkout", "-q", "main")
    run(repo, "dvc", "checkout", "-q")


def test_pulling_a_version_missing_from_the_remote_names_the_files(repo, origin, s3, tmp_path):
    run(repo, "git", "checkout", "-q", "-b", "unpushed")
    run(repo, "dvc", "exp", "run", "-S", "model.C=0.25")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "C=0.25, data not pushed")
    run(repo, "git", "push", "-q", "--no-verify", "origin", "unpushed")
    clone = teammate(origin, tmp_path, s3)
    run(clone, "git", "checkout", "-q", "unpushed")
    result = run(clone, "dvc", "pull", "-r", "s3", check=False)
    assert result.returncode != 0
    assert "models/model.skops" in result.stderr
    assert "data/processed/train_features.parquet" not in result.stderr  # that one is there
    run(repo, "git", "checkout", "-q", "main")
    run(repo, "dvc", "checkout", "-q")


def test_experiments_are_shared_through_git_and_the_data_remote(repo, origin, s3, tmp_path):
    exp_run(repo, "shared-forest", "model=random_forest", "model.n_estimators=40")
    run(repo, "dvc", "exp", "push", "-r", "s3", "origin", "shared-forest")
    run(repo, "git", "checkout", "-q", "--", ".")
    run(repo, "dvc", "checkout", "-q")
    clone = teammate(origin, tmp_path, s3)
    run(clone, "dvc", "exp", "pull", "-r", "s3", "origin", "shared-forest")
    assert "shared-forest" in run(clone, "dvc", "exp", "show", "--md").stdout
    run(clone, "dvc", "exp", "apply", "shared-forest")
    run(clone, "dvc", "pull", "-r", "s3")
    assert "n_estimators: 40" in (clone / "params.yaml").read_text()
    assert "up to date" in run(clone, "dvc", "status").stdout
    outs_match_lock(clone)


def test_gc_with_the_safe_flags_keeps_every_branch(repo, origin):
    """`dvc gc --all-commits --all-experiments` keeps what any commit on any branch needs;
    `dvc gc --workspace` would not (shown last, so that the check can fail)."""
    # A branch whose outputs are in the cache only (other tests' branches, if any, too).
    run(repo, "git", "checkout", "-q", "main")
    run(repo, "dvc", "checkout", "-q", "--force")
    run(repo, "git", "checkout", "-q", "-b", "gc-forest")
    run(repo, "dvc", "exp", "run", "-S", "model=random_forest")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "gc-forest: its own outputs, only in the cache")
    run(repo, "git", "checkout", "-q", "main")
    run(repo, "dvc", "checkout", "-q")
    # DVC pitfall: a config.local section for a remote that older commits do not define
    # fails `--all-commits` ("expected 'url'"); settings from the environment do not.
    local = (repo / ".dvc/config.local").read_text()
    run(repo, "dvc", "remote", "remove", "--local", "s3")
    try:
        _gc_keeps_every_branch_but_not_with_workspace(repo)
    finally:  # the module's other tests reach the remote through it
        (repo / ".dvc/config.local").write_text(local)


def _gc_keeps_every_branch_but_not_with_workspace(repo):
    run(repo, "dvc", "gc", "--all-commits", "--all-experiments", "--force")
    branches = run(repo, "git", "branch", "--format=%(refname:short)").stdout.split()
    assert {"main", "gc-forest"} <= set(branches)
    for branch in branches:
        run(repo, "git", "checkout", "-q", branch)
        run(repo, "dvc", "checkout")  # fails if any output of this commit left the cache
        outs_match_lock(repo)
    run(repo, "git", "checkout", "-q", "main")
    run(repo, "dvc", "checkout", "-q")
    run(repo, "dvc", "gc", "--workspace", "--force")
    run(repo, "git", "checkout", "-q", "gc-forest")
    unsafe = run(repo, "dvc", "checkout", check=False)
    assert unsafe.returncode != 0
    run(repo, "git", "checkout", "-q", "main")
    run(repo, "dvc", "checkout", "-q", "--force")
