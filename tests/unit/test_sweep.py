import subprocess

import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.sweep import expand, failure_reason, load_grid, refuse_untracked


def test_expand_uses_hydra_sweep_syntax():
    combos = expand(["model=a,b", "model.max_depth=range(2,6,2)"])
    assert combos == [
        ["model=a", "model.max_depth=2"],
        ["model=a", "model.max_depth=4"],
        ["model=b", "model.max_depth=2"],
        ["model=b", "model.max_depth=4"],
    ]
    assert expand(["model.C=choice(0.1,1)"]) == [["model.C=0.1"], ["model.C=1"]]


def test_every_named_grid_expands(root):
    for name in ("default", "forest_depth", "forest_size"):
        assert len(expand(load_grid(name, root / "conf/sweeps.yaml"))) >= 4


def test_unknown_grid_names_the_choices(root):
    with pytest.raises(ReprolabError, match=r"no grid named 'nope'; expected one of \["):
        load_grid("nope", root / "conf/sweeps.yaml")


def test_untracked_source_files_are_refused_by_name(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "conf/model").mkdir(parents=True)
    (tmp_path / "conf/model/new.yaml").write_text("C: 1\n")
    (tmp_path / "notes.txt").write_text("not a source file\n")
    with pytest.raises(ReprolabError, match=r"untracked files \['conf/model/new.yaml'\]"):
        refuse_untracked(tmp_path)


def test_failure_reason_prefers_the_stage_error_line():
    log = (
        "Running stage 'train':\n> python -m reprolab.stages.train\n"
        "train: error: model: The 'C' parameter of LogisticRegression must be > 0\n"
        "ERROR: failed to reproduce 'train': failed to run\n"
    )
    assert failure_reason(log).startswith("train: error: model: The 'C' parameter")
    traceback = "Traceback (most recent call last):\n  File x\nValueError: bad\nERROR: failed\n"
    assert failure_reason(traceback) == "ValueError: bad"
    assert failure_reason("") == "(no output)"


def test_ray_run_names_never_reuse_an_experiment_name(tmp_path, monkeypatch):
    import subprocess

    from reprolab.workflow.runs import unused_names
    from reprolab.workflow.vcs import experiment_refs

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    # DVC would silently replace an experiment of the same name (treeverse/dvc#8742).
    git("update-ref", f"refs/exps/{head[:2]}/{head[2:]}/grid-abc-2", head)
    monkeypatch.chdir(tmp_path)
    # The queue's own refs are not experiments.
    git("update-ref", "refs/exps/celery/stash", head)
    taken = set(experiment_refs())
    assert taken == {"grid-abc-2"}
    assert unused_names("grid-abc", 3, taken) == ["grid-abc-1", "grid-abc-3", "grid-abc-4"]
    # The search's trial names: the stem itself first.
    assert unused_names("grid-abc-2", 1, taken, bare_first=True) == ["grid-abc-2-2"]
    assert unused_names("grid-abc-5", 1, taken, bare_first=True) == ["grid-abc-5"]


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        ({"cpus_per_run": 0}, "sweep.ray.cpus_per_run"),
        ({"cpus_per_run": "two"}, "sweep.ray.cpus_per_run"),
        ({"max_retries": -1}, "sweep.ray.max_retries"),
        ({"cpus_per_run": 1.5}, "sweep.ray.cpus_per_run"),  # was cut to 1 without a word
        ({"scratch": 3}, "sweep.ray.scratch"),
        ({"cpu_per_run": 2}, "sweep.ray.cpu_per_run"),  # a misspelt key
    ],
)
def test_bad_ray_settings_name_the_key(cfg, key):
    from reprolab.workflow.ray_sweep import RaySettings

    good = {"cpus_per_run": 1, "max_retries": 2, "scratch": None}
    with pytest.raises(ReprolabError, match=rf"^{key}: "):
        RaySettings.from_params({"sweep": {"ray": {**good, **cfg}}})
    with pytest.raises(ReprolabError, match=r"missing key 'sweep.ray.max_retries'"):
        RaySettings.from_params({"sweep": {"ray": {"cpus_per_run": 1, "scratch": None}}})
    assert RaySettings.from_params({"sweep": {"ray": good}}) == RaySettings(1, 2, None)


def test_a_half_written_dvc_lock_file_is_removed_and_a_readable_one_kept(tmp_path):
    from reprolab.workflow.vcs import repair_dvc_lock

    lock = tmp_path / ".dvc/tmp/rwlock"
    assert repair_dvc_lock(tmp_path) is False  # none
    lock.parent.mkdir(parents=True)
    lock.write_text('{"read": {}, "write": {}}')
    assert repair_dvc_lock(tmp_path) is False and lock.exists()
    lock.write_text("")  # what a process killed mid-write leaves
    assert repair_dvc_lock(tmp_path) is True and not lock.exists()
