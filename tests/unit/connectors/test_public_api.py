"""The declared API for connector authors (``gateway.connectors.__all__``) cannot change unnoticed.

A change of a name or a signature fails here; if it is deliberate, rewrite the snapshot with
``GATEWAY_UPDATE_API_SNAPSHOT=1 .venv/bin/pytest tests/unit/connectors/test_public_api.py`` and say so in the
change log: connector packages of national teams depend on it.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import gateway.connectors as api

SNAPSHOT = Path(__file__).with_name("public_api.txt")


def _members(cls: type) -> list[str]:
    lines = []
    for name, annotation in sorted(inspect.get_annotations(cls).items()):
        if not name.startswith("_"):
            lines.append(f"    {name}: {annotation}")
    for name, member in sorted(vars(cls).items()):
        if name.startswith("_") and name != "__init__":
            continue
        function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
        if inspect.isfunction(function):
            lines.append(f"    def {name}{inspect.signature(function)}")
    return lines


def describe() -> str:
    """Each public name with its kind and signature, one block per name, in ``__all__`` order sorted."""
    out = []
    for name in sorted(api.__all__):
        obj = getattr(api, name)
        if inspect.isclass(obj):
            bases = ", ".join(b.__qualname__ for b in obj.__bases__)
            out.append(f"class {name}({bases})")
            out.extend(_members(obj))
        elif inspect.isfunction(obj):
            out.append(f"def {name}{inspect.signature(obj)}")
        else:
            out.append(f"{name} = {obj!r}")
    return "\n".join(out) + "\n"


def test_all_names_exist_and_are_documented() -> None:
    for name in api.__all__:
        obj = getattr(api, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"gateway.connectors.{name} has no docstring"


def test_the_public_api_matches_its_snapshot() -> None:
    text = describe()
    if os.environ.get("GATEWAY_UPDATE_API_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "gateway.connectors changed its public API; if deliberate, rewrite the snapshot (see the module docstring)"
    )
