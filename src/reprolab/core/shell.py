"""What every stage shares: `--help`, logging, and turning user errors into one line.

Stage modules import heavy libraries inside their body function, after argument
parsing, so `python -m reprolab.stages.<stage> --help` starts instantly.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence

from reprolab.core.errors import ReprolabError


def run_stage(
    stage: str,
    description: str | None,
    body: Callable[[], str],
    argv: Sequence[str] | None = None,
) -> None:
    """Run one DVC stage's body; exit 1 with a one-line message on a ReprolabError.

    `body` reads the stage's params and deps, writes its outs and returns a
    one-line summary that is logged last.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m reprolab.stages.{stage}",
        description=description,
        epilog="Run from the repository root; parameters come from params.yaml.",
    )
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"{stage}: %(message)s", stream=sys.stderr)
    log = logging.getLogger("reprolab")
    started = time.perf_counter()
    try:
        summary = body()
    except ReprolabError as error:
        print(f"{stage}: error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    log.info("%s (%.1f s)", summary, time.perf_counter() - started)
