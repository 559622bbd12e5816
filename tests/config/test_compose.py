"""Every option of every config group composes, and what it composes actually works."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from reprolab.data.columns import feature_columns
from reprolab.data.contract import validate_frame
from reprolab.data.schema_inference import effective_schema
from reprolab.data.sources import load_source
from reprolab.data.split_settings import split_settings
from reprolab.data.splitting import split_dataset
from reprolab.model.estimators import build_estimator, build_inference_pipeline, unwrapped
from reprolab.model.feature_settings import feature_settings
from reprolab.model.features import build_preprocessor, transform_to_frame
from reprolab.model.persistence import describe_saved_pipeline, load_model, save_model
from reprolab.workflow.compose import composed_text

CONF = Path(__file__).resolve().parents[2] / "conf"
OPTIONS = sorted(
    (group.name, option.stem)
    for group in CONF.iterdir()
    if group.is_dir()
    for option in group.glob("*.yaml")
)


DEFAULT_GROUPS = {
    next(iter(entry))
    for entry in OmegaConf.load(CONF / "config.yaml")["defaults"]
    if not isinstance(entry, str)
}


def _override(group: str, option: str) -> str:
    """Groups in the defaults list are switched; others (presets) are added with +."""
    return f"{group}={option}" if group in DEFAULT_GROUPS else f"+{group}={option}"


def _compose(*overrides: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF), version_base=None):
        cfg = compose(config_name="config", overrides=list(overrides))
    return OmegaConf.to_container(cfg, resolve=True)


def test_every_group_has_options():
    groups = {group for group, _ in OPTIONS}
    assert {"data", "split", "features", "model"} <= groups


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes(group, option):
    cfg = _compose(_override(group, option))
    assert isinstance(cfg["seed"], int)
    if group in DEFAULT_GROUPS:
        assert cfg[group]
    else:
        assert cfg != _compose()


@pytest.mark.parametrize("option", [o for g, o in OPTIONS if g == "experiment"])
def test_experiment_preset_is_global_and_builds_its_model(option):
    text = (CONF / "experiment" / f"{option}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# @package _global_")
    cfg = _compose(f"+experiment={option}")
    preset = OmegaConf.load(CONF / "experiment" / f"{option}.yaml")
    for key, value in (preset.get("model") or {}).items():
        assert cfg["model"][key] == value
    build_estimator(cfg["model"])


@pytest.mark.parametrize("option", [o for g, o in OPTIONS if g == "data"])
def test_data_option_loads_and_validates(option, penguins, tmp_path, monkeypatch):
    overrides = [f"data={option}"]
    if option == "csv":  # the user's own file: a copy of penguins here
        monkeypatch.chdir(tmp_path)
        (tmp_path / "data/external").mkdir(parents=True)
        penguins.to_csv(tmp_path / "data/external/p.csv", index=False)
        overrides += ["data.path=data/external/p.csv", "data.target=species"]
    if option == "synthetic":
        overrides += ["data.source.rows=2000"]
    data = _compose(*overrides)["data"]
    frame = load_source(data)
    schema = effective_schema(frame, data)
    assert schema["task"] == "classification"
    expected = {"num_00", "num_19"} if option == "synthetic" else {"bill_length_mm", "body_mass_g"}
    assert expected <= set(schema["numeric"])
    report = validate_frame(frame, schema)
    assert report["passed"], report["failures"]


@pytest.mark.parametrize("option", [o for g, o in OPTIONS if g == "split"])
def test_split_option_splits_the_default_data(option):
    # A group split needs its group column: the penguins' year here (three groups).
    cfg = _compose(f"split={option}", *(["split.group_column=year"] if option == "group" else []))
    frame = load_source(cfg["data"])
    schema = effective_schema(frame, cfg["data"])
    train, test = split_dataset(frame, schema, split_settings(cfg["split"]), cfg["seed"])
    assert len(train) > len(test) > 0


REGRESSORS = (
    "ridge",
    "random_forest_regressor",
    "hist_gradient_boosting_regressor",
    "lightgbm_regressor",
    "xgboost_regressor",
)
TASKS = [
    (o, t)
    for g, o in OPTIONS
    if g == "model"
    for t in (["regression"] if o in REGRESSORS else ["multiclass", "binary"])
]


@pytest.mark.parametrize(("option", "task"), TASKS, ids=[f"{o}-{t}" for o, t in TASKS])
def test_model_option_trains_and_round_trips_through_skops(option, task, penguins, tmp_path):
    cfg = _compose(f"model={option}")
    data = dict(cfg["data"])
    frame = penguins[penguins["species"] != "Gentoo"] if task == "binary" else penguins
    if task == "regression":
        frame = frame.dropna(subset=["body_mass_g"])
        data["target"] = "body_mass_g"
        data["numeric"] = [c for c in data["numeric"] if c != "body_mass_g"]
    pre = build_preprocessor(data["numeric"], data["categorical"], feature_settings(cfg))
    pre.fit(frame[feature_columns(data)])
    estimator = build_estimator(
        cfg["model"], "regression" if task == "regression" else "classification"
    )
    params = estimator.get_params()  # XGBoost's classifier is wrapped (EncodedLabels)
    assert params.get("random_state", params.get("estimator__random_state")) == cfg["seed"]
    features = transform_to_frame(pre, frame, cfg["features"]["dtype"])  # as featurize writes
    estimator.fit(features.to_numpy(), frame[data["target"]])
    pipeline = build_inference_pipeline(pre, estimator)
    save_model(tmp_path / "model.skops", pipeline)
    loaded = load_model(tmp_path / "model.skops")  # refuses types outside TRUSTED_TYPES
    x = frame[feature_columns(data)]
    assert (loaded.predict(x) == pipeline.predict(x)).all()
    # The card, the service's metadata and train's log name the configured class.
    configured = cfg["model"]["_target_"].rsplit(".", 1)[1]
    assert describe_saved_pipeline(tmp_path / "model.skops")[0] == configured
    assert type(unwrapped(estimator)).__name__ == configured


def test_params_yaml_is_the_composition_of_conf(root):
    committed = (root / "params.yaml").read_text(encoding="utf-8")
    assert committed == composed_text(root), (
        "params.yaml differs from the composition of conf/: run `make params` and commit it"
    )


def test_recompose_names_the_values_it_replaces_and_keeps_the_old_file(tmp_path, root):
    import shutil

    from reprolab.workflow.compose import recompose

    shutil.copytree(root / "conf", tmp_path / "conf")
    (tmp_path / ".dvc").mkdir()
    assert recompose(tmp_path) == [f"wrote {tmp_path / 'params.yaml'}"]  # no file before
    params = tmp_path / "params.yaml"
    composed = params.read_text()
    # A hand edit of whatever seed conf/ holds (a user may have promoted another one).
    seed = OmegaConf.create(composed)["seed"]
    edited = composed.replace(f"\nseed: {seed}\n", f"\nseed: {seed + 1}\n")
    assert edited != composed
    params.write_text(edited)
    said = recompose(tmp_path)
    assert f"  seed: {seed + 1} in params.yaml, {seed} from conf/" in said
    assert (tmp_path / ".dvc/tmp/params.yaml.bak").read_text() == edited
    assert params.read_text() == composed
    assert recompose(tmp_path) == []
