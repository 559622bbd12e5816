"""Promote an experiment: write its configuration back into conf/ so it stays.

    python -m reprolab.promote <experiment>      # what `make promote EXP=...` runs

1. `dvc exp apply <experiment>`: its params.yaml, dvc.lock, metrics and outputs
   come into the workspace;
2. its group choices go into the defaults list of conf/config.yaml and the values
   that differ from those groups into the body (merged last, by `_self_`);
3. params.yaml is recomposed from conf/ and must equal the experiment's byte for byte;
4. `dvc status` must be clean. Then review `git diff` and commit.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from io import StringIO
from pathlib import Path
from typing import Any

import yaml

from reprolab.cli import command_parser, user_errors
from reprolab.compose import composed_text
from reprolab.core.config import CONF_DIR, PARAMS_FILE
from reprolab.core.errors import ReprolabError
from reprolab.core.files import write_bytes
from reprolab.promotion import nest, promotion_plan

CONFIG = CONF_DIR / "config.yaml"
KEPT_PATHS = ["conf", "params.yaml", "dvc.lock", "metrics", "plots", "reports"]


def _yaml():
    from ruamel.yaml import YAML

    handler = YAML()
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def group_choices(config: Any) -> dict[str, str]:
    """{group: option} from the defaults list of config.yaml."""
    return {
        k: v for entry in config["defaults"] if isinstance(entry, dict) for k, v in entry.items()
    }


def strip_promoted(config: Any, groups: list[str]) -> None:
    """Remove body values of earlier promotions: they belong to the old group choices."""
    for group in groups:
        config.pop(group, None)


def write_config(config: Any, groups: dict[str, str], values: dict[str, Any], name: str) -> None:
    from ruamel.yaml.comments import CommentedMap

    for entry in config["defaults"]:
        if isinstance(entry, dict):
            for group in entry:
                entry[group] = groups[group]
    for key, value in nest(values).items():
        if key in groups:
            section = CommentedMap(value)
            config[key] = section
            config.yaml_set_comment_before_after_key(key, before=f"Promoted from {name}:")
        else:
            config[key] = _merge(config.get(key), value)
    buffer = StringIO()
    _yaml().dump(config, buffer)
    write_bytes(CONFIG, buffer.getvalue().encode("utf-8"))


def _merge(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            old[key] = _merge(old.get(key), value)
        return old
    return new


def promote(name: str) -> str:
    dirty = _git("status", "--porcelain", "--", *KEPT_PATHS).strip()
    if dirty:
        raise ReprolabError(
            f"uncommitted changes in {', '.join(KEPT_PATHS)}:\n{dirty}\n"
            "expected a clean workspace there: commit or stash them first"
        )
    applied = subprocess.run(["dvc", "exp", "apply", name], capture_output=True, text=True)
    if applied.returncode != 0:
        raise ReprolabError(f"dvc exp apply {name}: {applied.stderr.strip()}")
    target_text = PARAMS_FILE.read_text(encoding="utf-8")
    target = yaml.safe_load(target_text)

    config = _yaml().load(CONFIG.read_text(encoding="utf-8"))
    current = group_choices(config)
    original = CONFIG.read_bytes()
    strip_promoted(config, list(current))
    with tempfile.TemporaryDirectory() as tmp:
        # Compose against the stripped config, in a scratch copy of conf/.
        scratch = Path(tmp)
        shutil.copytree(CONF_DIR, scratch / CONF_DIR)
        buffer = StringIO()
        _yaml().dump(config, buffer)
        (scratch / CONFIG).write_text(buffer.getvalue(), encoding="utf-8")
        options = {g: sorted(p.stem for p in (CONF_DIR / g).glob("*.yaml")) for g in current}

        def compose(overrides: list[str]) -> dict[str, Any]:
            return yaml.safe_load(composed_text(scratch, overrides))

        groups, values = promotion_plan(target, current, options, compose)
    write_config(config, groups, values, name)
    if composed_text(Path()) != target_text:
        write_bytes(CONFIG, original)
        raise ReprolabError(
            f"{CONFIG}: the rewritten config does not compose to {name}'s params.yaml; "
            "conf/config.yaml was left as it was and the workspace holds the applied "
            "experiment (undo with `git checkout -- . && dvc checkout`)"
        )
    status = subprocess.run(["dvc", "status", "--quiet"], capture_output=True, text=True)
    if status.returncode != 0:
        raise ReprolabError(f"dvc status is not clean after promoting {name}: {status.stdout}")
    choices = " ".join(f"{g}={o}" for g, o in groups.items() if o != current[g])
    changed = " ".join(f"{k}={v}" for k, v in values.items())
    return f"promoted {name}: {choices or 'same groups'} {changed}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.promote", __doc__)
    parser.add_argument("experiment", help="experiment name (see `make exps`)")
    args = parser.parse_args(argv)
    with user_errors("promote"):
        print(promote(args.experiment))
    print(f"review `git diff`, then: git add {' '.join(KEPT_PATHS)} && git commit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
