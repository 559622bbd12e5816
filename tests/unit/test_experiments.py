import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.experiment_table import differing_params, parse_exp_show, rank, to_markdown

COMPARE = {
    "primary_metric": "balanced_accuracy",
    "direction": "maximize",
    "secondary_metric": "log_loss",
    "secondary_direction": "minimize",
    "key_metrics": ["balanced_accuracy", "accuracy", "log_loss"],
}


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
    minimize = {**COMPARE, "primary_metric": "log_loss", "direction": "minimize"}
    assert [r.name for r in rank(rows, minimize)][:2] == ["best", "tie-worse"]


def test_only_differing_params_are_columns(payload):
    assert differing_params(parse_exp_show(payload)) == ["model.C"]


def test_markdown_table_is_ranked_with_primary_metric_first(payload):
    table = to_markdown(parse_exp_show(payload), COMPARE).splitlines()
    assert table[0] == (
        "| rank | experiment | baseline | model.C | balanced_accuracy ↑ | accuracy | log_loss |"
    )
    assert table[2] == "| 1 | best | main | 5.0 | 0.9500 | 0.9600 | 0.1000 |"
    assert table[-1].startswith("| 4 | broken (failed: failed to reproduce 'train') | main |")


def test_unknown_direction_names_the_key(payload):
    with pytest.raises(ReprolabError, match=r"ranking\.direction: found 'up'"):
        rank(parse_exp_show(payload), {**COMPARE, "direction": "up"})


def test_a_metric_without_a_known_direction_is_refused_not_maximized():
    from reprolab.workflow.ranking import known_direction, resolve_compare

    assert known_direction("log_loss", "k") == "minimize"
    assert known_direction("per_class.Adelie.recall", "k") == "maximize"
    with pytest.raises(ReprolabError, match=r"^ranking.direction: metric 'test_rows' has no known"):
        resolve_compare({"primary_metric": "test_rows"}, {"accuracy", "test_rows"})
    # Set by hand, any metric may rank.
    chosen = {"primary_metric": "test_rows", "direction": "minimize"}
    assert resolve_compare(chosen, {"accuracy", "test_rows"})["direction"] == "minimize"


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
