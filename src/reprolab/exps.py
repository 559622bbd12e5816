"""Print the experiments as a Markdown table ranked by the primary metric.

    python -m reprolab.exps            # what `make exps` runs

Only params that differ between the listed runs are shown, with the key metrics
from `evaluate.key_metrics` (primary metric first, direction from the config).
"""

from __future__ import annotations

import json
import subprocess

from reprolab.cli import command_parser, user_errors
from reprolab.comparison import resolve_compare
from reprolab.core.config import get, load_params
from reprolab.core.errors import ReprolabError
from reprolab.experiments import parse_exp_show, to_markdown


def exp_show(extra: list[str]) -> list[dict]:
    result = subprocess.run(
        ["dvc", "exp", "show", "--json", *extra], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ReprolabError(f"dvc exp show failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.exps", __doc__)
    parser.add_argument(
        "--all-commits",
        action="store_true",
        help="include experiments of every commit, not only HEAD's",
    )
    parser.add_argument("--workspace", action="store_true", help="include the workspace row")
    args = parser.parse_args(argv)
    with user_errors("exps"):
        rows = parse_exp_show(exp_show(["--all-commits"] if args.all_commits else []))
        if not args.workspace:
            rows = [row for row in rows if row.rev != "workspace"]
        names = {name for row in rows for name in row.metrics}
        compare = resolve_compare(get(load_params(), "evaluate"), names)
        print(to_markdown(rows, compare), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
