"""The Dutch code lists as typed, two-way tables, built once from the declarative ``codes.toml``.

``codes.toml`` is loaded with ``CodeTables.from_package``; each table becomes a ``CodeList`` that maps a national
code to the canonical enum member (``canonical``) and back (``national``, built with ``CodeTables.reverse`` so that
rendering is the inverse of mapping). Building them checks every symbol against its canonical enum, so a typo in
the data fails at start-up instead of turning every record into a dead letter.
"""

from __future__ import annotations

from gateway.connectors.codes import StandardCodes


class Codes(StandardCodes):
    """All code lists of the format, from the package's ``codes.toml``."""

    @classmethod
    def load(cls) -> Codes:
        """The code lists shipped with the package."""
        return cls.from_package("gw_connector_nl_xml")
