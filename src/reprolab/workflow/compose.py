"""Write or check `params.yaml`: the composition of `conf/`, byte for byte as DVC writes it.

`dvc exp run` recomposes params.yaml with `dvc.utils.hydra.compose_and_dump`; we
call the same function with the same arguments, so `make params` and DVC never
disagree. `--check` fails (exit 1) when the committed file is stale.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from reprolab.core.config import CONF_DIR, PARAMS_FILE, flatten
from reprolab.core.files import write_bytes
from reprolab.core.shell import command_parser


def compose_to(output: Path, root: Path, overrides: list[str] | None = None) -> None:
    """Compose `root/conf` with DVC's own code and write the result to `output`."""
    from dvc.utils.hydra import compose_and_dump  # noqa: PLC0415

    root = root.resolve()
    compose_and_dump(output, str(root / CONF_DIR), None, "config", str(root), overrides or [])


def composed_text(root: Path, overrides: list[str] | None = None) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / PARAMS_FILE.name
        compose_to(out, root, overrides)
        return out.read_text(encoding="utf-8")


def differences(params_text: str, conf_text: str, limit: int = 5) -> list[str]:
    """`key: a (params.yaml) vs b (conf/)` for leaves that differ; first `limit` only."""
    import yaml  # noqa: PLC0415

    ours, theirs = (
        flatten(yaml.safe_load(params_text) or {}),
        flatten(yaml.safe_load(conf_text) or {}),
    )
    missing = "(absent)"
    keys = sorted(
        k for k in {*ours, *theirs} if repr(ours.get(k, missing)) != repr(theirs.get(k, missing))
    )
    lines = [
        f"{k}: {ours.get(k, missing)!r} in params.yaml, {theirs.get(k, missing)!r} from conf/"
        for k in keys[:limit]
    ]
    return lines + ([f"... and {len(keys) - limit} more"] if len(keys) > limit else [])


def recompose(root: Path = Path()) -> list[str]:
    """Write params.yaml from conf/; return what to tell the user. A params.yaml with
    values conf/ does not give (a hand edit, an applied experiment) is kept as
    .dvc/tmp/params.yaml.bak, and its differences are listed."""
    expected = composed_text(root)
    target = root / PARAMS_FILE
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if current == expected:
        return []
    said = [f"wrote {target}"]
    if current is not None:
        backup = root / ".dvc/tmp/params.yaml.bak"
        write_bytes(backup, current.encode("utf-8"))
        said.append(
            f"{target} held values that conf/ does not give (a hand edit, an applied "
            f"experiment or a conf/ change); replaced, old file kept as {backup}:"
        )
        said += [f"  {line}" for line in differences(current, expected)]
        said.append(
            "  (to keep a value, put it in conf/ or run it with `dvc exp run -S key=value`)"
        )
    write_bytes(target, expected.encode("utf-8"))
    return said


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.compose", __doc__)
    parser.add_argument("--check", action="store_true", help="fail if params.yaml is stale")
    parser.add_argument("--root", type=Path, default=Path(), help="repository root")
    args = parser.parse_args(argv)
    expected = composed_text(args.root)
    target = args.root / PARAMS_FILE
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if args.check:
        if current != expected:
            print(
                f"{target} is not the composition of {args.root / CONF_DIR}/: run `make params`",
                file=sys.stderr,
            )
            return 1
        return 0
    for line in recompose(args.root):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
