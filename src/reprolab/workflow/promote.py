"""Promote an experiment: write its configuration back into conf/ so it stays.

    python -m reprolab.workflow.promote <experiment>      # what `make promote EXP=...` runs

1. `dvc exp apply <experiment>`: its params.yaml, dvc.lock, metrics and outputs
   come into the workspace;
2. its group choices go into the defaults list of conf/config.yaml. Values that
   differ inside a group (`model.C`, `+model.tol`) go into a new option of that group,
   `conf/<group>/<option>_<experiment>.yaml` (the option's own file plus the changes),
   which the defaults list then selects: switching the group later (`-S model=...`)
   leaves them behind, as it should. Values outside any group (`seed`) go into the
   body of config.yaml (merged last, by `_self_`);
3. params.yaml is recomposed from conf/ and must equal the experiment's byte for byte;
4. `dvc status` must be clean. Then review `git diff` and commit.

Before anything is written, every file the run read must be versioned (by git, or by
DVC through a .dvc file): a run on a CSV never `dvc add`ed, or with a stray file in
data/external, cannot be rebuilt by a clone and is refused, naming the files. A
promotion that fails after step 1 puts the workspace back as it was.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from io import StringIO
from pathlib import Path
from typing import Any

import yaml

from reprolab.core.config import (
    CONF_DIR,
    EXTERNAL_DIR,
    PARAMS_FILE,
    PIPELINE_STATE,
    PRODUCTION_DIR,
    SCHEMAS_DIR,
)
from reprolab.core.errors import ReprolabError
from reprolab.core.files import put_back, snapshot, write_bytes
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.compose import composed_text
from reprolab.workflow.config_edits import nest, promotion_plan
from reprolab.workflow.vcs import (
    RESET_HINT,
    call,
    changed_pipeline_files,
    experiment_revision,
    last_line,
    unversioned_inputs,
    workspace_matches,
)

CONFIG = CONF_DIR / "config.yaml"
# The folders whose files stages read (dvc.yaml's deps): all must be versioned.
INPUT_FOLDERS = tuple(p.as_posix() for p in (EXTERNAL_DIR, PRODUCTION_DIR, SCHEMAS_DIR))


def _yaml():
    from ruamel.yaml import YAML  # noqa: PLC0415

    handler = YAML()
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


def group_choices(config: Any) -> dict[str, str]:
    """{group: option} from the defaults list of config.yaml."""
    return {
        k: v for entry in config["defaults"] if isinstance(entry, dict) for k, v in entry.items()
    }


def strip_promoted(config: Any, groups: list[str]) -> None:
    """Remove body values of earlier promotions: they belong to the old group choices."""
    for group in groups:
        config.pop(group, None)


def option_name(option: str, experiment: str) -> str:
    """The name of the option a promotion creates: Hydra-safe, and saying where it came from."""
    return f"{option}_{re.sub(r'[^A-Za-z0-9_]', '_', experiment)}"


def write_group_option(group: str, option: str, changes: dict[str, Any], name: str) -> Path:
    """`conf/<group>/<option>_<name>.yaml`: the option's file with `changes` merged in.
    Starting from the option's own text keeps its interpolations (`${seed}`)."""
    source = CONF_DIR / group / f"{option}.yaml"
    target = CONF_DIR / group / f"{option_name(option, name)}.yaml"
    if target.exists():
        raise ReprolabError(
            f"{target}: already exists; expected a new option file for {name} "
            "(was it promoted before? remove the file or `make reset`)"
        )
    section = _yaml().load(source.read_text(encoding="utf-8"))
    section = _merge(section, changes)
    buffer = StringIO()
    buffer.write(f"# {option} as promoted from experiment {name} (make promote).\n")
    _yaml().dump(section, buffer)
    write_bytes(target, buffer.getvalue().encode("utf-8"))
    return target


def write_config(
    config: Any, groups: dict[str, str], values: dict[str, Any], name: str
) -> list[Path]:
    """Point the defaults list at the chosen options, write group values to new option
    files and the rest into the body; return the option files written."""
    written = []
    for key, value in nest(values).items():
        if key in groups:
            written.append(write_group_option(key, groups[key], value, name))
            groups = {**groups, key: option_name(groups[key], name)}
        else:
            config[key] = _merge(config.get(key), value)
    for entry in config["defaults"]:
        if isinstance(entry, dict):
            for group in entry:
                entry[group] = groups[group]
    buffer = StringIO()
    _yaml().dump(config, buffer)
    write_bytes(CONFIG, buffer.getvalue().encode("utf-8"))
    return written


def _merge(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            old[key] = _merge(old.get(key), value)
        return old
    return new


def promote(name: str) -> str:
    revision = experiment_revision(name)
    if revision is None:
        raise ReprolabError(f"experiment {name!r}: not found; expected a name from `make exps`")
    dirty = changed_pipeline_files()
    # A workspace `dvc exp run` leaves its experiment applied: that is what to promote.
    if dirty and not workspace_matches(revision):
        raise ReprolabError(
            f"uncommitted changes in {', '.join(PIPELINE_STATE)} ({len(dirty)} file(s), e.g. "
            f"{dirty[0].strip()}) that are not experiment {name}; expected a clean workspace "
            f"or {name} applied: commit them, or {RESET_HINT}"
        )
    # Everything that can be is checked before anything is written; what fails after
    # the experiment is applied puts the workspace back as it was.
    _refuse_unversioned_inputs(name, revision)
    saved = snapshot(PIPELINE_STATE)
    try:
        return _apply_and_write_config(name)
    except ReprolabError as error:
        put_back(saved)
        for path in CONF_DIR.rglob("*.yaml"):  # an option file this promotion wrote
            if path not in saved:
                path.unlink()
        call("git", "reset", "-q", "--", *PIPELINE_STATE, check=False)
        call("dvc", "checkout", "--force", "--quiet", check=False)
        raise ReprolabError(f"{error} (the workspace was put back as it was)") from None


def _apply_and_write_config(name: str) -> str:
    """Apply the experiment, write its config into conf/, and check that conf/ composes
    to its params.yaml and that `dvc status` is clean."""
    applied = call("dvc", "exp", "apply", name, check=False)
    # Its outputs not in this cache (it ran elsewhere): applied, then pulled below.
    if applied.returncode != 0 and "missing-files" not in applied.stderr + applied.stdout:
        reason = last_line(applied.stderr or applied.stdout, applied.returncode)
        raise ReprolabError(f"`dvc exp apply {name}` failed: {reason}")
    _outputs_from_remote(name)
    target_text = PARAMS_FILE.read_text(encoding="utf-8")
    config = _yaml().load(CONFIG.read_text(encoding="utf-8"))
    current = group_choices(config)
    strip_promoted(config, list(current))
    groups, values = _plan(config, current, yaml.safe_load(target_text))
    written = write_config(config, groups, values, name)
    if composed_text(Path()) != target_text:
        for path in written:
            path.unlink()
        raise ReprolabError(
            f"{CONFIG}: the rewritten config does not compose to {name}'s params.yaml; "
            "expected the same composition"
        )
    _require_clean_status(name, written)
    choices = " ".join(f"{g}={o}" for g, o in groups.items() if o != current[g])
    changed = " ".join(f"{k}={v}" for k, v in values.items())
    files = "".join(f"; wrote {path}" for path in written)
    return f"promoted {name}: {choices or 'same groups'} {changed}".rstrip() + files


def _plan(
    config: Any, current: dict[str, str], target: dict[str, Any]
) -> tuple[dict[str, str], dict[str, Any]]:
    """The group options and values that make conf/ compose to `target`, worked out
    against the stripped config in a scratch copy of conf/."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        shutil.copytree(CONF_DIR, scratch / CONF_DIR)
        buffer = StringIO()
        _yaml().dump(config, buffer)
        (scratch / CONFIG).write_text(buffer.getvalue(), encoding="utf-8")
        options = {g: sorted(p.stem for p in (CONF_DIR / g).glob("*.yaml")) for g in current}

        def compose(overrides: list[str]) -> dict[str, Any]:
            return yaml.safe_load(composed_text(scratch, overrides))

        return promotion_plan(target, current, options, compose)


def _refuse_unversioned_inputs(name: str, revision: str) -> None:
    unversioned = unversioned_inputs(revision, INPUT_FOLDERS)
    if unversioned:
        shown = " ".join(unversioned[:5]) + (" ..." if len(unversioned) > 5 else "")
        raise ReprolabError(
            f"experiment {name!r} depends on files that neither git nor DVC versions: "
            f"{shown}; expected every input versioned, or a clone cannot rebuild it: "
            f"`dvc add {unversioned[0]}` and commit its .dvc file (or remove a stray file), "
            "then promote again (nothing was changed)"
        )


def _require_clean_status(name: str, written: list[Path]) -> None:
    """`dvc status` clean with the experiment applied, else why, stage by stage."""
    status = call("dvc", "status", "--json", check=False)
    not_clean = (
        json.loads(status.stdout or "{}") if status.returncode == 0 else {"dvc": status.stderr}
    )
    if not_clean:
        for path in written:
            path.unlink()
        raise ReprolabError(
            f"dvc status is not clean with {name} applied ({status_summary(not_clean)}); "
            "expected its outputs to match its inputs"
        )


def status_summary(status: dict[str, Any]) -> str:
    """`dvc status --json` in a few words: each stage and what changed in it."""
    parts = []
    for stage, entries in list(status.items())[:4]:
        found = [
            f"{what} {', '.join(sorted(paths)) if isinstance(paths, dict) else paths}"
            for entry in (entries if isinstance(entries, list) else [entries])
            for what, paths in (entry.items() if isinstance(entry, dict) else [("", entry)])
        ]
        parts.append(f"{stage}: {'; '.join(found) or 'changed'}")
    return "; ".join(parts)


def _outputs_from_remote(name: str) -> None:
    """A run made elsewhere (a queue worker, a Ray node) left its outputs on the DVC
    remote, not in this cache: fetch what `dvc exp apply` could not check out."""
    if call("dvc", "status", "--quiet", check=False).returncode == 0:
        return
    print(f"fetching {name}'s outputs from the DVC remote (dvc pull)", flush=True)
    pulled = call("dvc", "pull", check=False)
    if pulled.returncode != 0:
        raise ReprolabError(
            f"{name}'s outputs are neither in the DVC cache nor fetchable from the remote "
            f"({last_line(pulled.stderr or pulled.stdout, pulled.returncode)}); expected "
            f"them on the remote: push them from where {name} ran"
        )


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.promote", __doc__)
    parser.add_argument("experiment", help="experiment name (see `make exps`)")
    args = parser.parse_args(argv)
    with user_errors("promote"):
        print(promote(args.experiment))
    print(f"review `git diff`, then: git add {' '.join(PIPELINE_STATE)} && git commit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
