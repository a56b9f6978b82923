"""Parsing one record: hardened parser, XSD validation with readable messages, records alone or in context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gw_connector_nl_xml import NlXmlConnector
from gw_connector_nl_xml.spec import NS, xsd_bytes
from lxml import etree

from gateway.connectors.base import RawRecord, SampleRecord
from gateway.errors import ParseError, XsdValidationError

REPO = Path(__file__).resolve().parents[3]
CONTEXT = f'<DossierExport xmlns="{NS}" versie="1">'.encode()


def record(data: bytes, context: bytes = CONTEXT) -> RawRecord:
    return RawRecord(data=data, source="t", position="record 7 at byte 99", context=context)


def test_published_xsd_is_the_packaged_one() -> None:
    assert (REPO / "schemas/xsd/nl-vreemdelingendossier-v1.xsd").read_bytes() == xsd_bytes()


def test_a_whole_sample_export_is_valid_under_the_xsd(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    import io

    out = io.BytesIO()
    connector.write_export(out, [s.data for s in samples])
    schema = etree.XMLSchema(etree.fromstring(xsd_bytes()))
    doc = etree.fromstring(out.getvalue())
    assert schema.validate(doc), schema.error_log


def test_record_parses_alone_and_in_context(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    for s in samples[:10]:
        alone = connector.parse(record(s.data, context=b""))
        inside = connector.parse(record(s.data))
        assert etree.tostring(alone) == etree.tostring(inside)
        assert connector.map(alone) == list(s.facts)


def test_record_without_namespace_is_refused_clearly(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    plain = re.sub(rb' xmlns="[^"]+"', b"", samples[0].data)
    with pytest.raises(XsdValidationError, match=r"record element is Gebeurtenis, not \{urn:nl:ind"):
        connector.parse(record(plain, context=b""))


def test_malformed_xml_says_where(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    bad = samples[0].data.replace(b"</Zaaknummer>", b"</Zaaknumer>")
    with pytest.raises(ParseError, match="malformed XML: Opening and ending tag mismatch: Zaaknummer") as info:
        connector.parse(record(bad))
    assert info.value.position == "record 7 at byte 99"
    assert type(info.value) is ParseError


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            rb"<VNummer>\d+</VNummer>",
            b"",
            r"/Gebeurtenis/Tijdstip: Element 'Tijdstip': This element is not expected\. "
            r"Expected is \( VNummer \)",
        ),
        (rb"<VNummer>\d+</VNummer>", b"<VNummer>12345</VNummer>", r"/Gebeurtenis/VNummer: .*pattern '\[0-9\]\{10\}'"),
        (
            rb"<Besluitdatum>[^<]+</Besluitdatum>",
            b"<Besluitdatum>2025-02-30</Besluitdatum>",
            r"/Gebeurtenis/Terugkeerbesluit/Besluitdatum: .*'2025-02-30' is not a valid value of the atomic type "
            r"'Datum'",
        ),
        (
            rb"<Geslachtsnaam>",
            b"<Geslachtsnaam>" + b"X" * 120,
            r"/Gebeurtenis/Terugkeerbesluit/Persoon/Geslachtsnaam: "
            r".*\[facet 'maxLength'\] The value has a length of '1\d\d'; this exceeds the allowed maximum length of "
            r"'100'",
        ),
        (
            rb"<Toegekend>J</Toegekend>",
            b"<Toegekend>ja</Toegekend>",
            r"VertrekTermijn/Toegekend: .*'ja' is not an "
            r"element of the set \{'J', 'N'\}",
        ),
        (
            rb"</Tijdstip>",
            b"</Tijdstip><Opmerking>x</Opmerking>",
            r"/Gebeurtenis/Opmerking: Element 'Opmerking': This "
            r"element is not expected",
        ),
    ],
)
def test_xsd_errors_name_the_field(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord], old: bytes, new: bytes, message: str
) -> None:
    data = re.sub(old, new, by_type["ReturnDecisionIssued"].data, count=1)
    with pytest.raises(XsdValidationError, match=message):
        connector.parse(record(data))


def test_repeated_elements_are_numbered_in_paths(connector: NlXmlConnector, by_type: dict[str, SampleRecord]) -> None:
    data = by_type["AssistanceApplied"].data
    parts = data.split(b"<Onderdeel>")
    parts[2] = parts[2].replace(b"<Vorm>", b"<Vorm>x", 1)
    with pytest.raises(XsdValidationError, match=r"/Gebeurtenis/OndersteuningAanvraag/Onderdeel\[2\]/Vorm: "):
        connector.parse(record(b"<Onderdeel>".join(parts)))


def test_many_xsd_errors_are_summarised(connector: NlXmlConnector, by_type: dict[str, SampleRecord]) -> None:
    data = re.sub(rb"<Geslacht>\w</Geslacht>", b"", by_type["ReturnDecisionIssued"].data)
    data = re.sub(rb">(\d{4})-(\d\d)-(\d\d)<", rb">\1-\2-99<", data)
    with pytest.raises(XsdValidationError, match=r"\(and \d+ more\)$"):
        connector.parse(record(data))


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE g [<!ENTITY e "x">]><Gebeurtenis xmlns="urn:nl:ind:terugkeer:dossier:v1"/>',
        b'<Gebeurtenis><!ENTITY e "x"></Gebeurtenis>',
    ],
)
def test_doctype_and_entities_in_a_record_are_refused(connector: NlXmlConnector, data: bytes) -> None:
    for context in (b"", CONTEXT):
        with pytest.raises(ParseError, match="DOCTYPE and entity declarations are not allowed"):
            connector.parse(record(data, context))


def test_undeclared_entity_is_a_syntax_error(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    data = samples[0].data.replace(b"</Zaaknummer>", b"&xxe;</Zaaknummer>")
    with pytest.raises(ParseError, match="Entity 'xxe' not defined"):
        connector.parse(record(data))


def test_text_around_the_record_is_refused(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    for data in (b"x" + samples[0].data, samples[0].data + b"x", samples[0].data + samples[1].data):
        with pytest.raises(ParseError, match="exactly one element"):
            connector.parse(record(data))


def test_xsi_schema_location_is_not_followed(connector: NlXmlConnector, samples: list[SampleRecord]) -> None:
    # libxml2 validates against the compiled schema only; instance hints are not fetched (no network here anyway).
    data = samples[0].data.replace(
        b"<Gebeurtenis ",
        b'<Gebeurtenis xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="urn:x http://127.0.0.1:9/evil.xsd" ',
        1,
    )
    assert connector.map(connector.parse(record(data))) == list(samples[0].facts)
