"""What the project's commands (`python -m reprolab.<command>`) share."""

from __future__ import annotations

import argparse


def command_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser named after the module, with its docstring as help text."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
