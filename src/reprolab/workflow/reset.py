"""Put the workspace back to the last commit: pipeline files and DVC outputs.

    python -m reprolab.workflow.reset        # what `make reset` runs

After an applied experiment, a failed or interrupted `dvc exp run`, or a promotion
you do not want: conf/, params.yaml, dvc.lock, metrics/, plots/ and reports/ go back
to HEAD, and `dvc checkout --force` puts the data and models of HEAD's dvc.lock in
place. Nothing is lost: the changes (untracked files included) are saved first as a
git stash, which `git stash pop` brings back. Source code under src/ is not touched.
"""

from __future__ import annotations  # noqa: I001

from reprolab.core.config import PIPELINE_STATE
from reprolab.core.shell import command_parser, user_errors
from reprolab.core.errors import ReprolabError
from reprolab.workflow.vcs import call, changed_pipeline_files, git, repair_dvc_lock


def reset() -> list[str]:
    """Stash the changed pipeline files, restore HEAD's, check out HEAD's DVC outputs;
    return what was said to the user."""
    said = []
    if repair_dvc_lock():
        said.append("removed DVC's lock file .dvc/tmp/rwlock, left half-written by a killed run")
    changed = changed_pipeline_files()
    stash = ("stash", "push", "--include-untracked", "-m", "make reset", "--", *PIPELINE_STATE)
    if changed and call("git", *stash, check=False).returncode != 0:
        # Staged changes that the working tree undoes (a `dvc exp run` killed after it
        # staged params.yaml) make git find "no valid patches": unstage, then save.
        git("reset", "-q", "--", *PIPELINE_STATE)
        changed = changed_pipeline_files()
        if changed:
            git(*stash)
    if changed:
        said.append(
            f"saved {len(changed)} changed file(s) as `git stash` entry stash@{{0}} "
            "(`git stash show -p --include-untracked` to see, `git stash pop` to take back):"
        )
        said += [f"  {line}" for line in changed]
    checkout = call("dvc", "checkout", "--force", check=False)
    if checkout.returncode != 0:
        lines = checkout.stderr.splitlines()
        start = next((i + 1 for i, line in enumerate(lines) if "following targets" in line), 0)
        missing = [line for line in lines[start:] if line.strip() and " " not in line.strip()]
        raise ReprolabError(
            f"pipeline files are HEAD's, but {len(missing) or 'some'} DVC output(s) of HEAD "
            f"are not in the DVC cache ({', '.join(m.strip() for m in missing[:3])}); expected "
            "them there: run `dvc pull` (or `dvc repro` to rebuild them)"
        )
    said.append("pipeline files and DVC outputs are those of HEAD (`dvc status` is clean)")
    return said


def main(argv: list[str] | None = None) -> int:
    command_parser("reprolab.workflow.reset", __doc__).parse_args(argv)
    with user_errors("reset"):
        for line in reset():
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
