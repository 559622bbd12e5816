"""The GitHub workflows: valid (actionlint, offline), least privilege, pinned actions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yaml"))
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent))


def _load(path: Path) -> dict:
    # PyYAML reads the key `on` as True.
    return {("on" if k is True else k): v for k, v in yaml.safe_load(path.read_text()).items()}


def test_the_three_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["ci.yaml", "pr-report.yaml", "register.yaml"]


def test_actionlint_passes_and_catches_a_broken_workflow(tmp_path):
    assert ACTIONLINT, "actionlint is a dev dependency: run `make install-dev`"
    result = subprocess.run([ACTIONLINT, *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    broken = tmp_path / ".github/workflows/broken.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.evnt.number }}\n"
    )
    result = subprocess.run([ACTIONLINT, str(broken)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "evnt" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_least_privilege_and_pinned_actions(path):
    workflow = _load(path)
    assert workflow["permissions"] == {}
    # Only the registration writes: the registry's tags.
    contents = "write" if path.name == "register.yaml" else "read"
    for job in workflow["jobs"].values():
        assert "permissions" in job
        assert job["permissions"].get("contents") == contents
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    text = path.read_text()
    assert "--publish" not in text  # CML's default upload to a third-party host
    # Secrets: the DVC remote's credentials, for the registration's push only.
    allowed = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} if contents == "write" else set()
    assert set(re.findall(r"secrets\.(\w+)", text)) <= allowed


def test_ci_runs_make_test_which_runs_the_hooks_once_on_push_and_pull_request():
    workflow = _load(ROOT / ".github/workflows/ci.yaml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    runs = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    assert "make test" in runs and "make lint" not in runs  # make test runs the hooks
    target = _text_of_make_target("test")
    assert target.count("pre-commit run --all-files") == 1, target


def _text_of_make_target(name: str) -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return makefile.split(f"\n{name}:", 1)[1].split("\n\n", 1)[0]


def test_pr_report_comments_once_uploads_images_and_gates():
    workflow = _load(ROOT / ".github/workflows/pr-report.yaml")
    job = workflow["jobs"]["report"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = {step.get("name", step.get("uses", "")): step for step in job["steps"]}
    assert (
        next(s for s in job["steps"] if "checkout" in s.get("uses", ""))["with"]["fetch-depth"] == 0
    )
    assert 'make report BASE="origin/${BASE_REF}"' in steps["Report and gate"]["run"]
    assert "GITHUB_STEP_SUMMARY" in steps["Report and gate"]["run"]
    assert "reports/pr_plots/" in steps["Keep the plot images"]["with"]["path"]
    assert "updateComment" in steps["Post or update the sticky comment"]["with"]["script"]
    assert steps["Fail when the gate fails"]["if"] == "steps.report.outputs.gate != '0'"


def test_register_on_push_to_main_gates_assigns_dev_and_pushes_the_tags():
    workflow = _load(ROOT / ".github/workflows/register.yaml")
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    job = workflow["jobs"]["register"]
    checkout = next(s for s in job["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["fetch-tags"] is True
    runs = [step.get("run", "").strip() for step in job["steps"]]
    order = [
        next(i for i, r in enumerate(runs) if "dvc repro --pull" in r),
        runs.index("make register"),  # the gate against prod decides; never FORCE here
        runs.index("make assign STAGE=dev"),
        runs.index("git push origin --tags"),
    ]
    assert order == sorted(order)
    assert "FORCE" not in (ROOT / ".github/workflows/register.yaml").read_text()
