"""Parse one record with a hardened lxml parser and validate it against the XSD (libxml2, compiled once).

The record's bytes stay as they were read. A record cut from an export file may rely on the namespace bindings of
the root start tag, which the reader passes along as ``RawRecord.context``: such a record is parsed inside that
tag. A record that declares the namespace itself (as this connector renders them, and as a record arriving alone
on a Kafka topic must) is parsed alone, which is cheaper.

Hostile input: the parser resolves no entities, loads no DTD and reaches no network, and keeps libxml2's limits
(``huge_tree=False``: depth 256, 10 MB text nodes). A record holding a DOCTYPE or an entity declaration is refused
before parsing with a reason that says so; an entity reference without a declaration is a syntax error.

Validation errors name the element by a readable path (``/Gebeurtenis/Terugkeerbesluit/Besluitdatum``): libxml2
reports positions (``/*/*[4]/*[2]``), which are resolved against the parsed record. That costs microseconds;
``xmlschema`` would give similar paths but costs about 1.5 ms per failed record (and 0.25 s to compile), which a
sample with many dead letters would feel, so it is not used at run time.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError, XsdValidationError
from gw_connector_nl_xml.spec import CLARK, NS, RECORD, xsd_bytes

_TAG_NAME: Final = re.compile(rb"<([^\s/>]+)")
_STEP: Final = re.compile(r"\*(?:\[(\d+)\])?")
_MAX_REPORTED: Final = 3
_RECORD_TAG: Final = CLARK + RECORD
_SELF_CONTAINED: Final = f'<{RECORD} xmlns="{NS}">'.encode()


def safe_parser() -> etree.XMLParser:
    """An lxml parser that expands no entities, loads no DTD, reaches no network and keeps libxml2's limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def compile_schema() -> etree.XMLSchema:
    """The export's XSD, compiled by libxml2."""
    return etree.XMLSchema(etree.fromstring(xsd_bytes(), safe_parser()))


def parse_record(record: RawRecord, parser: etree.XMLParser, schema: etree.XMLSchema) -> etree._Element:
    """Parse a record and validate it against the XSD's ``Gebeurtenis`` element.

    Raises:
        ParseError: The bytes are not one well-formed ``Gebeurtenis`` element, or hold a DOCTYPE or ENTITY.
        XsdValidationError: The element does not conform to the XSD.
    """
    data = record.data
    if b"<!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise ParseError(
            "DOCTYPE and entity declarations are not allowed in a record (entity expansion, external entities)",
            position=record.position,
        )
    element = _parse(record, parser)
    if element.tag != _RECORD_TAG:
        raise XsdValidationError(f"the record element is {element.tag}, not {_RECORD_TAG}", position=record.position)
    if not schema.validate(element):
        raise XsdValidationError(_describe(schema.error_log, element), position=record.position)
    return element


def _parse(record: RawRecord, parser: etree.XMLParser) -> etree._Element:
    data, context = record.data, record.context
    # A record that declares the namespace itself (as rendered) needs no context: parsing it alone saves the
    # wrapper. Should it still use a prefix bound only on the root, it fails alone and is parsed in context.
    if not context or data.startswith(_SELF_CONTAINED):
        try:
            return etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            if not context:
                raise ParseError(f"malformed XML: {exc}", position=record.position) from exc
    name = _TAG_NAME.match(context)
    if name is None:
        raise ParseError(f"unusable record context {context[:40]!r}", position=record.position)
    try:
        wrapper = etree.fromstring(context + data + b"</" + name.group(1) + b">", parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed XML: {exc}", position=record.position) from exc
    # The reader cuts records from '<' to '>', so anything else around the element means the bytes were not.
    if len(wrapper) != 1 or (wrapper.text or "").strip() or (wrapper[0].tail or "").strip():
        raise ParseError("a record must be exactly one element", position=record.position)
    return wrapper[0]


def _describe(log: etree._ListErrorLog, element: etree._Element) -> str:
    entries = list(log)
    parts = [f"{_readable_path(e.path, element)}: {_short(e.message)}" for e in entries[:_MAX_REPORTED]]
    more = f" (and {len(entries) - _MAX_REPORTED} more)" if len(entries) > _MAX_REPORTED else ""
    return "XSD validation failed: " + "; ".join(parts) + more


def _short(message: str) -> str:
    return message.replace(CLARK, "")


def _readable_path(path: str | None, element: etree._Element) -> str:
    """Turn libxml2's ``/*/*[4]/*[2]`` into ``/Gebeurtenis/Terugkeerbesluit/Besluitdatum``."""
    steps = (path or "/*").split("/")[2:]  # ['', '*', ...]: the first '*' is the record itself
    names, node = [etree.QName(element).localname], element
    for done, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        index = int(match.group(1) or 1) - 1 if match else -1
        if not 0 <= index < len(node):
            return "/" + "/".join(names + steps[done:])
        node = node[index]
        names.append(_step_name(node))
    return "/" + "/".join(names)


def _step_name(node: etree._Element) -> str:
    name = etree.QName(node).localname
    same = [sibling for sibling in node.itersiblings(preceding=True) if sibling.tag == node.tag]
    later = next(node.itersiblings(node.tag), None)
    return f"{name}[{len(same) + 1}]" if same or later is not None else name
