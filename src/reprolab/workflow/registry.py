"""The model registry in git, with GTO: register HEAD's model as a version, assign it
stages in order, show versions, stages, who and when.

    python -m reprolab.workflow.registry register [--bump patch|minor|major]
                                                  [--force --reason "..."]
    python -m reprolab.workflow.registry assign --stage staging [--version v1.2.0]
    python -m reprolab.workflow.registry show
    (`make register`, `make assign`, `make registry`)

GTO keeps a version as the tag `model@v1.2.0` on the commit that built the model (the
artifact `model` of dvc.yaml's `artifacts:`), and a stage as the tag `model#prod#3`.
What GTO leaves to its users is done here (registry_rules.py): a version is registered
only from a committed build that `dvc status` finds up to date, whose model is in the
DVC remote (pushed, after saying so; its schema is in git), and that passes the gate against the
version now in the last stage (`--force` with a reason, recorded in the tag,
otherwise); a stage is assigned only to a version that has held the stage before it.
Anything refused is one line, and no tag is made.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from reprolab.core.config import Paths, load_params
from reprolab.core.errors import ReprolabError
from reprolab.core.lockfile import require_locked
from reprolab.core.shell import command_parser, user_errors
from reprolab.workflow.registry_rules import (
    BUMPS,
    Event,
    RegistrySettings,
    events_of,
    journal,
    latest,
    next_version,
    registered,
    registration_message,
    registry_settings,
    require_registered,
    require_stage_order,
)
from reprolab.workflow.vcs import call, dvc, git, gto, last_line

# What serving a version needs: the model and the schema it checks input by (the model
# is DVC-cached, so it must be in the remote; the schema is kept in git).
SHIPPED = (Paths.model, Paths.schema)


def history(settings: RegistrySettings) -> list[Event]:
    return events_of(json.loads(gto("history", settings.artifact, "--json") or "[]"))


def current_stages(settings: RegistrySettings) -> dict[str, str]:
    """stage -> the version that holds it now."""
    shown = json.loads(gto("show", "--json") or "{}")
    return dict((shown.get(settings.artifact) or {}).get("stage") or {})


def _require_committed_build() -> str:
    """HEAD's commit, when the workspace is HEAD's and its outputs are dvc.lock's."""
    changed = git("status", "--porcelain").splitlines()
    if changed:
        raise ReprolabError(
            f"register: the workspace has {len(changed)} uncommitted change(s) (first: "
            f"{changed[0].strip()}); expected a clean workspace: commit, or `make reset`"
        )
    stale = json.loads(dvc("status", "--json") or "{}")
    if stale:
        raise ReprolabError(
            f"register: `dvc status` finds {', '.join(sorted(stale))} not as dvc.lock records; "
            "expected `dvc repro` and a commit first"
        )
    return git("rev-parse", "HEAD").strip()


def _require_gate(settings: RegistrySettings, events: list[Event], reason: str | None) -> None:
    """HEAD against the version in the last stage (prod), by the merge gate."""
    from reprolab.workflow.report import compare_with  # noqa: PLC0415

    last = settings.stages[-1]
    champion = current_stages(settings).get(last)
    if champion is None:
        print(f"register: no version holds {last!r} yet: nothing to gate against")
        return
    commit = registered(events)[champion]
    verdict = compare_with(commit).verdict
    print(f"register: gate against {settings.artifact}@{champion} ({last}): {verdict.line}")
    if not verdict.passed and reason is None:
        raise ReprolabError(
            f"register: the gate against {settings.artifact}@{champion} ({last}, "
            f"{commit[:7]}) failed; expected a pass, or FORCE=1 REASON='why' to register anyway"
        )


def _require_in_remote() -> None:
    """The model and its schema in the DVC remote: checked, and pushed when missing."""
    targets = [str(path) for path in SHIPPED]
    try:
        missing = json.loads(dvc("status", "--cloud", "--json", *targets) or "{}")
        if missing:
            print(f"register: pushing {', '.join(sorted(missing))} to the DVC remote")
            dvc("push", *targets)
    except ReprolabError as error:
        raise ReprolabError(
            f"register: the model could not be checked or pushed to the DVC remote ({error}); "
            "expected a reachable default remote (`dvc remote list`, docs/remotes.md)"
        ) from None


def _data_version() -> dict[str, str]:
    """The md5 of each of ingest's outputs in dvc.lock: the data the model was built from."""
    lock = yaml.safe_load(Path("dvc.lock").read_text(encoding="utf-8"))
    outs = lock["stages"]["ingest"].get("outs", [])
    return {out["path"]: out.get("md5", "") for out in outs}


def register(bump: str, reason: str | None) -> str:
    settings = registry_settings(load_params())
    if bump not in BUMPS:
        raise ReprolabError(f"BUMP: found {bump!r}; expected one of {', '.join(BUMPS)}")
    if reason is not None and not reason.strip():
        raise ReprolabError("REASON: empty; expected why the gate is overridden (FORCE=1)")
    head = _require_committed_build()
    events = history(settings)
    at_head = [v for v, commit in registered(events).items() if commit == head]
    if at_head:
        raise ReprolabError(
            f"register: HEAD ({head[:7]}) is already registered as "
            f"{settings.artifact}@{at_head[0]}; expected a new commit"
        )
    _require_gate(settings, events, reason)
    _require_in_remote()
    version = next_version(list(registered(events)), bump)
    metrics = json.loads(Paths.metrics.read_text(encoding="utf-8"))
    message = registration_message(metrics, _data_version(), reason)
    gto("register", settings.artifact, head, "--version", version, "-m", message)
    return (
        f"registered {settings.artifact}@{version} at {head[:7]}; share it with "
        f"`git push origin {settings.artifact}@{version}`"
    )


def assign(stage: str, version: str | None) -> str:
    settings = registry_settings(load_params())
    events = history(settings)
    version = version or latest(list(registered(events)))
    if version is None:
        raise ReprolabError(
            f"assign: no version of {settings.artifact} is registered; expected `make register`"
        )
    require_registered(version, events, settings)
    require_stage_order(version, stage, events, settings)
    if current_stages(settings).get(stage) == version:
        return f"{settings.artifact}@{version} already holds {stage!r}: nothing to do"
    # --force: GTO refuses a stage to a version that held it before, which is what a
    # rollback is; that it does not hold it now was checked above.
    gto("assign", settings.artifact, "--version", version, "--stage", stage, "--force",
        "-m", f"{stage}: {settings.artifact}@{version}")  # fmt: skip
    tag = f"{settings.artifact}#{stage}#"
    return (
        f"assigned {stage!r} to {settings.artifact}@{version}; share it with "
        f"`git push origin --tags` (the tag {tag}N)"
    )


# What a fetched version's folder says of it (read by the service).
SERVED_INFO = "served.json"


def cache_root() -> Path:
    """Fetched versions live outside the workspace (a checkout never touches them)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reprolab" / "registry"


def fetch(stage: str) -> Path:
    """The version that holds `stage`, fetched: its model from the DVC remote through
    `dvc artifacts get`, its schema, card and dvc.lock from the registered commit; the
    model's md5 checked against that dvc.lock. Returns the directory (reused when it
    already holds that version, checked)."""
    settings = registry_settings(load_params())
    events = history(settings)
    if stage not in settings.stages:
        raise ReprolabError(f"STAGE: found {stage!r}; expected one of {', '.join(settings.stages)}")
    version = current_stages(settings).get(stage)
    if version is None:
        raise ReprolabError(
            f"STAGE: no version of {settings.artifact} holds {stage!r}; expected "
            f"`make assign STAGE={stage}` first (make registry)"
        )
    commit = require_registered(version, events, settings)
    target = cache_root() / commit
    if (target / SERVED_INFO).is_file():
        require_locked([Paths.model], lock=target / "dvc.lock", root=target)
        return target
    # Built in a scratch folder beside it and renamed: never a half-fetched version.
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=_made(cache_root())))
    try:
        for name in (Path("dvc.lock"), Paths.schema, Paths.card_json):
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(call("git", "show", f"{commit}:{name}").stdout.encode())
        print(
            f"fetch: {settings.artifact}@{version} ({stage}) from the DVC remote", file=sys.stderr
        )
        fetched = call("dvc", "artifacts", "get", ".", settings.artifact, "--rev", version,
                       "-o", str(work / Paths.model), check=False)  # fmt: skip
        if fetched.returncode != 0:
            reason = last_line(fetched.stderr or fetched.stdout, fetched.returncode)
            raise ReprolabError(
                f"fetch: the model of {settings.artifact}@{version} could not be fetched from "
                f"the DVC remote ({reason}); expected it pushed (`make push` at that commit)"
            )
        require_locked([Paths.model], lock=work / "dvc.lock", root=work)
        info = {"artifact": settings.artifact, "version": version, "commit": commit}
        (work / SERVED_INFO).write_text(json.dumps(info), encoding="utf-8")
        work.rename(target)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        if not (target / SERVED_INFO).is_file():
            raise
        # Another fetch of this version finished first: its folder is the same files.
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def show() -> str:
    settings = registry_settings(load_params())
    return journal(history(settings), current_stages(settings), settings)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.registry", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("register", help="register HEAD's model as a new version")
    add.add_argument("--bump", default="patch", help="patch (default), minor or major")
    add.add_argument("--force", action="store_true", help="register even if the gate fails")
    add.add_argument("--reason", default=None, help="why (required with --force)")
    put = commands.add_parser("assign", help="assign a stage to a version")
    put.add_argument("--stage", required=True)
    put.add_argument("--version", default=None, help="default: the latest registered")
    commands.add_parser("show", help="versions, stages, who and when")
    get = commands.add_parser("fetch", help="fetch the version a stage holds; print its folder")
    get.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    with user_errors(args.command):
        if args.command == "register":
            if args.force and args.reason is None:
                raise ReprolabError("FORCE=1: expected REASON='why the gate is overridden'")
            print(register(args.bump, args.reason if args.force else None))
        elif args.command == "assign":
            print(assign(args.stage, args.version))
        elif args.command == "fetch":
            print(fetch(args.stage))
        else:
            print(show())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
