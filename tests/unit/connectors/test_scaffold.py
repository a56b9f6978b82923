"""``gateway connectors new``: the package it writes passes the conformance kit before anyone installs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.main import main
from gateway.connectors import scaffold
from gateway.errors import ConfigError

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scaffold") / "be-csv"
    result = CliRunner().invoke(main, ["connectors", "new", "be-csv", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def _run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(folder / "src"), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": path, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_package_has_its_entry_point_config_codes_example_golden_file_and_kit_test(package: Path) -> None:
    pyproject = (package / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."gateway.connectors"]\nbe-csv = "gw_connector_be_csv:BeCsvConnector"' in pyproject
    src = package / "src" / "gw_connector_be_csv"
    assert "member_state: MemberState = MemberState.BE" in (src / "config.py").read_text(encoding="utf-8")
    assert 'timezone: str = "Europe/Brussels"' in (src / "config.py").read_text(encoding="utf-8")
    assert {p.name for p in src.iterdir()} >= {"__init__.py", "config.py", "connector.py", "codes.toml", "py.typed"}
    assert (package / "tests" / "golden" / "example.csv.expected.json").is_file()
    assert (package / "tests" / "test_conformance.py").is_file()


def test_the_kit_passes_on_the_generated_package_without_installing_it(package: Path) -> None:
    done = _run(package, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed, 2 skipped" in done.stdout
    assert "does not render samples" in done.stdout


def test_the_generated_package_reads_local_times_in_its_zone_and_warns_on_the_repeated_hour(package: Path) -> None:
    expected = (package / "tests" / "golden" / "example.csv.expected.json").read_text(encoding="utf-8")
    assert '"occurred_at": "2025-03-14T09:30:00Z"' in expected  # 10:30 in Brussels, winter time
    assert '"rule_id": "CN-DST-001"' in expected
    assert '"records_in": 6' in expected
    assert '"dead_letters": 2' in expected
    assert '"events_out": 4' in expected


def test_the_generated_package_fails_its_golden_tier_when_read_in_the_wrong_zone(package: Path) -> None:
    code = (
        "from pathlib import Path\n"
        "from gw_connector_be_csv import BeCsvConnector as C\n"
        "from gateway.testing.conformance import assert_golden\n"
        "assert_golden(C(C.config_model(timezone='Europe/London')), Path('tests/golden'))\n"
    )
    done = _run(package, "-c", code)
    assert done.returncode != 0
    assert "no longer translates to its expected events" in done.stderr


def test_the_generated_code_is_clean_under_the_house_ruff_rules(package: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    config = str(ROOT / "pyproject.toml")
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [ruff, *args, "--config", config, str(package)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_names_follow_the_connector_name_and_the_member_state_is_required_when_it_cannot_be_told() -> None:
    names = scaffold.Names.of("be-csv")
    assert (names.package, names.cls, names.member_state, names.timezone) == (
        "gw_connector_be_csv",
        "BeCsvConnector",
        "BE",
        "Europe/Brussels",
    )
    assert scaffold.Names.of("acme-xml", member_state="at").timezone == "Europe/Vienna"
    with pytest.raises(ConfigError, match="--member-state"):
        scaffold.Names.of("acme-xml")
    with pytest.raises(ConfigError, match="lower-case words"):
        scaffold.Names.of("Be_CSV")


def test_the_scaffold_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty"):
        scaffold.write(scaffold.Names.of("be-csv"), tmp_path)
