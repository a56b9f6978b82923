"""`bench/ingest.py --baseline`: the other tree's code must be what runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _ingest() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the bench imports its sibling scripts (ceiling, quix_app) by name
    try:
        spec = importlib.util.spec_from_file_location("bench_ingest", BENCH / "ingest.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def _tree(root: Path, *, with_gateway: bool) -> Path:
    if with_gateway:
        (root / "gateway").mkdir(parents=True)
        (root / "gateway" / "__init__.py").write_text("")
    package = root / "connectors" / "de-csv" / "src" / "gw_connector_de_csv"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    return root


def test_a_tree_whose_code_is_imported_passes(tmp_path: Path) -> None:
    _ingest().check_tree(_tree(tmp_path, with_gateway=True), "de-csv")


def test_a_tree_without_its_own_gateway_is_refused(tmp_path: Path) -> None:
    # The installed gateway (this checkout) would run instead: the mistake the check exists for.
    with pytest.raises(SystemExit, match=r"gateway/__init__.py is imported from outside the tree"):
        _ingest().check_tree(_tree(tmp_path, with_gateway=False), "de-csv")


def test_the_gateway_command_does_not_put_the_working_directory_first(tmp_path: Path) -> None:
    command = _ingest().gateway_command("de-csv", tmp_path)(tmp_path / "c.toml", None, "g", "i")
    assert command[command.index("-m") - 1] == "-P"
