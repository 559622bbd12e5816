import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.config_edits import leaf_diff, nest, promotion_plan

OPTIONS = {
    "model": {
        "lr": {"_target_": "LR", "C": 1.0, "random_state": "${seed}"},
        "rf": {"_target_": "RF", "n_estimators": 100, "random_state": "${seed}"},
    },
    "split": {"strat": {"method": "stratified"}, "time": {"method": "time"}},
}


def compose(overrides):
    """A stand-in for Hydra: group choices, then top-level values, then ${seed}."""
    choice = {"model": "lr", "split": "strat"}
    top = {"seed": 42}
    for override in overrides:
        key, value = override.split("=")
        if key in choice:
            choice[key] = value
        else:
            top[key] = int(value)
    cfg = {g: dict(OPTIONS[g][o]) for g, o in choice.items()} | top
    cfg["model"]["random_state"] = cfg["seed"]
    return cfg


def test_plan_picks_closest_groups_and_the_values_that_differ():
    target = compose(["model=rf", "split=time", "seed=7"])
    target["model"]["n_estimators"] = 300
    target["model"]["max_depth"] = 4  # a key the group does not have (+model.max_depth)
    groups, values = promotion_plan(
        target,
        {"model": "lr", "split": "strat"},
        {g: sorted(o) for g, o in OPTIONS.items()},
        compose,
    )
    assert groups == {"model": "rf", "split": "time"}
    # seed goes in as a value; random_state follows it through interpolation.
    assert values == {"seed": 7, "model.n_estimators": 300, "model.max_depth": 4}


def test_current_choice_wins_a_tie():
    target = compose([])
    groups, values = promotion_plan(
        target,
        {"model": "lr", "split": "strat"},
        {g: sorted(o) for g, o in OPTIONS.items()},
        compose,
    )
    assert groups == {"model": "lr", "split": "strat"}
    assert values == {}


def test_deleted_key_cannot_be_promoted():
    with pytest.raises(ReprolabError, match=r"keys \['model.C'\] are absent"):
        leaf_diff({"model": {}}, {"model": {"C": 1.0}})


def test_nest_builds_sections():
    assert nest({"model.a": 1, "model.b.c": 2, "seed": 3}) == {
        "model": {"a": 1, "b": {"c": 2}},
        "seed": 3,
    }


def test_int_and_float_of_the_same_value_differ():
    # `-S model.C=1` composes to `C: 1`; the group says `C: 1.0`: params.yaml bytes differ.
    assert leaf_diff({"model": {"C": 1}}, {"model": {"C": 1.0}}) == {"model.C": 1}
