"""AVRR updates as XML under ``schemas/xsd/eurodac-avrr-v1.xsd``, validated before they leave (pure).

Only what the XSD models is written, field by field from the update (a whitelist): no identity data, no programme
reference, no subject key. Every document is validated against the XSD, compiled once; one that does not validate
is refused with the reason, never sent and never raised: bad data is a value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lxml import etree

from gateway.adapters._xml import compile_xsd, describe
from gateway.adapters.eurodac.config import EurodacConfig
from gateway.adapters.eurodac.update import EurodacUpdate

NS = "urn:eu:returns:gateway:eurodac-avrr:v1"
XSD_NAME = "eurodac-avrr-v1.xsd"
_Q = f"{{{NS}}}"


@dataclass(frozen=True, slots=True)
class Rendered:
    """An update as an XSD-valid document.

    Attributes:
        kind: ``AVRR_GRANTED`` or ``AVRR_WITHDRAWN``.
        update_id: The update's stable id.
        xml: The document, UTF-8 with an XML declaration.
    """

    kind: str
    update_id: str
    xml: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """An update that cannot be written as a valid document.

    Attributes:
        update_id: The update's stable id.
        reason: What is wrong (the first XSD errors, or text XML cannot hold).
    """

    update_id: str
    reason: str


@functools.cache
def schema() -> etree.XMLSchema:
    """The compiled XSD (compiled once per process)."""
    return compile_xsd(XSD_NAME)


def render(update: EurodacUpdate, config: EurodacConfig) -> Rendered | Refused:
    """Write one update as an XSD-valid document.

    Args:
        update: The update.
        config: Labels and legal basis written into the document.

    Returns:
        The document, or why it cannot be written.
    """
    try:
        root = _document(update, config)
    except ValueError as exc:
        # lxml refuses text XML cannot hold (control characters, NUL): a property of the data, not a bug.
        return Refused(update.update_id, f"not representable in XML: {exc}")
    xsd = schema()
    if not xsd.validate(root):
        return Refused(update.update_id, f"not valid under {XSD_NAME}: {describe(xsd.error_log, NS)}")
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Rendered(update.kind, update.update_id, xml)


def _document(update: EurodacUpdate, config: EurodacConfig) -> etree._Element:
    # The default namespace (prefix None) is what lxml's stubs do not type; the documents read better without one.
    root = etree.Element(_Q + "AvrrUpdate", nsmap={None: NS}, schemaVersion="1")  # type: ignore[dict-item]
    _text(root, "updateId", update.update_id)
    dataset = etree.SubElement(root, _Q + "dataset")
    _text(dataset, "memberStateOfOrigin", update.dataset.member_state)
    _text(dataset, "referenceNumber", update.dataset.reference_number)
    _text(dataset, "category", update.dataset.category)
    _text(dataset, "article", update.dataset.article)
    avrr = etree.SubElement(root, _Q + "avrr", element=config.element_label, point=config.point_label)
    _text(avrr, "granted", "true" if update.granted else "false")
    _text(avrr, "grantingMemberState", update.granting_member_state)
    _text(avrr, "date", update.grant_date.isoformat())
    if update.withdrawn_on is not None:
        _text(avrr, "withdrawnOn", update.withdrawn_on.isoformat())
    _text(root, "legalBasis", config.legal_basis)
    return root


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, _Q + name).text = value
