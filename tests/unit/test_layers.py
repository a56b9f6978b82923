"""Dependencies point one way, and a production deployment never loads the tooling.

The layering itself is import-linter's contracts in pyproject.toml (`make lint` runs ``lint-imports``); these tests
show the check bites, and that the runtime entry points leave the tooling unimported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (make bootstrap)")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package and its contracts, to inject imports into."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "gateway", root / "gateway", ignore=shutil.ignore_patterns("__pycache__", "*.avsc", "data"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def _inject(tree: Path, module: str, source: str) -> Path:
    path = tree.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_the_contracts_hold_on_the_package():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        # A dead letter's headers reaching up into the pipeline (the old dlq.headers -> pipeline.outcome).
        ("gateway.dlq._upward", "from gateway.pipeline.outcome import Outcome\n", "Layers"),
        ("gateway.events._upward", "import gateway.codec.schemas\n", "Layers"),
        ("gateway.adapters.sis._peer", "import gateway.adapters.eurodac\n", "never import each other"),
        ("gateway.pipeline._kit", "def f() -> None:\n    import gateway.testing.examples\n", "never imports tooling"),
        ("gateway.state._docker", "import testcontainers\n", "never imports tooling"),
    ],
)
def test_an_upward_or_forbidden_import_breaks_the_lint(tree: Path, module: str, source: str, contract: str):
    injected = _inject(tree, module, source)
    try:
        result = _lint(tree)
    finally:
        injected.unlink()
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert module in broken


RUNTIME_ENTRY_POINTS = [
    "gateway.cli.main",
    "gateway.cli.ingest",
    "gateway.cli.detect",
    "gateway.cli.outbound",
    "gateway.cli.deliver",
    "gateway.pipeline.file_ingest",
    "gateway.pipeline.dropdir",
    "gateway.pipeline.service",
    "gateway.detect.service",
    "gateway.outbound.service",
    "gateway.delivery.worker",
]
TOOLING = (
    "gateway.testing",
    "gateway.samples",
    "gateway.evolution",
    "gateway.devservices.local_",
    "testcontainers",
    "hypothesis",
)


def test_the_runtime_entry_points_do_not_load_the_tooling():
    probe = (
        "import importlib, json, sys\n"
        f"for m in {RUNTIME_ENTRY_POINTS!r}: importlib.import_module(m)\n"
        "from gateway.cli.main import main\n"
        "for name in ('ingest', 'run', 'watch', 'detect', 'outbound', 'deliver'): main.get_command(None, name)\n"
        # What the services build when they start: their codecs, with the released schemas kept readable.
        "from gateway.config import GatewaySettings\n"
        "from gateway.detect.service import default_codecs as detector\n"
        "from gateway.outbound.service import default_codecs as outbound\n"
        "from gateway.delivery.receipts import receipt_codec\n"
        "detector(GatewaySettings()); outbound(GatewaySettings()); receipt_codec()\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({TOOLING!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []
