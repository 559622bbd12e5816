"""The model registry with the real git, GTO and DVC in a temp repository with a local
DVC remote: registering needs a clean, committed build and a reachable remote, pushes
the model after saying so, passes the gate against prod or is forced with a reason,
and happens once per commit; stages follow their order; a real service serves the
version a stage holds and, after a rollback, the older one; a fresh clone fetches
prod from the remote; what is refused is one line and leaves the tags as they were."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from .helpers import clean_workspace, project_env, run, set_conf_value, wait_for_service
from .s3_server import free_port

pytestmark = pytest.mark.pipeline


def registry(repo, *args, check=True):
    return run(repo, sys.executable, "-m", "reprolab.workflow.registry", *args, check=check)


def tags(repo) -> list[str]:
    return sorted(run(repo, "git", "tag", "--list").stdout.split())


def refused(result, words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and words in errors[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def storage(repo, tmp_path_factory):
    """The repo built and committed with a DVC remote of its own (a local directory)."""
    remote = tmp_path_factory.mktemp("dvc-remote")
    run(repo, "dvc", "remote", "add", "-f", "-d", "local", str(remote))
    # The registry's settings these tests name, whatever a user's conf/ says.
    set_conf_value(repo, "conf/config.yaml", "  artifact", "model")
    set_conf_value(repo, "conf/config.yaml", "  stages", "[dev, staging, prod]")
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "a DVC remote for the registry")
    return remote


@pytest.fixture
def fresh(repo, storage):
    """HEAD's files and outputs, and no registry tags: each test starts from nothing."""
    clean_workspace(repo)
    for tag in tags(repo):
        run(repo, "git", "tag", "-d", tag)
    return repo


def _stage_holder(repo, stage: str) -> str | None:
    shown = json.loads(run(repo, "gto", "show", "--json").stdout or "{}")
    return (shown.get("model") or {}).get("stage", {}).get(stage)


def _commit_a_change(repo, message: str) -> None:
    with (repo / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(f"\n{message}\n")
    run(repo, "git", "commit", "-qam", message)


def test_register_needs_a_clean_pushed_build_and_registers_a_commit_once(fresh, storage):
    repo = fresh
    (repo / "README.md").write_text("edited\n", encoding="utf-8")
    refused(registry(repo, "register", check=False), "1 uncommitted change(s) (first: M README.md)")
    assert tags(repo) == []
    clean_workspace(repo)

    # A remote that cannot be reached (this clone's own setting, not committed).
    blocked = storage.parent / "a-file-not-a-folder"
    blocked.write_text("")
    run(repo, "dvc", "remote", "modify", "--local", "local", "url", str(blocked / "remote"))
    refused(registry(repo, "register", check=False),
            "the model could not be checked or pushed to the DVC remote")  # fmt: skip
    assert tags(repo) == []
    run(repo, "dvc", "remote", "modify", "--local", "--unset", "local", "url")

    shutil.rmtree(storage)  # a remote without the model: registering pushes it
    storage.mkdir()
    first = registry(repo, "register")
    # The model goes to the remote; its schema (like the metrics) is kept in git.
    assert "register: pushing models/model.skops to the DVC remote" in first.stdout
    head = run(repo, "git", "rev-parse", "--short=7", "HEAD").stdout.strip()
    assert f"registered model@v0.0.1 at {head}" in first.stdout
    assert tags(repo) == ["model@v0.0.1"]
    shipped = ("models/model.skops", "reports/schema.yaml")
    in_remote = run(repo, "dvc", "status", "--cloud", "--json", *shipped).stdout
    assert json.loads(in_remote) == {}
    message = run(repo, "git", "tag", "-l", "--format=%(contents)", "model@v0.0.1").stdout
    metrics = json.loads((repo / "metrics/evaluate.json").read_text())
    assert json.loads(re.search(r"^metrics: (.*)$", message, re.M).group(1)) == metrics
    assert '"data/raw/dataset.parquet": "' in message

    refused(registry(repo, "register", check=False), f"HEAD ({head}) is already registered")
    assert tags(repo) == ["model@v0.0.1"]


def test_the_gate_against_prod_passes_a_model_as_good_and_refuses_a_worse_one(fresh):
    repo = fresh
    registry(repo, "register")
    for stage in ("dev", "staging", "prod"):
        registry(repo, "assign", "--stage", stage)
    # A second version of the same model: the gate against the first, in prod, passes.
    _commit_a_change(repo, "a second version")
    second = registry(repo, "register", "--bump", "minor")
    assert "gate against model@v0.0.1 (prod): PASS" in second.stdout
    assert "registered model@v0.1.0" in second.stdout
    # The same model under thresholds no model meets: the gate against prod fails.
    config = repo / "conf/config.yaml"
    impossible = "  thresholds:\n" + "".join(
        f"    {metric}: {bound}\n"
        for metric, bound in [("balanced_accuracy", 1.01), ("accuracy", 1.01), ("log_loss", 0.0)]
    )
    text = re.sub(r"^  thresholds:\n(?:    .*\n)+", impossible, config.read_text(), flags=re.M)
    config.write_text(text)
    run(repo, sys.executable, "-m", "reprolab.workflow.compose")
    run(repo, "dvc", "repro")
    run(repo, "git", "commit", "-qam", "thresholds no model meets")
    before = tags(repo)
    refused(registry(repo, "register", check=False),
            "the gate against model@v0.0.1 (prod, ")  # fmt: skip
    assert tags(repo) == before
    forced = registry(repo, "register", "--force", "--reason", "accepted by the model owner")
    assert "registered model@v0.1.1" in forced.stdout
    message = run(repo, "git", "tag", "-l", "--format=%(contents)", "model@v0.1.1").stdout
    assert "forced past the gate: accepted by the model owner" in message


def test_an_unknown_stage_or_version_is_one_line_and_changes_nothing(
    fresh, storage, tmp_path, monkeypatch
):
    repo = fresh
    refused(registry(repo, "assign", "--stage", "dev", check=False),
            "no version of model is registered")  # fmt: skip
    registry(repo, "register")
    before = tags(repo)
    refused(registry(repo, "assign", "--stage", "qa", check=False),
            "STAGE: found 'qa'; expected one of dev, staging, prod")  # fmt: skip
    refused(registry(repo, "assign", "--stage", "dev", "--version", "v9.9.9", check=False),
            "VERSION: model@v9.9.9 is not registered; expected one of: v0.0.1")  # fmt: skip
    refused(registry(repo, "register", "--bump", "huge", check=False), "BUMP: found 'huge'")
    assert tags(repo) == before
    # A version whose model the remote does not hold cannot be served by stage from a
    # clone without it in its own DVC cache.
    registry(repo, "assign", "--stage", "dev")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    shutil.rmtree(storage)
    storage.mkdir()
    refused(registry(clone, "fetch", "--stage", "dev", check=False),
            "the model of model@v0.0.1 could not be fetched from the DVC remote")  # fmt: skip
    assert not list((tmp_path / "cache").rglob("model.skops"))


@contextlib.contextmanager
def _service(repo, folder, stage):
    """The service of a fetched version (as `make serve STAGE=...` starts it) on a free port."""
    port = free_port()
    env = {**project_env(), "REPROLAB_SERVED": str(folder), "REPROLAB_SERVED_STAGE": stage}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "reprolab.serve.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_service(server, url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _fetched(repo, stage):
    result = registry(repo, "fetch", "--stage", stage)
    return Path(result.stdout.strip().splitlines()[-1])


def test_stages_in_order_serving_by_stage_and_rollback(fresh, tmp_path, monkeypatch):
    repo = fresh
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # fetched versions go here
    refused(registry(repo, "fetch", "--stage", "prod", check=False),
            "no version of model holds 'prod'")  # fmt: skip
    registry(repo, "register")
    # Stages in order: prod only after staging, staging only after dev.
    refused(registry(repo, "assign", "--stage", "prod", check=False),
            "model@v0.0.1 never held 'staging', which comes before 'prod'")  # fmt: skip
    refused(registry(repo, "assign", "--stage", "staging", check=False), "never held 'dev'")
    for stage in ("dev", "staging", "prod"):
        assert f"assigned '{stage}' to model@v0.0.1" in (
            registry(repo, "assign", "--stage", stage).stdout
        )
    first_model = (repo / "models/model.skops").read_bytes()
    # A second version: another seed, so another split and another model (the gate
    # cannot compare different test sets: forced, with the reason).
    seed = yaml.safe_load((repo / "params.yaml").read_text())["seed"]
    set_conf_value(repo, "conf/config.yaml", "seed", seed + 1)
    run(repo, "dvc", "repro")
    run(repo, "git", "commit", "-qam", "another seed")
    registry(repo, "register", "--force", "--reason", "a new split")
    for stage in ("dev", "staging", "prod"):
        registry(repo, "assign", "--stage", stage)
    clean_workspace(repo)
    second_model = (repo / "models/model.skops").read_bytes()
    assert first_model != second_model

    folder = _fetched(repo, "prod")
    assert (folder / "models/model.skops").read_bytes() == second_model
    assert not folder.is_relative_to(repo)  # outside the workspace
    rows = pd.read_parquet(repo / "data/interim/test.parquet").head(20)
    records = json.loads(rows.drop(columns=["species"]).to_json(orient="records"))
    with _service(repo, folder, "prod") as url:
        assert httpx.get(f"{url}/health").json() == {
            "status": "ok", "version": "v0.0.2", "stage": "prod"
        }  # fmt: skip
        meta = httpx.get(f"{url}/metadata").json()
        commit = run(repo, "git", "rev-list", "-n", "1", "model@v0.0.2").stdout.strip()
        assert (meta["version"], meta["stage"], meta["git_revision"]) == ("v0.0.2", "prod", commit)
        served = httpx.post(f"{url}/predict", json={"records": records}).json()["predictions"]
    from reprolab.model.persistence import load_model

    expected = load_model(folder / "models/model.skops").predict(rows.drop(columns=["species"]))
    assert [p["prediction"] for p in served] == list(expected)
    # Batch prediction by stage: the same version's predictions.
    out = tmp_path / "scored.csv"
    run(repo, sys.executable, "-m", "reprolab.serve.predict", "--served", str(folder),
        "--input", str(repo / "data/interim/test.parquet"), "--output", str(out))  # fmt: skip
    assert list(pd.read_csv(out)["prediction"].head(20)) == list(expected)

    # Rollback: prod back to the first version; a restart serves it.
    registry(repo, "assign", "--stage", "prod", "--version", "v0.0.1")
    older = _fetched(repo, "prod")
    assert (older / "models/model.skops").read_bytes() == first_model
    with _service(repo, older, "prod") as url:
        assert httpx.get(f"{url}/health").json()["version"] == "v0.0.1"
    shown = registry(repo, "show").stdout.splitlines()
    assert shown[:4] == [
        "stages, in order: dev -> staging -> prod",
        "  dev        v0.0.2",
        "  staging    v0.0.2",
        "  prod       v0.0.1",
    ]
    newest = shown[5].split(" | ")
    assert newest[1:5] == ["assignment", "v0.0.1", "prod", "Pipeline Test"]  # who: git's author

    # A fresh clone with only the DVC remote and the tags serves prod.
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "clone-cache"))
    in_clone = _fetched(clone, "prod")
    assert (in_clone / "models/model.skops").read_bytes() == first_model
