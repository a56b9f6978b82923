"""The connector as a plugin: entry point, configuration, export files in both encodings, raw-topic messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random
from importlib.metadata import version

import pytest
from gw_connector_de_csv import DeCsvConfig, DeCsvConnector
from gw_connector_de_csv.columns import HEADER
from gw_connector_de_csv.renderer import Style, encode_row, header_line, render_row
from pydantic import ValidationError

from gateway.connectors import discovery
from gateway.connectors.base import Fact, RawRecord
from gateway.dlq import headers as H
from gateway.dlq.tools import DeadLetterRecord, replay_message
from gateway.errors import ParseError
from gateway.events import models as m
from gateway.pipeline.outcome import DeadLetter
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
    assert raw.context == b""  # no header: parse reads the canonical order
    assert c.map(c.parse(raw)) == [fact]
    utf8 = make_connector(export_encoding="utf-8").render(type("S", (), {"facts": (fact,)})(), random.Random(0))[0]
    raw = c.from_message(b"\xef\xbb\xbf" + utf8.data, "raw-de", "raw-de/0/8", 8)
    assert raw.encoding == "utf-8"
    assert c.map(c.parse(raw)) == [fact]


def _replayed(c: DeCsvConnector, record: RawRecord, *, from_file: bool) -> RawRecord:
    """The record as a dead letter of it comes back through the raw topic."""
    dead = DeadLetter(record=record, stage="validate", error_class="x", message="as if rejected")
    origin = None if from_file else H.KafkaOrigin("raw-de", 0, record.index)
    headers = H.dead_letter_headers(dead, connector="de-csv", connector_class="c", correlation_id="c", origin=origin)
    letter = DeadLetterRecord("dlq", 0, 1, None, record.data, H.as_text(headers), tuple(headers))
    message = replay_message(letter, "raw-de")
    return c.from_message(message.value, "raw-de", "raw-de/0/99", 99, dict(message.headers))


def _hit_fields(c: DeCsvConnector) -> tuple[Fact, list[str]]:
    """The example Eurodac hit and its row in the layout before Förderung_Status (75 fields)."""
    payload = payloads()[m.EventType.EURODAC_HIT_RECEIVED]
    fact = Fact("DE-1", "42", dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), payload)
    row = render_row(fact, c._tables, Style(c._zone))
    unstated = payload.model_copy(update={"avrr": payload.avrr.model_copy(update={"status": None})})
    fields = [v for f, v in row._asdict().items() if f != "foerderung_status"]
    return dataclasses.replace(fact, payload=unstated), fields


def test_a_replayed_headerless_row_is_read_as_it_was_first(make_connector):
    c = make_connector()
    expected, fields = _hit_fields(c)
    for encoding, bom in (("iso-8859-1", b""), ("utf-8", b"\xef\xbb\xbf")):
        first = c.from_message(bom + encode_row(fields, encoding), "raw-de", "raw-de/0/5", 5)
        replayed = _replayed(c, first, from_file=False)
        # The dead letter keeps no header and the encoding the byte-order mark (stripped from its data) named.
        assert (replayed.context, replayed.encoding) == (b"", encoding)
        assert c.map(c.parse(replayed)) == [expected]


def test_a_dead_letter_of_a_headerless_row_refused_for_its_width_replays(make_connector):
    # Before rows were read by their width, a header-less row carried the canonical header, and so does its dead
    # letter: without gw.source.file that header was implied, not the file's, and the row is read by its width.
    c = make_connector()
    expected, fields = _hit_fields(c)
    refused = RawRecord(
        encode_row(fields, "iso-8859-1"), "raw-de", "raw-de/0/6", 6, "iso-8859-1", header_line("iso-8859-1")
    )
    with pytest.raises(ParseError, match="row has 75 fields, the header has 76"):
        c.parse(refused)
    replayed = _replayed(c, refused, from_file=False)
    assert replayed.context == b""
    assert c.map(c.parse(replayed)) == [expected]
    # A file's row keeps its file's header, canonical or not: there a short row is damaged, not old.
    from_file = RawRecord(refused.data, "x.csv", "line 2", 0, "iso-8859-1", header_line("iso-8859-1"))
    with pytest.raises(ParseError, match="row has 75 fields, the header has 76"):
        c.parse(_replayed(c, from_file, from_file=True))


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
