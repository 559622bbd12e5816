from dataclasses import replace

import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.experiment_report import render
from reprolab.workflow.experiment_table import differing_params, parse_exp_show, rank
from reprolab.workflow.ranking import Ranking

# The `ranking` section as conf/ writes it, and as resolve_ranking makes it.
SECTION = {
    "primary_metric": "balanced_accuracy",
    "direction": "maximize",
    "secondary_metric": "log_loss",
    "secondary_direction": "minimize",
    "key_metrics": ["balanced_accuracy", "accuracy", "log_loss"],
}
COMPARE = Ranking(
    primary_metric="balanced_accuracy",
    direction="maximize",
    secondary_metric="log_loss",
    secondary_direction="minimize",
    key_metrics=("balanced_accuracy", "accuracy", "log_loss"),
)


def _rev(name, params, metrics, error=None):
    data = {"params": {"params.yaml": {"data": params}}}
    if metrics is not None:
        data["metrics"] = {"metrics/evaluate.json": {"data": metrics}}
    return {"rev": f"{name}0000000", "name": name, "data": data, "error": error}


@pytest.fixture
def payload():
    base = {"seed": 42, "model": {"_target_": "LR", "C": 1.0}, "split": {"method": "s"}}
    main = _rev("main", base, {"balanced_accuracy": 0.9, "accuracy": 0.9, "log_loss": 0.3})
    exps = [
        _rev(
            "tie-worse",
            {**base, "model": {"_target_": "LR", "C": 0.1}},
            {"balanced_accuracy": 0.95, "accuracy": 0.94, "log_loss": 0.2},
        ),
        _rev(
            "best",
            {**base, "model": {"_target_": "LR", "C": 5.0}},
            {"balanced_accuracy": 0.95, "accuracy": 0.96, "log_loss": 0.1},
        ),
        _rev(
            "broken",
            {**base, "model": {"_target_": "LR", "C": -1.0}},
            None,
            error={"msg": "failed to reproduce 'train'"},
        ),
    ]
    main["experiments"] = [{"revs": [exp]} for exp in exps]
    return [main]


def test_rank_by_primary_then_secondary_and_failed_last(payload):
    rows = parse_exp_show(payload)
    assert [r.name for r in rank(rows, COMPARE)] == ["best", "tie-worse", "main", "broken"]
    assert {r.baseline for r in rows} == {"main"}
    minimize = replace(COMPARE, primary_metric="log_loss", direction="minimize")
    assert [r.name for r in rank(rows, minimize)][:2] == ["best", "tie-worse"]


def test_only_differing_params_are_columns(payload):
    assert differing_params(parse_exp_show(payload)) == ["model.C"]


def _cells(line):
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_the_table_ranks_experiments_and_lists_commits_and_failures_apart(payload):
    text = render(parse_exp_show(payload), SECTION)
    lines = text.splitlines()
    assert lines[0] == "Ranked: target None, classification, measured on the test rows of main"
    assert _cells(lines[2]) == [
        "rank", "experiment", "baseline", "balanced_accuracy ↑", "log_loss", "model.C", "accuracy"
    ]  # fmt: skip
    assert _cells(lines[4]) == ["1", "best", "main", "0.9500", "0.1000", "5.0", "0.9600"]
    assert _cells(lines[5])[:2] == ["2", "tie-worse"] and len(lines[4]) == len(lines[5])
    # The commit is a baseline, not a ranked run; the failed run is named with its error.
    baselines = lines.index("Baseline commits (not ranked):")
    assert _cells(lines[baselines + 4]) == [
        "main",
        "-",
        "balanced_accuracy 0.9000, log_loss 0.3000",
    ]
    failed = lines.index("Failed runs:")
    assert _cells(lines[failed + 4]) == ["broken", "main", "failed to reproduce 'train'"]


def _houses_payload():
    """HEAD on penguins; runs on two CSVs with other targets, tasks and test rows."""

    def rev(name, target, metrics, md5, **params):
        entry = _rev(name, {"data": {"target": target}, **params}, metrics)
        entry["data"]["outs"] = {"data/interim/test.parquet": {"hash": md5}}
        return entry

    main = rev("main", "species", {"balanced_accuracy": 0.97, "log_loss": 0.1}, "aaa", seed=1)
    main["experiments"] = [
        {"revs": [rev("forest", "species", {"balanced_accuracy": 0.98, "log_loss": 0.2}, "aaa", seed=1)]},
        {"revs": [rev("pct-ridge", "pct_above", {"rmse": 4.0, "mae": 3.0, "r2": 0.15}, "bbb")]},
        {"revs": [rev("pct-forest", "pct_above", {"rmse": 2.0, "mae": 1.5, "r2": 0.83}, "bbb")]},
        {"revs": [rev("other-seed", "species", {"balanced_accuracy": 0.99, "log_loss": 0.1}, "ccc", seed=2)]},
    ]  # fmt: skip
    return [main]


def test_runs_on_other_evaluation_data_are_ranked_apart_saying_why():
    ranking = {"primary_metric": "auto", "direction": "auto", "secondary_metric": "auto",
               "secondary_direction": "auto", "key_metrics": "auto"}  # fmt: skip
    text = render(parse_exp_show(_houses_payload()), ranking)
    sections = [line for line in text.splitlines() if line.startswith(("Ranked", "Apart"))]
    assert sections == [
        "Ranked: target species, classification, measured on the test rows of main",
        "Apart, not comparable with main (other target: pct_above; other task: regression):",
        "Apart, not comparable with main (other test rows (ccc: another data version, split or "
        "seed)):",
    ]
    ranked = [_cells(line)[1] for line in text.splitlines() if line.startswith("| 1 ")]
    assert ranked == ["forest", "pct-forest", "other-seed"]  # lower rmse first among its own
    assert (
        "rmse ↓" in text
        and "main"
        not in [_cells(line)[1] for line in text.splitlines() if line.startswith("| ")][:3]
    )


def test_a_table_fits_120_columns_and_names_what_it_left_out():
    params = {f"model.param_{i:02d}": i for i in range(30)}
    main = _rev("main", {}, {"balanced_accuracy": 0.9, "log_loss": 0.3})
    main["experiments"] = [
        {"revs": [_rev(f"run-{n}", {k: v + n for k, v in params.items()}, {"balanced_accuracy": 0.9 + n / 100, "log_loss": 0.2})]}
        for n in range(3)
    ]  # fmt: skip
    text = render(parse_exp_show([main]), SECTION)
    assert max(map(len, text.splitlines()[:8])) <= 120
    assert "Left out to fit 120 columns: " in text and "(--wide shows them)" in text
    wide = render(parse_exp_show([main]), SECTION, wide=True)
    assert "model.param_29" in wide and "Left out" not in wide


def test_unknown_direction_names_the_key(payload):
    with pytest.raises(ReprolabError, match=r"ranking\.direction: found 'up'"):
        render(parse_exp_show(payload), {**SECTION, "direction": "up"})


def test_a_metric_without_a_known_direction_is_refused_not_maximized():
    from reprolab.workflow.ranking import known_direction, resolve_ranking

    assert known_direction("log_loss", "k") == "minimize"
    assert known_direction("per_class.Adelie.recall", "k") == "maximize"
    with pytest.raises(ReprolabError, match=r"^ranking.direction: metric 'test_rows' has no known"):
        resolve_ranking({"primary_metric": "test_rows"}, {"accuracy", "test_rows"})
    # Set by hand, any metric may rank.
    chosen = {"primary_metric": "test_rows", "direction": "minimize"}
    assert resolve_ranking(chosen, {"accuracy", "test_rows"}).direction == "minimize"


def test_a_search_on_a_loss_minimizes_it(tmp_path, monkeypatch):
    import json

    from reprolab.workflow.search import objective
    from reprolab.workflow.search_space import Space

    monkeypatch.chdir(tmp_path)
    (tmp_path / "metrics").mkdir()
    metrics = {"balanced_accuracy": 0.9, "log_loss": 0.3, "test_rows": 69}
    (tmp_path / "metrics/evaluate.json").write_text(json.dumps(metrics))
    params = {"ranking": {"primary_metric": "auto"}}

    def space(metric):
        fields = dict.fromkeys(Space.__dataclass_fields__)
        return Space(**{**fields, "name": "s", "metric": metric, "direction": None})

    assert objective(space("log_loss"), params) == ("log_loss", "minimize")
    assert objective(space(None), params) == ("balanced_accuracy", "maximize")
    with pytest.raises(ReprolabError, match=r"conf/search/s.yaml: direction: metric 'test_rows'"):
        objective(space("test_rows"), params)


def test_a_lone_run_shows_the_params_it_changed_from_its_baseline(payload):
    payload[0]["experiments"] = payload[0]["experiments"][1:2]  # "best" alone
    lines = render(parse_exp_show(payload), SECTION).splitlines()
    assert "model.C" in _cells(lines[2]) and "5.0" in _cells(lines[4])
