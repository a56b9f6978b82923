"""The connector as a plugin: entry point, configuration, export files in both encodings, raw-topic messages."""

from __future__ import annotations

import datetime as dt
import io
import random
from importlib.metadata import version

import pytest
from gw_connector_de_csv import DeCsvConfig, DeCsvConnector
from gw_connector_de_csv.columns import HEADER
from gw_connector_de_csv.renderer import Style, render_row
from pydantic import ValidationError

from gateway.connectors import discovery
from gateway.connectors.base import Fact
from gateway.events import models as m
from gateway.samples.generate import generate
from gateway.samples.stories import story
from gateway.testing.conformance import identity_context
from gateway.testing.examples import payloads


def test_registered_through_the_entry_point():
    assert discovery.load("de-csv") is DeCsvConnector
    info = {p.name: p for p in discovery.describe()}["de-csv"]
    assert info.error is None
    assert info.distribution == "returns-gateway-connector-de-csv"
    assert DeCsvConnector.version == version("returns-gateway-connector-de-csv")
    assert DeCsvConnector.formats == ("csv",)
    assert len(DeCsvConnector.defect_kinds) >= 5


def test_configuration():
    with pytest.raises(ValidationError, match="unknown time zone"):
        DeCsvConfig(member_state="DE", timezone="Europe/Bonn")
    with pytest.raises(ValidationError):
        DeCsvConfig(member_state="DE", encoding="cp1252")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        DeCsvConfig(member_state="DE", max_field_chars=0)
    schema = DeCsvConfig.model_json_schema()["properties"]
    assert {"encoding", "export_encoding", "max_field_chars", "timezone", "chunk_bytes", "max_record_bytes"} <= set(
        schema
    )


@pytest.mark.parametrize(("encoding", "bom"), [("iso-8859-1", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_write_export_in_both_encodings(make_connector, encoding, bom):
    c = make_connector(export_encoding=encoding)
    buf = io.BytesIO()
    manifest = generate(c, buf, count=40, seed=3)
    data = buf.getvalue()
    header = ";".join(HEADER).encode(encoding)
    assert data.startswith(bom + header + b"\r\n")
    assert ("Staatsangehörigkeit".encode(encoding) in data) is True
    assert data.count(b"\r\n") >= manifest.records + 1
    # read back without telling the reader the encoding: the BOM (or its absence) says it
    records = list(make_connector().read(io.BytesIO(data), "x"))
    assert len(records) == manifest.records
    assert {r.encoding for r in records} == {encoding}
    ctx = identity_context(c)
    assert sum(len(c.translate(r, ctx)) for r in records) == manifest.events


def test_utf8_without_bom_when_configured(make_connector, csv_file):
    c = make_connector(encoding="utf-8", export_encoding="utf-8")
    fact = story(0, 1, m.MemberState.DE).facts[0]
    row = c.render(type("S", (), {"facts": (fact,)})(), random.Random(0))[0].data
    records = list(c.read(io.BytesIO(csv_file([row], encoding="utf-8")), "x"))
    assert records[0].encoding == "utf-8"
    assert c.map(c.parse(records[0])) == [fact]


def test_rows_from_a_raw_topic(make_connector):
    c = make_connector()
    fact = Fact("DE-1", "42", dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), payloads()[m.EventType.ENTRY_RECORDED])
    latin1 = c.render(type("S", (), {"facts": (fact,)})(), random.Random(0))[0].data
    raw = c.from_message(latin1, "raw-de", "raw-de/0/7", 7)
    assert raw.context.startswith(b"Aktenzeichen;")
    assert c.map(c.parse(raw)) == [fact]
    utf8 = make_connector(export_encoding="utf-8").render(type("S", (), {"facts": (fact,)})(), random.Random(0))[0]
    raw = c.from_message(b"\xef\xbb\xbf" + utf8.data, "raw-de", "raw-de/0/8", 8)
    assert raw.encoding == "utf-8"
    assert c.map(c.parse(raw)) == [fact]


def test_every_event_type_occurs_in_a_long_sample(make_connector):
    buf = io.BytesIO()
    manifest = generate(make_connector(), buf, count=2000, seed=11)
    assert len(manifest.event_types) == 13


def test_render_refuses_what_the_format_cannot_carry(connector):
    base = Fact("DE-1", "42", dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), payloads()[m.EventType.ENTRY_RECORDED])
    style = Style(connector._zone)
    second_autumn_hour = dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)
    cases = [
        (base.__class__(base.case_reference, base.person_ref, second_autumn_hour, base.payload), "ambiguous"),
        (
            base.__class__(base.case_reference, base.person_ref, base.occurred_at.replace(microsecond=5), base.payload),
            "precision",
        ),
        (base.__class__("", base.person_ref, base.occurred_at, base.payload), "mandatory text"),
        (
            base.__class__(
                base.case_reference,
                base.person_ref,
                base.occurred_at,
                base.payload.model_copy(update={"ees_record_reference": ""}),
            ),
            "empty optional text",
        ),
    ]
    for fact, reason in cases:
        with pytest.raises(ValueError, match=reason):
            render_row(fact, connector._tables, style)


def test_render_in_iso_8859_1_refuses_characters_it_lacks(connector):
    payload = payloads()[m.EventType.ASSISTANCE_REFUSED].model_copy(update={"reason_text": "5 €"})
    fact = Fact("DE-1", "42", dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), payload)
    with pytest.raises(UnicodeEncodeError):
        connector.render(type("S", (), {"facts": (fact,)})(), random.Random(0))
