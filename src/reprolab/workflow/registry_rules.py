"""The model registry's rules, on GTO's record of it (`gto history --json`): which
versions exist and where, what stage each version has held, the stage order, the next
version number, what a version's tag message records. No git, no GTO: pure functions
that registry.py runs on what those tools say."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from reprolab.core.config import get, section
from reprolab.core.errors import ReprolabError

_SEMVER = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
BUMPS = ("patch", "minor", "major")


@dataclass(frozen=True)
class RegistrySettings:
    artifact: str  # the name under dvc.yaml's `artifacts:`
    stages: tuple[str, ...]  # in order: each one only after the one before


def registry_settings(params: dict[str, Any]) -> RegistrySettings:
    found = section(params, "registry", ("artifact", "stages"))
    stages = found["stages"]
    if (
        not isinstance(stages, list)
        or not stages
        or not all(isinstance(s, str) and re.fullmatch(r"[a-z][a-z0-9_-]*", s) for s in stages)
        or len(set(stages)) != len(stages)
    ):
        raise ReprolabError(
            f"registry.stages: found {stages!r}; expected a list of distinct lower-case names "
            "in order, e.g. [dev, staging, prod]"
        )
    artifact = get(params, "registry.artifact")
    if not isinstance(artifact, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", artifact):
        raise ReprolabError(
            f"registry.artifact: found {artifact!r}; expected the name of an entry of "
            "dvc.yaml's artifacts (lower-case letters, digits, dashes)"
        )
    return RegistrySettings(artifact=artifact, stages=tuple(stages))


@dataclass(frozen=True)
class Event:
    """One registration or stage assignment, as GTO records it (a git tag)."""

    kind: str  # "registration" | "assignment" | others GTO has (deprecation...)
    version: str
    stage: str | None
    commit: str
    timestamp: str
    author: str
    message: str


def events_of(history: list[dict[str, Any]]) -> list[Event]:
    """`gto history <artifact> --json`, oldest first."""
    events = [
        Event(
            kind=entry.get("event", ""),
            version=entry.get("version") or "",
            stage=entry.get("stage"),
            commit=entry.get("commit", ""),
            timestamp=entry.get("timestamp", ""),
            author=entry.get("author", ""),
            message=entry.get("message") or "",
        )
        for entry in history
    ]
    return sorted(events, key=lambda e: e.timestamp)


def registered(events: list[Event]) -> dict[str, str]:
    """version -> the commit it was registered at."""
    return {e.version: e.commit for e in events if e.kind == "registration"}


def _semver(version: str) -> tuple[int, int, int]:
    found = _SEMVER.match(version)
    if not found:
        raise ReprolabError(f"version: found {version!r}; expected vMAJOR.MINOR.PATCH, e.g. v1.2.0")
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def latest(versions: list[str]) -> str | None:
    """The highest of `versions` (semantic order), or None."""
    return max(versions, key=_semver) if versions else None


def next_version(versions: list[str], bump: str) -> str:
    """The version after the highest registered one; the first is v0.0.1, v0.1.0 or v1.0.0."""
    if bump not in BUMPS:
        raise ReprolabError(f"BUMP: found {bump!r}; expected one of {', '.join(BUMPS)}")
    highest = latest(versions)
    major, minor, patch = _semver(highest) if highest else (0, 0, 0)
    if bump == "major":
        return f"v{major + 1}.0.0"
    if bump == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def require_registered(version: str, events: list[Event], settings: RegistrySettings) -> str:
    """The commit of a registered version; else one line naming the ones there are."""
    versions = registered(events)
    if version not in versions:
        known = ", ".join(sorted(versions, key=_semver)) or "none yet (`make register`)"
        raise ReprolabError(
            f"VERSION: {settings.artifact}@{version} is not registered; expected one of: {known}"
        )
    return versions[version]


def require_stage_order(
    version: str, stage: str, events: list[Event], settings: RegistrySettings
) -> None:
    """A stage is assigned only to a version that has held the stage before it (at any
    time: a rollback to an older version that went through staging is allowed)."""
    order = " -> ".join(settings.stages)
    if stage not in settings.stages:
        raise ReprolabError(
            f"STAGE: found {stage!r}; expected one of {', '.join(settings.stages)} "
            f"(registry.stages: {order})"
        )
    position = settings.stages.index(stage)
    if position == 0:
        return
    before = settings.stages[position - 1]
    held = any(
        e.kind == "assignment" and e.version == version and e.stage == before for e in events
    )
    if not held:
        raise ReprolabError(
            f"STAGE: {settings.artifact}@{version} never held {before!r}, which comes before "
            f"{stage!r} ({order}); expected `make assign STAGE={before} VERSION={version}` first"
        )


def registration_message(
    metrics: dict[str, Any], data: dict[str, str], forced_reason: str | None
) -> str:
    """What a version's tag records: its metrics and the data version it was built from
    (the md5 of each of ingest's outputs in dvc.lock), and why the gate was overridden."""
    lines = [
        f"metrics: {json.dumps(metrics, sort_keys=True)}",
        f"data: {json.dumps(data, sort_keys=True)}",
    ]
    if forced_reason is not None:
        lines.append(f"forced past the gate: {forced_reason}")
    return "\n".join(lines)


def journal(events: list[Event], holders: dict[str, str], settings: RegistrySettings) -> str:
    """`make registry`: who holds each stage now, then every registration and assignment,
    newest first, with when, who and the commit."""
    lines = [f"stages, in order: {' -> '.join(settings.stages)}"]
    for stage in settings.stages:
        lines.append(f"  {stage:<10} {holders.get(stage, '-')}")
    lines.append("history (newest first): when | event | version | stage | who | commit")
    for event in reversed(events):
        lines.append(
            f"  {event.timestamp} | {event.kind} | {event.version} | {event.stage or '-'} | "
            f"{event.author} | {event.commit[:7]}"
        )
    return "\n".join(lines)
