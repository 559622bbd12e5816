"""What the project's commands (`python -m reprolab.<command>`) share."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from reprolab.core.errors import ReprolabError


def command_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser named after the module, with its docstring as help text."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


@contextlib.contextmanager
def user_errors(command: str, exit_code: int = 1) -> Iterator[None]:
    """Turn a ReprolabError into one line on stderr and an exit code, without a traceback."""
    try:
        yield
    except ReprolabError as error:
        print(f"{command}: error: {error}", file=sys.stderr)
        raise SystemExit(exit_code) from None
