"""The PR report, the merge gate and the offline plots page, between two real commits."""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml
from PIL import Image

from .browser import drawn_pixels, page_text, screenshot
from .helpers import run, selected_option, set_conf_value

pytestmark = pytest.mark.pipeline


def report(repo, *args, check=False):
    return run(
        repo,
        sys.executable,
        "-m",
        "reprolab.workflow.report",
        "--base",
        "HEAD~1",
        *args,
        check=check,
    )


# The module's own config, whatever conf/ holds (a user may have promoted another model,
# C or gate): the champion is logistic regression with C=1.0, the challenger C=0.02;
# the gate allows a relative regression of 0.01 above a balanced accuracy of 0.9.
MODEL = "conf/model/logistic_regression.yaml"


@pytest.fixture(scope="module", autouse=True)
def two_commits(repo):
    """Champion (C=1.0) and challenger (C=0.02): commits that differ by one parameter."""
    run(repo, sys.executable, "-m", "reprolab.workflow.offline_plots")  # what set-up builds
    if selected_option(repo, "model") != "logistic_regression":
        set_conf_value(repo, "conf/config.yaml", "  - model", "logistic_regression")
    set_conf_value(repo, MODEL, "C", "1.0")
    set_conf_value(repo, "conf/config.yaml", "  max_relative_regression", "0.01")
    set_conf_value(repo, "conf/config.yaml", "    balanced_accuracy", "0.9")  # its threshold
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "champion", "--allow-empty")
    set_conf_value(repo, MODEL, "C", "0.02")
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "challenger: C=0.02")


@pytest.fixture
def metrics(repo):
    old = json.loads(run(repo, "git", "show", "HEAD~1:metrics/evaluate.json").stdout)
    new = json.loads((repo / "metrics/evaluate.json").read_text())
    return old, new


def test_report_shows_the_deltas_the_changed_param_and_images(repo, metrics):
    old, new = metrics
    result = report(repo)
    assert result.returncode == 1  # this challenger fails the gate: see below
    text = (repo / "reports/pr_report.md").read_text()
    ba_old, ba_new = old["balanced_accuracy"], new["balanced_accuracy"]
    assert ba_new < ba_old
    assert (
        f"| **balanced_accuracy** (primary, maximize) | {ba_old:.4f} | {ba_new:.4f} | "
        f"{ba_new - ba_old:+.4f} | {(ba_new - ba_old) / ba_old:+.1%} | ❌ |"
    ) in text
    assert f"| log_loss | {old['log_loss']:.4f} | {new['log_loss']:.4f} |" in text
    assert "| `model.C` | `1.0` | `0.02` |" in text
    assert "**Gate: ❌ FAIL balanced_accuracy" in text
    for name in ("confusion_matrix", "roc", "precision_recall"):
        assert f"![{name}](pr_plots/{name}.png)" in text
        with Image.open(repo / f"reports/pr_plots/{name}.png") as image:
            assert image.format == "PNG"
            assert image.width > 300


def test_gate_fails_and_passes_with_the_configured_thresholds(repo, metrics):
    old, new = metrics
    drop = old["balanced_accuracy"] - new["balanced_accuracy"]
    result = report(repo, "--gate-only")
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"FAIL balanced_accuracy: {new['balanced_accuracy']:.4f} vs "
        f"{old['balanced_accuracy']:.4f} at HEAD~1, {drop:.4f} worse; allowed "
        f"{0.01 * old['balanced_accuracy']:.4f} (gate.max_relative_regression=0.01)"
    )
    try:
        set_conf_value(repo, "conf/config.yaml", "  max_relative_regression", "0.05")
        passed = report(repo, "--gate-only")
        assert passed.returncode == 0
        assert passed.stdout.startswith("PASS balanced_accuracy")
        set_conf_value(repo, "conf/config.yaml", "    balanced_accuracy", "0.99")
        floor = report(repo, "--gate-only")
        assert floor.returncode == 1
        assert "beyond the minimum gate.thresholds.balanced_accuracy=0.99" in floor.stdout
    finally:
        run(repo, "git", "checkout", "--", "conf", "params.yaml")


def test_plots_page_draws_offline_in_headless_chromium(repo, tmp_path):
    run(repo, "dvc", "plots", "diff", "HEAD~1", "-o", str(tmp_path / "offline"))
    page = (tmp_path / "offline/index.html").read_text()
    assert "cdn.jsdelivr" not in page
    drawn = drawn_pixels(screenshot(tmp_path / "offline/index.html", tmp_path / "offline.png"))
    # DVC's own template loads Vega from a CDN: the same page stays blank offline.
    run(repo, "dvc", "config", "--unset", "plots.html_template")
    try:
        run(repo, "dvc", "plots", "diff", "HEAD~1", "-o", str(tmp_path / "cdn"))
    finally:
        run(repo, "git", "checkout", "--", ".dvc/config")
    blank = drawn_pixels(screenshot(tmp_path / "cdn/index.html", tmp_path / "cdn.png"))
    assert blank < 500, blank
    assert drawn > 20_000, drawn
    # Regression plots have no data for this classifier: labelled, not blank and untitled.
    dom = page_text(tmp_path / "offline/index.html")
    assert "plots_residuals.json: no data in this revision" in dom
    assert "plots_roc.json: no data" not in dom


def test_gate_on_a_different_test_set_says_so_and_compares_on_shared_rows(repo):
    """`-S seed=7` draws other test rows: the recorded metrics are not comparable, so
    both models are scored on HEAD~1's test rows that this run did not train on; and
    where HEAD~1's model cannot be had, the verdict is NOT COMPARABLE unless allowed."""
    seed = yaml.safe_load((repo / "params.yaml").read_text())["seed"] + 7  # another seed
    rows = json.loads((repo / "metrics/evaluate.json").read_text())["test_rows"]
    run(repo, "dvc", "exp", "run", "-S", f"seed={seed}")
    try:
        result = report(repo, "--gate-only")
        line = result.stdout.strip()
        assert line.startswith(
            f"NOT COMPARABLE as recorded: the test sets differ (both {rows} rows, other ones; "
            "data version, split or seed changed). Gated instead with both models scored here "
            "on the "
        ), line
        shared, left_out = re.search(r"on the (\d+) rows .* \((\d+) left out\)", line).groups()
        assert int(shared) + int(left_out) == rows and int(left_out) > 0
        assert re.search(r": (PASS|FAIL) balanced_accuracy: ", line)
        assert result.returncode == (0 if ": PASS " in line else 1)
        report(repo)
        text = (repo / "reports/pr_report.md").read_text()
        assert "**The recorded metrics below are not comparable**" in text
        assert "### Metrics on shared rows (what the gate used)" in text
        _without_the_base_model(repo, rows)
    finally:
        run(repo, sys.executable, "-m", "reprolab.workflow.reset")


def _without_the_base_model(repo, rows):
    cache, hidden = repo / ".dvc/cache", repo / ".dvc/cache-hidden"
    cache.rename(hidden)  # HEAD~1's model and test rows are nowhere to be had
    try:
        refused = report(repo, "--gate-only")
        assert refused.returncode == 1
        assert refused.stdout.startswith(f"NOT COMPARABLE: the test sets differ (both {rows} rows")
        assert "no fair comparison either: " in refused.stdout
        assert "(set gate.allow_incomparable: true to pass)" in refused.stdout
        params = yaml.safe_load((repo / "params.yaml").read_text())
        params["gate"]["allow_incomparable"] = True
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        allowed = report(repo, "--gate-only")
        assert allowed.returncode == 0
        assert "merging anyway (gate.allow_incomparable: true)" in allowed.stdout
    finally:
        hidden.rename(cache)
