"""The French code lists as typed, two-way tables, built once from the declarative ``codes.toml``.

``codes.toml`` is loaded with ``CodeTables.from_package``. Each table becomes a ``CodeList`` that maps a national
code to its canonical enum member (``canonical``, used by the mapper) and back (``national``, built with
``CodeTables.reverse`` and used by the renderer, so that rendering is the inverse of mapping). Building the lists
checks every symbol against its canonical enum, so a typo in the data fails at start-up instead of turning every
record into a dead letter.
"""

from __future__ import annotations

from gateway.connectors.codes import StandardCodes

PACKAGE = "gw_connector_fr_jsonl"


class Codes(StandardCodes):
    """All code lists of the format, from the package's ``codes.toml``."""

    @classmethod
    def load(cls) -> Codes:
        """The code lists shipped with the package."""
        return cls.from_package(PACKAGE)
