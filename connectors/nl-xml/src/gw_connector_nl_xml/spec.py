"""Fixed facts of the export format: namespace, root and record elements, local time zone, XSD resource."""

from __future__ import annotations

from importlib.resources import files
from typing import Final
from zoneinfo import ZoneInfo

NS: Final = "urn:nl:ind:terugkeer:dossier:v1"
"""Target namespace of the XSD; every element of the export is in it."""

ROOT: Final = "DossierExport"
"""Local name of the export's root element."""

RECORD: Final = "Gebeurtenis"
"""Local name of the record element: one event of one case."""

LOCAL_TZ: Final = ZoneInfo("Europe/Amsterdam")
"""Time zone of every ``LokaalTijdstip`` (date-times are written as local time without offset)."""

XSD_RESOURCE: Final = "xsd/nl-vreemdelingendossier-v1.xsd"
"""The XSD inside this package; ``schemas/xsd/`` in the repository holds the published copy."""

CLARK: Final = "{" + NS + "}"
"""Prefix of a namespaced tag in lxml's Clark notation (``{urn:...}Local``)."""


def xsd_bytes() -> bytes:
    """The XSD shipped with the package."""
    return files("gw_connector_nl_xml").joinpath(XSD_RESOURCE).read_bytes()
