"""The one shell of stages and commands: arguments, logging, and user errors as one line.

Stage modules import heavy libraries inside their body function, after argument
parsing, so `python -m reprolab.stages.<stage> --help` starts instantly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from reprolab.core.errors import ReprolabError


def command_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser named after the module, with its docstring as help text."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _log_to_stderr(name: str) -> None:
    """Progress lines (`log(...)` in core.files) go to stderr, prefixed by the command,
    and so do the libraries' warnings, one line each (Python prints a warning as the
    file, line and source that raised it, over several lines)."""
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(message)s", stream=sys.stderr)
    warnings.showwarning = _warning_line


def _warning_line(
    message: Warning | str, category: type[Warning], *_args: object, **_kwargs: object
) -> None:
    text = " ".join(str(message).split())
    logging.getLogger("reprolab").warning("warning: %s: %s", category.__name__, text)


@contextlib.contextmanager
def user_errors(command: str, exit_code: int = 1) -> Iterator[None]:
    """Log progress; turn a ReprolabError into one line on stderr and an exit code."""
    _log_to_stderr(command)
    try:
        yield
    except ReprolabError as error:
        print(f"{command}: error: {error}", file=sys.stderr)
        raise SystemExit(exit_code) from None
    except MemoryError:
        print(
            f"{command}: error: out of memory; expected a smaller input or a larger "
            "machine (docs/benchmarks.md gives each stage's peak)",
            file=sys.stderr,
        )
        raise SystemExit(exit_code) from None
    except Exception as error:  # the last resort: one line, never a traceback
        if os.environ.get(SHOW_TRACEBACK) == "1":
            raise
        print(f"{command}: error: {unexpected(error)}", file=sys.stderr)
        raise SystemExit(exit_code) from None


# Set to 1 to see the traceback of an unexpected error (a bug, not the input).
SHOW_TRACEBACK = "REPROLAB_TRACEBACK"


def unexpected(error: BaseException) -> str:
    """One line for an error no check foresaw: what it says, where our code met it, and
    what to do. The file system's errors name the file."""
    import traceback  # noqa: PLC0415

    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}; expected a readable, writable file"
    text = " ".join(str(error).split())[:300] or "(no message)"
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "reprolab" in f.filename and f.filename != __file__
    ]
    where = f" in {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return (
        f"unexpected {type(error).__name__}{where}: {text}; this is a reprolab bug, not "
        f"your input's fault alone: please report it ({SHOW_TRACEBACK}=1 shows the traceback)"
    )


def _return_large_frees() -> None:
    """Make glibc give every allocation of 4 MiB or more back to the system when freed.
    By default it raises that threshold to the largest block freed so far (up to 32 MiB),
    so a freed table's column buffers stay in the process: featurize at 10M rows peaked
    at 3.13 GiB, 2.73 GiB with this, in the same time (2026-11-26). No-op elsewhere."""
    libc = _glibc()
    m_mmap_threshold = -3  # malloc.h; setting it also turns off glibc's adjusting
    if libc is not None:
        libc.mallopt(m_mmap_threshold, 4 * 2**20)


def release_freed_memory() -> None:
    """Give the heap's free pages back to the system (glibc's `malloc_trim`) before a
    stage's peak: the small blocks a column-by-column read frees stay in the process
    otherwise. train at 1M rows, before its fit: 318 -> 307 MiB (2026-11-26). No-op
    elsewhere."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _glibc() -> Any:
    """The C library when it is glibc (Linux), whose allocator the two above tune."""
    import ctypes  # noqa: PLC0415

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # musl, macOS, Windows
        return None


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
    # skops, on import, lists scikit-learn's estimators; that imports scikit-learn's test
    # helpers, which import pytest whenever it is installed (a dev environment): 0.2 s
    # of every stage that loads a model. No stage uses pytest: make it unimportable.
    sys.modules.setdefault("pytest", None)  # type: ignore[arg-type]
    # pyarrow's default allocator (mimalloc) keeps what it frees: reading 1M rows left
    # a stage 40-125 MiB larger than the system allocator (bench/scale.py, 2026-11-26).
    # Read by pyarrow when it first allocates, so set before any stage imports it.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    _return_large_frees()
    started = time.perf_counter()
    with user_errors(stage):
        summary = body()
    logging.getLogger("reprolab").info("%s (%.1f s)", summary, time.perf_counter() - started)
