"""The gateway's wheel carries the canonical schemas: an installed package needs no source checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gateway.codec.schemas import SCHEMA_DIR

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of the files the wheel is made of: a build/ folder left in the checkout by an earlier
    # build would otherwise be reused, and a wheel could pass on stale files.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("gateway", "schemas"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "_schemas"))
    out = tmp_path_factory.mktemp("wheel")
    # Build isolation fetches the build backend from the package index (setuptools, as pyproject.toml pins).
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        timeout=240,
    )
    (built,) = out.glob("returns_gateway-*.whl")
    return built


def test_wheel_carries_every_schema_and_snapshot(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("avro", "history", "xsd", "json"):
        # Subfolders too: state, alert and outbox schemas, every released snapshot, the EU message XSDs.
        files = [p for p in (ROOT / "schemas" / folder).rglob("*") if p.is_file()]
        assert files, folder
        for source in files:
            assert f"gateway/_schemas/{source.relative_to(ROOT / 'schemas').as_posix()}" in names


def test_installed_wheel_reads_its_own_schemas(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S skips site-packages' .pth files, so the editable install of this checkout cannot answer the import;
    # the dependencies are put on the path after the unpacked wheel.
    deps = sysconfig.get_paths()["purelib"]
    probe = (
        "from gateway.codec.schemas import SCHEMA_DIR, load_root, read_named_types\n"
        "from gateway.evolution.history import load_history\n"
        "print(SCHEMA_DIR)\n"
        "print(len(read_named_types()), load_root()['name'], len(load_history()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env={"PYTHONPATH": f"{site}:{deps}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    where, counts = done.stdout.splitlines()
    assert Path(where) == site / "gateway" / "_schemas" / "avro"
    types, root, snapshots = counts.split()
    assert int(types) == len(list(SCHEMA_DIR.glob("*.avsc")))
    assert root == "eu.returns.gateway.v1.CaseEvent"
    assert int(snapshots) >= 1


def test_source_checkout_reads_the_repository_schemas() -> None:
    assert SCHEMA_DIR == ROOT / "schemas" / "avro"
