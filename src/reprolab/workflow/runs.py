"""One contract for every way of running experiments: what a run gives back
(`RunResult`), what a backend that runs them one by one or in parallel offers
(`Runner`: the search's local runner, the Ray runner), and how new runs are named.

The workspace sweep, the DVC queue, Ray and the search all report a `RunResult`;
`sweep` and `search` read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

STATUSES = ("ok", "failed", "lost")


@dataclass(frozen=True)
class RunResult:
    """One experiment's end. `status`: ok, failed (the pipeline said why: `error`), or
    lost (its worker or node died after every retry)."""

    name: str | None  # None: a workspace run, which DVC names itself
    overrides: tuple[str, ...]
    status: str
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    node: str | None = None
    # Seconds per step of a remote run (clone, run, push, fetch).
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}; expected one of {STATUSES}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def label(self) -> str:
        """How a report names the run: its overrides, else its name."""
        return " ".join(self.overrides) or self.name or "?"


class Runner(Protocol):
    """Runs experiments submitted by name; gives each back as it finishes."""

    def submit(self, name: str, overrides: list[str]) -> None: ...

    def next_result(self) -> RunResult: ...

    def close(self) -> None: ...


def unused_names(stem: str, count: int, taken: set[str], *, bare_first: bool = False) -> list[str]:
    """`count` experiment names not in `taken` (DVC would silently replace an experiment
    of the same name): `stem-1`, `stem-2`, ... skipping those taken; with `bare_first`,
    `stem` itself first, then `stem-2`, ..."""
    names: list[str] = []
    index = 1
    while len(names) < count:
        candidate = stem if bare_first and index == 1 else f"{stem}-{index}"
        if candidate not in taken:
            names.append(candidate)
        index += 1
    return names
