"""Every ``gw.*`` header the code writes is documented in the README's header table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEADER = re.compile(r"""["'](gw\.[a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")


def test_every_gw_header_is_in_the_readme_table() -> None:
    written = {m for path in (ROOT / "gateway").rglob("*.py") for m in HEADER.findall(path.read_text("utf-8"))}
    assert "gw.replay.from" in written  # the pattern finds the headers at all
    table = {
        m
        for line in (ROOT / "README.md").read_text("utf-8").splitlines()
        if line.startswith("| `gw.")
        for m in re.findall(r"`(gw\.[a-z0-9_.]+)`", line)
    }
    assert sorted(written - table) == []
