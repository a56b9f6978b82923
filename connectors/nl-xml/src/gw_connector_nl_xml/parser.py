"""Parse one record with a hardened lxml parser and validate it against the XSD (libxml2, compiled once).

The record's bytes stay as they were read. A record cut from an export file may rely on the namespace bindings of
the root start tag, which the reader passes along as ``RawRecord.context``: such a record is parsed inside that
tag. A record that declares the namespace itself (as this connector renders them, and as a record arriving alone
on a Kafka topic must) is parsed alone, which is cheaper.

Hostile input: the parser resolves no entities, loads no DTD and reaches no network, and keeps libxml2's limits
(``huge_tree=False``: depth 256, 10 MB text nodes). A record holding a DOCTYPE or an entity declaration is refused
before parsing with a reason that says so; an entity reference without a declaration is a syntax error. A limit
hit is reported as the limit (``LIMITS``), not as libxml2's advice to switch it off, which this connector never
takes for untrusted input; bytes that are not in the file's encoding are reported by ``charsets.undecodable``.

A record is parsed in its file's encoding (``RawRecord.encoding``, set by the reader from the XML declaration):
``parsers`` makes one parser for each supported encoding.

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
from gw_connector_nl_xml.charsets import SUPPORTED, UTF8, declared, lookup, undecodable
from gw_connector_nl_xml.spec import CLARK, NS, RECORD, xsd_bytes
from gw_connector_nl_xml.values import parse_amount

_TAG_NAME: Final = re.compile(rb"<([^\s/>]+)")
_STEP: Final = re.compile(r"\*(?:\[(\d+)\])?")
_MAX_REPORTED: Final = 3
_RECORD_TAG: Final = CLARK + RECORD
_SELF_CONTAINED: Final = f'<{RECORD} xmlns="{NS}">'.encode()
_AMOUNTS: Final = frozenset({"Bedrag"})  # elements of the XSD type Bedrag
_FIXED: Final = "the parser's fixed limit for untrusted input; no setting raises it"

MAX_DEPTH: Final = 256
"""libxml2's nesting limit without XML_PARSE_HUGE (a record nests 5 levels deep)."""

MAX_TEXT: Final = 10_000_000
"""libxml2's limit on one text node, attribute value, comment, CDATA section or processing instruction."""

LIMITS: Final = {
    "Excessive depth in document": f"elements nested deeper than {MAX_DEPTH} levels ({_FIXED}; a {RECORD} nests 5)",
    "Text node too long": f"a text longer than {MAX_TEXT} bytes ({_FIXED}; no field of the XSD allows over 1000)",
    "Buffer size limit exceeded": (
        f"an attribute value, CDATA section or processing instruction longer than {MAX_TEXT} bytes ({_FIXED})"
    ),
    "Comment too big": f"a comment longer than {MAX_TEXT} bytes ({_FIXED})",
    "Name too long": f"an element or attribute name longer than 50000 characters ({_FIXED})",
}
"""libxml2's message for a limit hit (its start) -> what the operator is told instead."""


def safe_parser(encoding: str | None = None) -> etree.XMLParser:
    """An lxml parser that expands no entities, loads no DTD, reaches no network and keeps libxml2's limits.

    Args:
        encoding: The encoding to read bytes in, whatever they declare (a record cut from a file declares
            nothing); None reads them as XML says: by their declaration, else UTF-8.
    """
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parsers() -> dict[str, etree.XMLParser]:
    """A safe parser for each supported encoding, by its Python codec (``RawRecord.encoding``)."""
    return {codec: safe_parser(None if e == UTF8 else e.label) for codec, e in SUPPORTED.items()}


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
                raise ParseError(_syntax_message(exc, record), position=record.position) from exc
    # The context may open with the file's XML declaration; the root start tag follows it.
    name = _TAG_NAME.match(context, context.find(b"?>") + 2 if context.startswith(b"<?") else 0)
    if name is None:
        raise ParseError(f"unusable record context {context[:40]!r}", position=record.position)
    try:
        wrapper = etree.fromstring(context + data + b"</" + name.group(1) + b">", parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(_syntax_message(exc, record), position=record.position) from exc
    # The reader cuts records from '<' to '>', so anything else around the element means the bytes were not.
    if len(wrapper) != 1 or (wrapper.text or "").strip() or (wrapper[0].tail or "").strip():
        raise ParseError("a record must be exactly one element", position=record.position)
    return wrapper[0]


def _syntax_message(exc: etree.XMLSyntaxError, record: RawRecord) -> str:
    """libxml2's complaint in an operator's words where it has better ones: a limit hit, bytes not in the encoding."""
    text = str(exc)
    if exc.code == etree.ErrorTypes.ERR_INVALID_ENCODING:  # type: ignore[attr-defined]
        encoding = lookup(record.encoding) or UTF8
        # A record cut from a file carries the file's declaration in its context; a record alone from a topic
        # has only the encoding its dead letter kept, which some declaration named.
        from_file = bool(record.context)
        said = declared(record.context) is not None if from_file else encoding != UTF8
        described = undecodable(record.data, encoding, declared=said, what="file" if from_file else "record")
        if described is not None:
            return described
    for start, meaning in LIMITS.items():
        if start in text:
            return f"{meaning}, line {exc.lineno}"
    return f"malformed XML: {text}"


def _describe(log: etree._ListErrorLog, element: etree._Element) -> str:
    # An amount fails two facets (pattern, then the type): both become one message.
    parts = list(dict.fromkeys(_explain(e, element) for e in log))
    more = f" (and {len(parts) - _MAX_REPORTED} more)" if len(parts) > _MAX_REPORTED else ""
    return "XSD validation failed: " + "; ".join(parts[:_MAX_REPORTED]) + more


def _explain(entry: etree._LogEntry, element: etree._Element) -> str:
    """One validation error: the field's readable path and what is wrong, in the format's terms where known."""
    path, node = _resolve(entry.path, element)
    if node is not None and etree.QName(node).localname in _AMOUNTS:
        try:
            parse_amount((node.text or "").strip(), path)
        except ValueError as exc:  # negative, decimal comma, thousands separator: say which
            return str(exc)
    return f"{path}: {_short(entry.message)}"


def _short(message: str) -> str:
    return message.replace(CLARK, "")


def _resolve(path: str | None, element: etree._Element) -> tuple[str, etree._Element | None]:
    """Turn libxml2's ``/*/*[4]/*[2]`` into ``/Gebeurtenis/Terugkeerbesluit/Besluitdatum`` and that element.

    The element is None when the path leads nowhere in the record (it is then shown as libxml2 gave it).
    """
    steps = (path or "/*").split("/")[2:]  # ['', '*', ...]: the first '*' is the record itself
    names, node = [etree.QName(element).localname], element
    for done, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        index = int(match.group(1) or 1) - 1 if match else -1
        if not 0 <= index < len(node):
            return "/" + "/".join(names + steps[done:]), None
        node = node[index]
        names.append(_step_name(node))
    return "/" + "/".join(names), node


def _step_name(node: etree._Element) -> str:
    name = etree.QName(node).localname
    same = [sibling for sibling in node.itersiblings(preceding=True) if sibling.tag == node.tag]
    later = next(node.itersiblings(node.tag), None)
    return f"{name}[{len(same) + 1}]" if same or later is not None else name
