"""Detector configuration: defaults, the example file, merging, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from gateway.detect.config import (
    DetectorConfig,
    example_config_path,
    load_detector_config,
    parse_detector_config,
)
from gateway.errors import ConfigError
from tests.unit.detect.support import CAT


def write(tmp_path: Path, text: str, name: str = "detector.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_defaults_follow_the_contract():
    config = load_detector_config(None)
    rules = config.rules

    assert config == DetectorConfig()
    assert (rules.sm2.window_days, rules.sm3.window_months, rules.sm4.window_days) == (1826, 12, 180)
    assert all(r.enabled for r in (rules.sm1, rules.sm2, rules.sm3, rules.sm4))
    assert config.national_retention_days == 1826
    assert config.ungranted_without_status == "ignore"
    years = {c: r.years for c, r in config.eurodac_retention.items()}
    assert years[CAT.APPLICANT] == 10
    for five in ("IRREGULAR_CROSSING", "ILLEGAL_STAY", "SEARCH_AND_RESCUE", "NATIONAL_RESETTLEMENT"):
        assert years[CAT(five)] == 5
    assert years[CAT.RESETTLEMENT_ADMITTED] == 5
    assert set(years) == set(CAT)


def test_unverified_points_say_to_be_confirmed():
    config = DetectorConfig()

    for category in (CAT.TEMPORARY_PROTECTION, CAT.UNKNOWN):
        assert "(to be confirmed)" in config.eurodac_retention[category].legal_basis
    assert "(to be confirmed)" not in config.eurodac_retention[CAT.APPLICANT].legal_basis
    for rule in (config.rules.sm1, config.rules.sm2, config.rules.sm3, config.rules.sm4):
        assert "to be confirmed" in rule.legal_basis
    assert "(to be confirmed)" in config.national_retention_legal_basis


def test_example_file_loads_and_states_the_defaults():
    assert load_detector_config(example_config_path()) == DetectorConfig()


def test_file_overrides_what_it_names(tmp_path):
    path = write(
        tmp_path,
        """
ungranted_without_status = "open"
national_retention_days = 3650

[rules.SM-2]
window_days = 365

[rules.SM-3]
enabled = false
legal_basis = "Local text"

[eurodac_retention.TEMPORARY_PROTECTION]
years = 3
""",
    )

    config = load_detector_config(path)

    assert config.ungranted_without_status == "open"
    assert config.national_retention_days == 3650
    assert config.rules.sm2.window_days == 365
    assert config.rules.sm2.legal_basis == DetectorConfig().rules.sm2.legal_basis
    assert (config.rules.sm3.enabled, config.rules.sm3.legal_basis) == (False, "Local text")
    assert config.rules.sm3.window_months == 12
    # one key of one category given: the entry keeps its other key, the other categories their defaults
    tp = config.eurodac_retention[CAT.TEMPORARY_PROTECTION]
    assert tp.years == 3
    assert tp.legal_basis == DetectorConfig().eurodac_retention[CAT.TEMPORARY_PROTECTION].legal_basis
    assert config.eurodac_retention[CAT.APPLICANT].years == 10


def test_config_is_frozen():
    config = DetectorConfig()

    with pytest.raises(pydantic.ValidationError):
        config.national_retention_days = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("surprise = 1", "surprise"),
        ("[rules.SM-9]\nenabled = true", "rules.SM-9"),
        ("[rules.sm2]\nwindow_days = 10", "rules.sm2"),
        ("[rules.SM-2]\nwindow_days = 0", "rules.SM-2.window_days"),
        ("[rules.SM-3]\nwindow_months = 'twelve'", "rules.SM-3.window_months"),
        ("[rules.SM-1]\nlegal_basis = ''", "rules.SM-1.legal_basis"),
        ("[rules.SM-4]\nwindow_days = 10\nwindows = 3", "rules.SM-4.windows"),
        ("ungranted_without_status = 'maybe'", "ungranted_without_status"),
        ("national_retention_days = -5", "national_retention_days"),
        ("[eurodac_retention.MARTIAN]\nyears = 5", "eurodac_retention.MARTIAN"),
        ("[eurodac_retention.APPLICANT]\nyears = -1", "eurodac_retention.APPLICANT.years"),
        ("[eurodac_retention.APPLICANT]\nmonths = 3", "eurodac_retention.APPLICANT.months"),
    ],
)
def test_invalid_values_name_the_key(tmp_path, text, where):
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_detector_config(path)

    message = str(caught.value)
    assert str(path) in message
    assert where in message


def test_not_toml(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_detector_config(write(tmp_path, "[rules.SM-2\nwindow_days = 3"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_detector_config(tmp_path / "absent.toml")


def test_wrong_suffix(tmp_path):
    with pytest.raises(ConfigError, match=r"\.toml"):
        load_detector_config(write(tmp_path, "{}", "detector.json"))


def test_parse_from_plain_data():
    assert parse_detector_config({"rules": {"SM-4": {"window_days": 90}}}).rules.sm4.window_days == 90
    with pytest.raises(ConfigError, match=r"rules\.SM-4\.window_days"):
        parse_detector_config({"rules": {"SM-4": {"window_days": "soon"}}})
