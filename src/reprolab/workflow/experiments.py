"""Print the experiments as Markdown tables ranked by the primary metric.

    python -m reprolab.workflow.experiments            # what `make exps` runs: experiments of the last 10 commits
    python -m reprolab.workflow.experiments --all      # `make exps ALL=1`: of every commit

Runs are ranked only against runs measured on the same evaluation data (target, task,
test rows), those of HEAD first; commits are listed as baselines. Only params that
differ between the ranked runs are shown, with the key metrics of `ranking.key_metrics`
(primary metric first, direction from the config), as long as a table fits 120
characters (`--wide`: all of them).
"""

from __future__ import annotations

import json
import sys

from reprolab.core.config import get, load_params
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.experiment_report import render
from reprolab.workflow.experiment_table import parse_exp_show
from reprolab.workflow.vcs import dvc, experiment_refs


def exp_show(extra: list[str]) -> list[dict]:
    return json.loads(dvc("exp", "show", "--json", *extra))


def experiment_count() -> int:
    """How many experiments the repository holds, on any commit."""
    return len(experiment_refs())


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.experiments", __doc__)
    parser.add_argument(
        "--all",
        "--all-commits",
        dest="all_commits",
        action="store_true",
        help="include experiments of every commit",
    )
    parser.add_argument(
        "--commits",
        type=int,
        default=10,
        help="experiments of this many recent commits of the current branch (default 10)",
    )
    parser.add_argument("--workspace", action="store_true", help="include the workspace row")
    parser.add_argument(
        "--wide", action="store_true", help="every differing param and key metric, however wide"
    )
    args = parser.parse_args(argv)
    with user_errors("exps"):
        scope = ["--all-commits"] if args.all_commits else ["-n", str(max(args.commits, 1))]
        rows = parse_exp_show(exp_show(scope))
        shown = sum(1 for row in rows if row.name != row.baseline and row.rev != "workspace")
        if not args.workspace:
            rows = [row for row in rows if row.rev != "workspace"]
        print(render(rows, get(load_params(), "ranking"), wide=args.wide), end="")
        hidden = experiment_count() - shown
        if hidden > 0 and not args.all_commits:
            print(
                f"({hidden} experiment(s) of older commits or other branches not shown: "
                "`make exps ALL=1` shows them)",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
