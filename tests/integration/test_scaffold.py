"""A scaffolded connector, installed into a throwaway environment, ingests its example into the real broker.

``gateway connectors new`` writes the package; a venv made with ``--system-site-packages`` (and a ``.pth`` onto
this project's environment, so the gateway and its dependencies are there without a download) gets it with
``pip install --no-deps --no-build-isolation -e``, offline (or, where the offline setuptools cannot build an
editable wheel, the same by hand: source path and dist-info); the entry point is then all the gateway knows of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

from gateway.codec.codec import EventCodec
from gateway.connectors import discovery
from tests.integration.support.topics import fresh_topics, read_all

pytestmark = pytest.mark.integration

NAME = "lu-csv"


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The throwaway environment's interpreter and the scaffolded package folder, installed editable in it."""
    root = tmp_path_factory.mktemp("scaffold-it")
    package = root / NAME
    made = _run(
        Path(sys.executable), "-m", "gateway.cli.main", "connectors", "new", NAME, "--dir", str(package), cwd=root
    )
    assert made.returncode == 0, made.stderr
    env_dir = root / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).stdout.strip()
    )
    # The project's environment, not the base interpreter, holds the gateway, pip and setuptools.
    # addsitedir, not a bare path, so that its own .pth files (the gateway's editable install) are read too.
    project = sysconfig.get_paths()["purelib"]
    (site / "project-env.pth").write_text(f"import site; site.addsitedir({project!r})\n", encoding="utf-8")
    pip = _run(python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-e", str(package), cwd=root)
    if pip.returncode != 0:
        # Offline, a setuptools older than 70.1 without the `wheel` package cannot build an editable wheel; then
        # make the entry point visible as an editable install would: the source on the path, a dist-info.
        assert "bdist_wheel" in pip.stderr, pip.stdout + pip.stderr
        _install_by_hand(package, site)
    return python, package


def _install_by_hand(package: Path, site: Path) -> None:
    project = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = project["name"], project["version"]
    (site / f"__editable__.{name}.pth").write_text(str(package / "src") + "\n", encoding="utf-8")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) for group, points in groups.items()
        ),
        encoding="utf-8",
    )


def test_the_entry_point_is_visible_only_where_the_package_is_installed(installed: tuple[Path, Path]) -> None:
    python, package = installed
    listed = _run(python, "-m", "gateway.cli.main", "connectors", "list", "--json", cwd=package)
    assert listed.returncode == 0, listed.stderr
    (mine,) = [c for c in json.loads(listed.stdout) if c["name"] == NAME]
    assert (mine["distribution"], mine["error"]) == (f"returns-gateway-connector-{NAME}", None)
    assert NAME not in discovery.installed()  # this process's environment never saw it


def test_the_scaffolded_connector_ingests_its_example_into_the_broker(
    installed: tuple[Path, Path], kafka_bootstrap: str, tmp_path: Path
) -> None:
    python, package = installed
    topics = fresh_topics("scaffold")
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'rules_enabled = false\n[kafka]\nbootstrap_servers = "{kafka_bootstrap}"\n[topics]\n'
        f'canonical = "{topics.canonical}"\ndlq_prefix = "{topics.dlq_prefix}"\nraw_prefix = "{topics.raw_prefix}"\n'
        f'progress = "{topics.progress}"\n',
        encoding="utf-8",
    )
    example = package / "tests" / "golden" / "example.csv"
    ingest = _run(
        python, "-m", "gateway.cli.main", "ingest", "-c", NAME, "--config", str(config), str(example), cwd=package
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr

    expected = json.loads((package / "tests" / "golden" / "example.csv.expected.json").read_text(encoding="utf-8"))
    events = read_all(kafka_bootstrap, topics.canonical)
    dead = read_all(kafka_bootstrap, topics.dlq(NAME))
    records_in = sum(1 for line in example.read_bytes().splitlines()[1:] if line.strip())
    assert records_in == len(events) + len(dead) == expected["records_in"]
    assert (len(events), len(dead)) == (expected["events_out"], expected["dead_letters"])
    decoded = [EventCodec().decode(m.value()) for m in events]
    assert {e.source.connector for e in decoded} == {NAME}
    assert {str(e.member_state) for e in decoded} == {"LU"}  # the connector's own default, not a CLI one
    golden_ids = {e["event_id"] for r in expected["records"] for e in r.get("events", ())}
    assert {str(e.event_id) for e in decoded} == golden_ids
