"""The registry's rules on GTO's record: version numbers, the stage order (rollback
included), the settings, what a version's tag records."""

from __future__ import annotations

import json

import pytest

from reprolab.core.errors import ReprolabError
from reprolab.workflow.registry_rules import (
    RegistrySettings,
    events_of,
    latest,
    next_version,
    registration_message,
    registry_settings,
    require_registered,
    require_stage_order,
)

SETTINGS = RegistrySettings(artifact="model", stages=("dev", "staging", "prod"))


def _history(*entries):
    """GTO's `history --json` entries: (event, version, stage, minute)."""
    return events_of(
        [
            {
                "event": event,
                "version": version,
                "stage": stage,
                "commit": f"c{version}",
                "timestamp": f"2026-12-04T10:{minute:02d}:00+00:00",
                "author": "A",
                "message": "",
            }
            for event, version, stage, minute in entries
        ]
    )


@pytest.mark.parametrize(
    ("versions", "bump", "expected"),
    [
        ([], "patch", "v0.0.1"),
        ([], "minor", "v0.1.0"),
        ([], "major", "v1.0.0"),
        (["v0.0.1", "v0.0.10", "v0.0.9"], "patch", "v0.0.11"),  # semantic, not text, order
        (["v1.2.3"], "minor", "v1.3.0"),
        (["v1.2.3"], "major", "v2.0.0"),
    ],
)
def test_the_next_version_follows_the_highest(versions, bump, expected):
    assert next_version(versions, bump) == expected


def test_a_bad_bump_or_version_is_one_line():
    with pytest.raises(ReprolabError, match=r"^BUMP: found 'huge'; expected one of patch"):
        next_version([], "huge")
    with pytest.raises(ReprolabError, match=r"^version: found 'v1.2'; expected vMAJOR"):
        latest(["v1.2"])


def test_a_stage_comes_only_after_the_one_before():
    events = _history(("registration", "v0.0.1", None, 1), ("assignment", "v0.0.1", "dev", 2))
    require_stage_order("v0.0.1", "dev", events, SETTINGS)
    require_stage_order("v0.0.1", "staging", events, SETTINGS)
    with pytest.raises(ReprolabError) as refused:
        require_stage_order("v0.0.1", "prod", events, SETTINGS)
    assert str(refused.value) == (
        "STAGE: model@v0.0.1 never held 'staging', which comes before 'prod' "
        "(dev -> staging -> prod); expected `make assign STAGE=staging VERSION=v0.0.1` first"
    )


def test_a_rollback_to_a_version_that_went_through_the_stages_is_allowed():
    events = _history(
        ("registration", "v0.0.1", None, 1),
        ("assignment", "v0.0.1", "dev", 2),
        ("assignment", "v0.0.1", "staging", 3),
        ("assignment", "v0.0.1", "prod", 4),
        ("registration", "v0.0.2", None, 5),
        ("assignment", "v0.0.2", "dev", 6),
        ("assignment", "v0.0.2", "staging", 7),
        ("assignment", "v0.0.2", "prod", 8),
    )
    require_stage_order("v0.0.1", "prod", events, SETTINGS)


def test_an_unknown_stage_or_version_is_one_line_naming_what_there_is():
    events = _history(("registration", "v0.0.1", None, 1), ("registration", "v0.0.2", None, 2))
    with pytest.raises(ReprolabError, match=r"^STAGE: found 'qa'; expected one of dev, staging"):
        require_stage_order("v0.0.1", "qa", events, SETTINGS)
    with pytest.raises(ReprolabError) as unknown:
        require_registered("v9.9.9", events, SETTINGS)
    assert str(unknown.value) == (
        "VERSION: model@v9.9.9 is not registered; expected one of: v0.0.1, v0.0.2"
    )
    assert require_registered("v0.0.2", events, SETTINGS) == "cv0.0.2"


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        ({"artifact": "model", "stages": []}, r"^registry.stages: found \[\]"),
        ({"artifact": "model", "stages": ["dev", "dev"]}, r"^registry.stages: found"),
        ({"artifact": "model", "stages": ["Prod"]}, r"^registry.stages: found \['Prod'\]"),
        ({"artifact": "My Model", "stages": ["dev"]}, r"^registry.artifact: found 'My Model'"),
        ({"artifact": "model", "stages": ["dev"], "order": 1}, r"^registry.order: not a setting"),
    ],
)
def test_a_wrong_registry_section_is_one_line(registry, message):
    with pytest.raises(ReprolabError, match=message):
        registry_settings({"registry": registry})


def test_the_composed_default_declares_dev_staging_prod(params):
    settings = registry_settings(params)
    assert settings.artifact == "model" and len(settings.stages) >= 1


def test_the_tag_message_records_metrics_data_and_the_reason():
    text = registration_message({"accuracy": 0.97}, {"data/raw/dataset.parquet": "ab12"}, "hotfix")
    lines = text.splitlines()
    assert json.loads(lines[0].removeprefix("metrics: ")) == {"accuracy": 0.97}
    assert json.loads(lines[1].removeprefix("data: ")) == {"data/raw/dataset.parquet": "ab12"}
    assert lines[2] == "forced past the gate: hotfix"
    assert len(registration_message({}, {}, None).splitlines()) == 2
