"""Express a composed config (an experiment's params.yaml) as edits to conf/config.yaml.

With DVC's Hydra integration, params.yaml is recomposed from conf/ on every
`dvc exp run`, so keeping an experiment means writing it back into conf/: the group
choices go into the defaults list, and the values that differ from those groups go
into the body of config.yaml, which `_self_` (last in the defaults list) merges on
top. Pure functions; `reprolab.workflow.promote` is the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reprolab.core.config import flatten
from reprolab.core.errors import ReprolabError

Compose = Callable[[list[str]], dict[str, Any]]


def leaf_diff(target: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys whose value in `target` differs from (or is absent in) `base`."""
    flat_target, flat_base = flatten(target), flatten(base)
    removed = sorted(set(flat_base) - set(flat_target))
    if removed:
        raise ReprolabError(
            f"keys {removed} are absent from the experiment's params.yaml; conf/ cannot "
            "express a deleted key: edit conf/ by hand"
        )
    # repr, not ==: `C: 1` and `C: 1.0` are equal numbers but different params.yaml bytes.
    return {k: v for k, v in flat_target.items() if repr(flat_base.get(k, KeyError)) != repr(v)}


def choose_groups(
    target: dict[str, Any],
    current: dict[str, str],
    options: dict[str, list[str]],
    compose: Compose,
) -> dict[str, str]:
    """For each group, the option whose composition is closest to `target` (fewest
    differing leaves; the current choice wins ties)."""
    chosen = {}
    for group, names in options.items():

        def distance(option: str, group: str = group) -> tuple[int, bool]:
            composed = compose([f"{group}={option}"])[group]
            flat_t, flat_c = flatten(target.get(group, {})), flatten(composed)
            keys = set(flat_t) | set(flat_c)
            return sum(flat_t.get(k) != flat_c.get(k) for k in keys), option != current[group]

        chosen[group] = min(names, key=distance)
    return chosen


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def promotion_plan(
    target: dict[str, Any],
    current: dict[str, str],
    options: dict[str, list[str]],
    compose: Compose,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Group choices, and the values (dotted keys) the body of config.yaml must set,
    so that composing conf/ gives `target`. `compose(overrides)` composes conf/ with
    the body's earlier promoted values already removed."""
    groups = choose_groups(target, current, options, compose)
    overrides = [f"{g}={o}" for g, o in groups.items()]
    # Top-level numbers (e.g. `seed`) go in first, so that values interpolated from
    # them (`random_state: ${seed}`) follow instead of being pinned one by one.
    top = {
        k: v
        for k, v in leaf_diff(target, compose(overrides)).items()
        if "." not in k and k not in groups and isinstance(v, int | float)
    }
    base = compose(overrides + [f"{k}={v}" for k, v in top.items()])
    return groups, {**top, **leaf_diff(target, base)}
