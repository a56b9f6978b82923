"""Declarative code tables: national codes to canonical enum symbols, shipped as data with a connector.

A table file is TOML with one table per code list::

    [legal_ground]
    ONRECHTMATIG_VERBLIJF = "ILLEGAL_STAY"
    AFWIJZING_ASIEL = "REJECTED_APPLICATION"

so a national team extends a mapping by editing data, not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from gateway.errors import MappingError


@dataclass(frozen=True, slots=True)
class CodeTables:
    """Code lists of one connector.

    Attributes:
        tables: List name -> national code -> canonical symbol.
    """

    tables: Mapping[str, Mapping[str, str]]

    @classmethod
    def from_toml(cls, text: str) -> CodeTables:
        """Load tables from TOML text."""
        raw = tomllib.loads(text)
        tables: dict[str, dict[str, str]] = {}
        for name, table in raw.items():
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise ValueError(f"code table {name!r} must map codes to strings")
            tables[name] = {str(k): v for k, v in table.items()}
        return cls(tables)

    @classmethod
    def from_file(cls, path: Path) -> CodeTables:
        """Load tables from a TOML file."""
        return cls.from_toml(path.read_text(encoding="utf-8"))

    @classmethod
    def from_package(cls, package: str, resource: str = "codes.toml") -> CodeTables:
        """Load tables shipped inside a connector package."""
        return cls.from_toml(files(package).joinpath(resource).read_text(encoding="utf-8"))

    def lookup(self, table: str, code: str, *, field: str) -> str:
        """The canonical symbol for a national code; raise ``MappingError`` naming the field if unknown."""
        try:
            return self.tables[table][code]
        except KeyError:
            raise MappingError(f"unknown {table} code {code!r} in {field}") from None

    def reverse(self, table: str) -> dict[str, str]:
        """Canonical symbol -> first national code that maps to it (for rendering samples)."""
        out: dict[str, str] = {}
        for code, symbol in self.tables[table].items():
            out.setdefault(symbol, code)
        return out
