"""The Dutch code lists as typed, two-way tables, built once from the declarative ``codes.toml``.

``codes.toml`` is loaded with ``CodeTables.from_package``; each table becomes a ``CodeList`` that maps a national
code to the canonical enum member (``canonical``) and back (``national``, built with ``CodeTables.reverse`` so that
rendering is the inverse of mapping). Building them checks every symbol against its canonical enum, so a typo in
the data fails at start-up instead of turning every record into a dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Self

from gateway.connectors.codes import CodeList, CodeTables, StandardCodes
from gateway.events import models as m


@dataclass(frozen=True, slots=True)
class Codes(StandardCodes):
    """All code lists of the format, from the package's ``codes.toml``.

    Attributes:
        avrr_status: ``EurodacTreffer/TerugkeerOndersteuning/Status`` (schema v2). ``StandardCodes`` predates
            the enum, so the list is added here.
    """

    avrr_status: CodeList[m.AvrrStatus]

    @classmethod
    def load(cls) -> Codes:
        """The code lists shipped with the package."""
        return cls.from_package("gw_connector_nl_xml")

    @classmethod
    def from_tables(cls, tables: CodeTables) -> Self:
        """Build every list from loaded code tables.

        Raises:
            ValueError: A table is missing, names an unknown symbol, or is read by no field.
        """
        # StandardCodes refuses tables none of its fields reads, so it gets every table but the one added here.
        standard = StandardCodes.from_tables(CodeTables({k: t for k, t in tables.tables.items() if k != "avrr_status"}))
        return cls(
            **{f.name: getattr(standard, f.name) for f in fields(StandardCodes)},
            avrr_status=CodeList.build(tables, "avrr_status", m.AvrrStatus),
        )
