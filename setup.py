"""Ships the canonical schemas inside the wheel.

``schemas/`` sits at the repository root, beside ``gateway/``, because it is the project's contract rather than
Python code; setuptools can only package files under a package. This hook copies ``schemas/avro``,
``schemas/history``, ``schemas/xsd`` and ``schemas/json`` to ``gateway/_schemas/`` in the build tree, where
``gateway.codec.schemas`` (and the adapters' XSD and JSON Schema lookups) look first. An editable install keeps
reading the source tree, so an edited schema takes effect without a rebuild.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGED = ("avro", "history", "xsd", "json")


class BuildPyWithSchemas(build_py):
    """``build_py`` that also copies the schemas into the package."""

    def run(self) -> None:
        """Build the Python files, then add the schemas (not in editable mode: the source tree is read)."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "gateway" / "_schemas"
        for folder in PACKAGED:
            shutil.copytree(ROOT / "schemas" / folder, target / folder, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithSchemas})
