"""Messages a national operator can act on: encodings, parser limits, negative amounts; and entities stay off."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from gw_connector_nl_xml import NlXmlConnector
from gw_connector_nl_xml.parser import MAX_DEPTH, MAX_TEXT, safe_parser
from gw_connector_nl_xml.spec import NS
from lxml import etree

from gateway.connectors.base import RawRecord, SampleRecord
from gateway.errors import ParseError, RecordError, XsdValidationError
from gateway.events import models as m
from gateway.testing.conformance import identity_context

Make = Callable[..., NlXmlConnector]
ROOT = f'<DossierExport xmlns="{NS}" versie="1">'.encode()
STATUS = (
    f'<Gebeurtenis xmlns="{NS}"><Zaaknummer>NL-2025-0000001</Zaaknummer><VNummer>1234567890</VNummer>'
    "<Tijdstip>2025-03-05T10:15:00</Tijdstip><Statuswijziging><Besluitnummer>RD-NL-0000001</Besluitnummer>"
    "<Status>GESCHORST</Status><Ingangsdatum>2025-03-05</Ingangsdatum>"
    "<Toelichting>Beroep van de heer José Müller</Toelichting></Statuswijziging></Gebeurtenis>"
)


def export(record: bytes, declaration: bytes = b'<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return declaration + b"\n" + ROOT + b"\n" + record + b"\n</DossierExport>\n"


def translate(connector: NlXmlConnector, data: bytes) -> list[m.CaseEvent | str]:
    """Each record's events, or its error message."""
    out: list[m.CaseEvent | str] = []
    ctx = identity_context(connector)
    for record in connector.read(io.BytesIO(data), "t.xml"):
        try:
            out.extend(connector.translate(record, ctx))
        except RecordError as exc:
            out.append(str(exc))
    return out


# ---- encodings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "codec"), [("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252")])
def test_a_file_declaring_a_latin_encoding_simply_works(connector: NlXmlConnector, name: str, codec: str) -> None:
    data = export(STATUS.encode(codec), f'<?xml version="1.0" encoding="{name}"?>'.encode())
    (event,) = translate(connector, data)
    assert isinstance(event, m.CaseEvent)
    assert isinstance(event.payload, m.ReturnDecisionStatusChanged)
    assert event.payload.reason_text == "Beroep van de heer José Müller"


def test_latin1_bytes_in_a_file_declared_utf8_name_both_encodings(connector: NlXmlConnector) -> None:
    (message,) = translate(connector, export(STATUS.encode("latin-1")))
    assert message == (
        "the file declares UTF-8, but byte 0xE9 at line 1, column 324 of the record is not UTF-8; the file looks "
        "ISO-8859-1/Windows-1252 encoded (read so, the text there is 'José'): export it as UTF-8, or declare "
        'encoding="ISO-8859-1" in its XML declaration'
    )


def test_windows_1252_punctuation_in_a_file_without_declaration(connector: NlXmlConnector) -> None:
    record = STATUS.replace("heer", "heer \N{EURO SIGN}").encode("cp1252")
    (message,) = translate(connector, ROOT + record + b"</DossierExport>")
    assert isinstance(message, str)
    assert message.startswith("the file has no encoding declaration, so it is read as UTF-8, but byte 0x80 at")
    assert "looks Windows-1252 encoded (read so, the text there is '€')" in message


def test_a_latin1_record_alone_from_a_topic(connector: NlXmlConnector) -> None:
    data = STATUS.encode("latin-1")
    alone = connector.from_message(data, "raw", "raw/0/7", 7)
    with pytest.raises(ParseError, match=r"^the record has no encoding declaration, so it is read as UTF-8, but byte"):
        connector.parse(alone)
    # Replayed from a dead letter of an ISO-8859-1 export, it carries that file's encoding and reads as it did.
    replayed = connector.from_message(data, "raw", "raw/0/7", 7, {"gw.source.encoding": b"latin-1"})
    (fact,) = connector.map(connector.parse(replayed))
    assert isinstance(fact.payload, m.ReturnDecisionStatusChanged)
    assert fact.payload.reason_text == "Beroep van de heer José Müller"


# ---- parser limits ---------------------------------------------------------------------------------------------


def nested(sample: bytes, depth: int) -> bytes:
    return sample.replace(b"</Tijdstip>", b"</Tijdstip>" + b"<a>" * depth + b"</a>" * depth, 1)


def test_deep_nesting_names_the_limit(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    (message,) = translate(connector, export(nested(samples[0].data, 1000)))
    assert message == (
        f"elements nested deeper than {MAX_DEPTH} levels (the parser's fixed limit for untrusted input; no setting "
        "raises it; a Gebeurtenis nests 5), line 1"
    )
    # Below the limit the XSD judges the stray element, as for any other.
    (message,) = translate(connector, export(nested(samples[0].data, MAX_DEPTH - 10)))
    assert isinstance(message, str)
    assert message.startswith("XSD validation failed: /Gebeurtenis/a: ")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda r: r.replace(b"<Zaaknummer>", b"<Zaaknummer>" + b"x" * (MAX_TEXT + 1), 1),
            f"a text longer than {MAX_TEXT} bytes (the parser's fixed limit for untrusted input; no setting raises "
            "it; no field of the XSD allows over 1000), line 1",
        ),
        (
            lambda r: r.replace(b"</Zaaknummer>", b"</Zaaknummer><!--" + b"x" * (MAX_TEXT + 1) + b"-->", 1),
            f"a comment longer than {MAX_TEXT} bytes",
        ),
    ],
    ids=["text", "comment"],
)
def test_a_huge_node_in_a_record_allowed_that_long_names_the_limit(
    make: Make, samples: list[SampleRecord], damage: Callable[[bytes], bytes], expected: str
) -> None:
    # Only reachable when max_record_bytes is set above libxml2's limit: the parser keeps it all the same.
    c = make(max_record_bytes=16 << 20)
    (message,) = translate(c, export(damage(samples[0].data)))
    assert isinstance(message, str)
    assert message.startswith(expected), message
    assert "XML_PARSE_HUGE" not in message


# ---- entities and the network stay off ---------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback port that records every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                seen.append(conn.recv(200))

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_the_parser_itself_expands_no_entity_and_reaches_no_network(listener: tuple[int, list[bytes]]) -> None:
    # The connector refuses a DOCTYPE before parsing; this shows the parser under it would be safe on its own.
    port, seen = listener
    doc = (
        f'<!DOCTYPE r [<!ENTITY lol "lol"><!ENTITY file SYSTEM "file:///etc/passwd">'
        f'<!ENTITY web SYSTEM "http://127.0.0.1:{port}/e">]><r>&lol;&file;&web;</r>'
    ).encode()
    root = etree.fromstring(doc, safe_parser())
    # The references stay references: nothing expanded, no file read, no request made.
    assert root.text is None
    assert [type(child) for child in root] == [etree._Entity] * 3
    assert etree.tostring(root) == b"<r>&lol;&file;&web;</r>"
    # Nested entities (billion laughs) are refused by libxml2's amplification guard before any expansion.
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    with pytest.raises(etree.XMLSyntaxError, match="amplification"):
        etree.fromstring(f'<!DOCTYPE r [<!ENTITY l0 "lol">{laughs}]><r>&l9;</r>'.encode(), safe_parser())
    for external in (
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p"> %p;]><r/>',
        f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/d.dtd"><r/>',
    ):
        with pytest.raises(etree.XMLSyntaxError, match="Attempt to load network entity"):
            etree.fromstring(external.encode(), safe_parser())
    assert seen == []  # no request reached the port


def test_a_doctype_is_refused_before_the_parser_sees_it(connector: NlXmlConnector) -> None:
    record = RawRecord(b'<!DOCTYPE r [<!ENTITY a "b">]><Gebeurtenis/>', "t", "record 0 at byte 0")
    with pytest.raises(ParseError, match="DOCTYPE and entity declarations are not allowed"):
        connector.parse(record)


# ---- amounts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("-200.00", "'-200.00' is negative; amounts are written without a sign"),
        ("-200,00", "'-200,00' is negative; amounts are written without a sign"),
        ("1.234,50", "'1.234,50' is not an amount like 1234.50 (decimal point, exactly two decimals"),
    ],
)
def test_an_amount_the_xsd_refuses_is_explained(
    connector: NlXmlConnector, samples: list[SampleRecord], amount: str, expected: str
) -> None:
    sample = next(s for s in samples if b"<Bedrag>" in s.data)
    start = sample.data.index(b"<Bedrag>") + len(b"<Bedrag>")
    bad = sample.data[:start] + amount.encode() + sample.data[sample.data.index(b"</Bedrag>", start) :]
    with pytest.raises(XsdValidationError) as info:
        connector.parse(RawRecord(bad, "t", "record 0 at byte 0"))
    message = str(info.value)
    assert message.startswith("XSD validation failed: /Gebeurtenis/")
    assert f"/Bedrag: {expected}" in message
    assert message.count("Bedrag") == 1, "the pattern and the type error are one message"
