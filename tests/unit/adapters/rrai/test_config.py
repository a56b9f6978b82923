import datetime as dt
from decimal import Decimal

import pytest

from gateway.adapters.rrai.config import Quarter, RraiConfig, load_rrai_config
from gateway.errors import ConfigError


def test_default_levels_and_band_edges() -> None:
    config = RraiConfig()
    assert config.levels() == ("<500", "500-1999.99", ">=2000", "unknown")
    assert config.level_of(None) == "unknown"
    assert config.level_of(Decimal("499.99")) == "<500"
    assert config.level_of(Decimal("500.00")) == "500-1999.99"
    assert config.level_of(Decimal("1999.99")) == "500-1999.99"
    assert config.level_of(Decimal("2000.00")) == ">=2000"
    assert config.level_of(Decimal("0.00")) == "<500"


def test_configured_bands() -> None:
    config = RraiConfig(band_edges_eur=(Decimal("100"), Decimal("1000.50"), Decimal("3750")))
    assert config.levels() == ("<100", "100-1000.49", "1000.5-3749.99", ">=3750", "unknown")
    assert config.level_of(Decimal("1000.50")) == "1000.5-3749.99"
    assert RraiConfig(band_edges_eur=()).levels() == ("any", "unknown")


@pytest.mark.parametrize(
    "data",
    [
        {"band_edges_eur": ["2000", "500"]},
        {"band_edges_eur": ["500", "500"]},
        {"band_edges_eur": ["0"]},
        {"band_edges_eur": ["10.001"]},
        {"threshold": 0},
        {"thresold": 5},
    ],
)
def test_invalid_settings_are_config_errors(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        load_rrai_config(data)


def test_load_from_toml(tmp_path) -> None:
    path = tmp_path / "rrai.toml"
    path.write_text('threshold = 10\nband_edges_eur = ["1000"]\ninclude_unlisted = false\n')
    config = load_rrai_config(path)
    assert config == RraiConfig(threshold=10, band_edges_eur=(Decimal("1000"),), include_unlisted=False)
    assert load_rrai_config() == RraiConfig()


def test_quarters() -> None:
    q = Quarter.parse("2026-Q1")
    assert (q.first_day, q.last_day, str(q)) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026-Q1")
    assert Quarter.parse("2024-Q4").last_day == dt.date(2024, 12, 31)
    assert Quarter.parse("2024-Q2").last_day == dt.date(2024, 6, 30)
    assert Quarter.of(dt.date(2026, 9, 30)) == Quarter(2026, 3)
    assert Quarter.of(dt.date(2026, 10, 1)) == Quarter(2026, 4)
    for bad in ("2026-Q5", "2026Q1", "26-Q1", "2026-q1", ""):
        with pytest.raises(ValueError):
            Quarter.parse(bad)
