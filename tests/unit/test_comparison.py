import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.gate import GateSettings, MetricDelta, changed_params, gate, metric_deltas
from reprolab.workflow.ranking import Ranking, direction_of, resolve_ranking

COMPARE = Ranking("balanced_accuracy", "maximize", key_metrics=("accuracy", "log_loss"))
GATE = GateSettings({"balanced_accuracy": 0.9}, 0.01, allow_incomparable=False)
DIFF = {
    "metrics/evaluate.json": {
        "log_loss": {"old": 0.2, "new": 0.1, "diff": -0.1},
        "per_class.a.recall": {"old": 1.0, "new": 0.5, "diff": -0.5},
        "balanced_accuracy": {"old": 0.95, "new": 0.97, "diff": 0.02},
        "accuracy": {"old": 0.9, "new": 0.9, "diff": 0.0},
        "test_rows": {"old": 80, "new": 86, "diff": 6},
    }
}


def _deltas():
    names = DIFF["metrics/evaluate.json"]
    return metric_deltas(DIFF, COMPARE, {n: direction_of(n) for n in names})


def test_primary_first_then_key_metrics_then_the_rest():
    assert [d.name for d in _deltas()] == [
        "balanced_accuracy",
        "accuracy",
        "log_loss",
        "per_class.a.recall",
        "test_rows",
    ]


def test_verdict_respects_each_metrics_direction():
    verdicts = {d.name: d.verdict for d in _deltas()}
    assert verdicts == {
        "balanced_accuracy": "✅",
        "accuracy": "⚪",
        "log_loss": "✅",
        "per_class.a.recall": "❌",
        "test_rows": "🔀",
    }
    log_loss = next(d for d in _deltas() if d.name == "log_loss")
    assert log_loss.change == pytest.approx(-0.1)
    assert log_loss.relative == pytest.approx(-0.5)


def test_auto_follows_the_task():
    auto = {
        "primary_metric": "auto",
        "direction": "auto",
        "secondary_metric": "auto",
        "secondary_direction": "auto",
        "key_metrics": "auto",
    }
    classification = resolve_ranking(auto, {"balanced_accuracy", "log_loss"})
    assert (classification.primary_metric, classification.direction) == (
        "balanced_accuracy",
        "maximize",
    )
    assert classification.secondary_direction == "minimize"
    regression = resolve_ranking(auto, {"rmse", "mae", "r2"})
    assert (regression.primary_metric, regression.direction) == ("rmse", "minimize")
    assert regression.key_metrics == ("rmse", "mae", "r2")
    assert resolve_ranking({**auto, "primary_metric": "r2"}, {"rmse"}).direction == "maximize"


def test_changed_params_are_listed_with_both_values():
    diff = {"params.yaml": {"model.C": {"old": 1.0, "new": 0.5}, "seed": {"old": 1, "new": 2}}}
    keys = {"model.C", "seed"}
    assert changed_params(diff, keys, keys) == [("model.C", 1.0, 0.5), ("seed", 1, 2)]


def test_a_param_one_revision_lacks_is_absent_and_a_null_stays_null(tmp_path):
    """Real `dvc params diff`: it prints null both for a removed key and a null value."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from reprolab.core.config import flatten
    from reprolab.workflow.gate import ABSENT

    dvc = str(Path(sys.executable).with_name("dvc"))

    def run(*cmd):
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=True)

    run("git", "init", "-q")
    run(dvc, "init", "-q")
    base = {"model": {"alpha": 1.0, "max_depth": None}}
    new = {"model": {"max_depth": 6, "class_weight": None, "n_estimators": 5}}
    (tmp_path / "params.yaml").write_text(json.dumps(base))
    (tmp_path / "dvc.yaml").write_text("stages:\n  s:\n    cmd: 'true'\n    params: [model]\n")
    run("git", "add", "-A")
    run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    (tmp_path / "params.yaml").write_text(json.dumps(new))
    diff = json.loads(run(dvc, "params", "diff", "HEAD", "--all", "--json").stdout)
    rows = {
        key: (old, value)
        for key, old, value in changed_params(diff, set(flatten(base)), set(flatten(new)))
    }
    assert rows["model.alpha"] == (1.0, ABSENT)  # ridge -> forest: not `None`
    assert rows["model.max_depth"] == (None, 6)  # a real null
    assert rows["model.n_estimators"] == (ABSENT, 5)


@pytest.mark.parametrize(
    ("base", "new", "passed", "words"),
    [
        (0.95, 0.97, True, "PASS balanced_accuracy: 0.9700 vs 0.9500 at main"),
        (0.95, 0.945, True, "change -0.0050; allowed 0.0095 worse"),
        (
            0.95,
            0.93,
            False,
            "FAIL balanced_accuracy: 0.9300 vs 0.9500 at main, 0.0200 worse; "
            "allowed 0.0095 (gate.max_relative_regression=0.01)",
        ),
        (
            0.85,
            0.88,
            False,
            "FAIL balanced_accuracy: 0.8800 is beyond the minimum "
            "gate.thresholds.balanced_accuracy=0.9",
        ),
        (None, 0.95, True, "no value at main to compare"),
        (0.95, None, False, "no value in this revision"),
    ],
)
def test_gate_when_maximizing(base, new, passed, words):
    verdict = gate(MetricDelta("balanced_accuracy", base, new, "maximize"), GATE, "main")
    assert verdict.passed is passed
    assert words in verdict.line


def test_gate_when_minimizing_lower_is_better():
    cfg = GateSettings({"rmse": 5.0}, 0.1, allow_incomparable=False)
    assert gate(MetricDelta("rmse", 3.0, 2.5, "minimize"), cfg, "main").passed
    worse = gate(MetricDelta("rmse", 3.0, 3.5, "minimize"), cfg, "main")
    assert not worse.passed
    assert worse.line == (
        "FAIL rmse: 3.5000 vs 3.0000 at main, 0.5000 worse; allowed 0.3000 "
        "(gate.max_relative_regression=0.1)"
    )
    assert "beyond the maximum" in gate(MetricDelta("rmse", 6.0, 5.5, "minimize"), cfg, "m").line
    no_threshold = GateSettings({}, 0.1, allow_incomparable=False)
    assert gate(MetricDelta("rmse", 60.0, 55.0, "minimize"), no_threshold, "main").passed


def test_gate_refuses_an_unknown_direction():
    with pytest.raises(ReprolabError, match=r"ranking\.direction"):
        gate(MetricDelta("x", 1.0, 1.0, "up"), GATE, "main")


def test_a_misspelt_ranking_key_is_refused_not_ignored():
    with pytest.raises(ReprolabError, match=r"^ranking\.primary_metrc: not a setting of ranking"):
        resolve_ranking({"primary_metrc": "log_loss"}, {"balanced_accuracy", "log_loss"})
