"""Parse and map: header rules, every event type round-trips, every defect is an error, rows stay strict."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from gw_connector_de_csv.columns import EVENT_COLUMNS, HEADER, LABELS
from gw_connector_de_csv.renderer import Style, encode_row, render_row

from gateway.connectors.base import Fact, RawRecord
from gateway.errors import MappingError, ParseError, RecordError
from gateway.events import models as m
from gateway.testing.conformance import identity_context
from gateway.testing.examples import identity, payloads

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
EXAMPLES = payloads()


def fact(payload: m.Payload) -> Fact:
    return Fact("DE-2026-0000123", "4319900279", AT, payload)


def rendered(connector, payload, *, seed: int = 0, encoding: str = "iso-8859-1") -> bytes:
    style = Style.pick(connector._zone, random.Random(seed))
    return encode_row(render_row(fact(payload), connector._tables, style), encoding)


def record(data: bytes, *, header=HEADER, encoding="iso-8859-1") -> RawRecord:
    return RawRecord(data, "t.csv", "line 2", 0, encoding, encode_row(list(header), encoding))


def facts_of(connector, data: bytes, **kw) -> list[Fact]:
    return connector.map(connector.parse(record(data, **kw)))


@pytest.mark.parametrize("event_type", list(EXAMPLES), ids=str)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_event_type_round_trips(connector, event_type, seed):
    payload = EXAMPLES[event_type]
    assert facts_of(connector, rendered(connector, payload, seed=seed)) == [fact(payload)]


@pytest.mark.parametrize("event_type", list(EXAMPLES), ids=str)
def test_renderer_fills_only_the_columns_of_its_event_type(connector, event_type):
    row = render_row(fact(EXAMPLES[event_type]), connector._tables, Style(connector._zone))
    filled = {name for name, value in row._asdict().items() if value}
    allowed = EVENT_COLUMNS[event_type] | {"aktenzeichen", "personenkennung", "ereignisart", "zeitpunkt", "betrag_eur"}
    assert filled <= allowed


def test_identity_with_escapes_aliases_and_umlauts_round_trips(connector):
    person = identity().model_copy(
        update={
            "surnames": ("MÜLLER-LÜDENSCHEIDT", "O'NEILL|SMITH"),
            "aliases": ('Y. "the fox" A.', "A:B", "back\\slash"),
            "place_of_birth": "Köln; Deutz",
            "date_of_birth": m.PartialDate(year=1990, precision=m.DatePrecision.YEAR),
        }
    )
    payload = EXAMPLES[m.EventType.BIOMETRICS_CAPTURED].model_copy(update={"identity": person})
    for encoding in ("iso-8859-1", "utf-8"):
        data = rendered(connector, payload, encoding=encoding)
        assert facts_of(connector, data, encoding=encoding) == [fact(payload)]


def test_reintegration_referral_without_identity(connector):
    payload = EXAMPLES[m.EventType.REINTEGRATION_REFERRAL].model_copy(update={"identity": None})
    assert facts_of(connector, rendered(connector, payload)) == [fact(payload)]


def test_column_order_is_free(connector):
    payload = EXAMPLES[m.EventType.RETURN_DECISION_ISSUED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))
    order = list(range(len(HEADER)))
    random.Random(4).shuffle(order)
    shuffled_header = [HEADER[i] for i in order]
    data = encode_row([row[i] for i in order], "iso-8859-1")
    assert facts_of(connector, data, header=shuffled_header) == [fact(payload)]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ([h for h in HEADER if h != "Zielstaat"], "missing columns Zielstaat"),
        ([*HEADER, "Bemerkungen_intern"], "unknown columns Bemerkungen_intern"),
        ([*HEADER, "Zielstaat"], "repeated columns Zielstaat"),
        ([h.upper() for h in HEADER], "names none of the format's 76 columns"),
    ],
)
def test_a_bad_header_fails_every_row_with_the_same_reason(connector, header, reason):
    data = rendered(connector, EXAMPLES[m.EventType.ENTRY_RECORDED])
    with pytest.raises(ParseError, match=reason):
        connector.parse(record(data, header=header))


def test_header_cells_are_trimmed_and_may_be_quoted(connector):
    payload = EXAMPLES[m.EventType.ENTRY_RECORDED]
    context = b";".join(b'" ' + h.encode("latin-1") + b'"' for h in HEADER)
    raw = RawRecord(rendered(connector, payload), "t.csv", "line 2", 0, "iso-8859-1", context)
    assert connector.map(connector.parse(raw)) == [fact(payload)]


def test_no_header_at_all(connector):
    # Without a header the field count must name a version of the format.
    raw = RawRecord(b"a;b", "t.csv", "line 1", 0, "iso-8859-1", b"")
    with pytest.raises(ParseError, match="row has 2 fields, but a row without a header line has 76"):
        connector.parse(raw)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"a;b;c", "row has 3 fields, the header has 76"),
        (b'a;"b"c' + b";" * 74, "malformed quoting"),
        (b"a\x00b" + b";" * 75, "NUL byte at character 1"),
        (b"a\x1b[31mb" + b";" * 75, "control character U\\+001B"),
        (b"\x80uro" + b";" * 75, "column Aktenzeichen: byte 0x80 is a control character in ISO-8859-1 \\(U\\+0080\\)"),
        ("Müller".encode() + b";" * 75, "UTF-8 but the file has no byte-order mark"),
        (b"a\nb" + b";" * 75, "line break outside quotes"),
        (b'"a"\n"b"' + b";" * 75, "line break outside quotes"),
    ],
)
def test_malformed_rows(connector, data, reason):
    with pytest.raises(ParseError, match=reason) as info:
        connector.parse(record(data))
    assert info.value.position == "line 2"


def test_invalid_utf8_names_byte_and_column(connector):
    with pytest.raises(
        ParseError, match=r"^column Personenkennung: byte 0x9d is not valid UTF-8 \(invalid start byte\)$"
    ):
        connector.parse(record(b'abc;"x;""y"\x9d' + b";" * 74, encoding="utf-8"))


def test_field_longer_than_the_limit(make_connector):
    c = make_connector(max_field_chars=20)
    payload = EXAMPLES[m.EventType.ENTRY_RECORDED].model_copy(update={"border_crossing_point": "X" * 21})
    with pytest.raises(ParseError, match=r"field Grenzübergang has 21 characters, more than max_field_chars \(20\)"):
        c.parse(record(rendered(c, payload)))


def test_a_value_in_a_column_the_event_does_not_use_is_an_error(connector, row_bytes):
    payload = EXAMPLES[m.EventType.ENTRY_RECORDED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))._replace(fristende="01.04.2026")
    with pytest.raises(MappingError, match="Fristende has a value, but EINREISE rows do not use that column"):
        facts_of(connector, encode_row(row, "iso-8859-1"))


def test_control_total(connector):
    payload = EXAMPLES[m.EventType.ASSISTANCE_GRANTED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone, thousands=True))
    assert row.betrag_eur == "2.220,50"
    for bad, reason in (("2.220,49", "is not the sum"), ("", "Betrag_EUR is required"), ("2220.50", "decimal point")):
        with pytest.raises(MappingError, match=reason):
            facts_of(connector, encode_row(row._replace(betrag_eur=bad), "iso-8859-1"))
    departure = render_row(fact(EXAMPLES[m.EventType.DEPARTURE_CONFIRMED]), connector._tables, Style(connector._zone))
    with pytest.raises(MappingError, match="the event has no amounts"):
        facts_of(connector, encode_row(departure._replace(betrag_eur="0,00"), "iso-8859-1"))


def test_components_without_amount_and_empty_groups(connector):
    payload = EXAMPLES[m.EventType.ASSISTANCE_APPLIED].model_copy(update={"components": ()})
    data = rendered(connector, payload)
    assert b";0,00;" in data
    assert facts_of(connector, data) == [fact(payload)]


def test_avrr_columns_without_the_flag(connector):
    payload = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))._replace(foerderung_bewilligt="")
    with pytest.raises(MappingError, match="Förderung_bewilligt is empty"):
        facts_of(connector, encode_row(row, "iso-8859-1"))
    none = payload.model_copy(update={"avrr": None})
    assert facts_of(connector, rendered(connector, none)) == [fact(none)]


@pytest.mark.parametrize(
    ("code", "granted", "status"),
    [
        ("BEANTRAGT", "N", m.AvrrStatus.APPLIED),
        ("BEWILLIGT", "J", m.AvrrStatus.GRANTED),
        ("ABGELEHNT", "N", m.AvrrStatus.REFUSED),
        ("WIDERRUFEN", "N", m.AvrrStatus.WITHDRAWN),
    ],
)
def test_avrr_status_codes_map_and_render_back(connector, code, granted, status):
    payload = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))
    [mapped] = facts_of(
        connector, encode_row(row._replace(foerderung_bewilligt=granted, foerderung_status=code), "iso-8859-1")
    )
    avrr = m.AvrrRecord(
        granted=granted == "J", granting_member_state=m.MemberState.BE, granted_on=dt.date(2025, 11, 3), status=status
    )
    assert mapped.payload == payload.model_copy(update={"avrr": avrr})
    assert render_row(mapped, connector._tables, Style(connector._zone)).foerderung_status == code


def test_an_empty_avrr_status_maps_to_none(connector):
    payload = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]
    unstated = payload.model_copy(update={"avrr": payload.avrr.model_copy(update={"status": None})})
    row = render_row(fact(unstated), connector._tables, Style(connector._zone))
    assert (row.foerderung_bewilligt, row.foerderung_status) == ("J", "")
    assert facts_of(connector, encode_row(row, "iso-8859-1")) == [fact(unstated)]


def test_a_header_without_the_status_column_still_reads(connector, csv_file, read_bytes):
    # Exports written before Förderung_Status existed: the column reads as empty, every row maps.
    old_header = [h for h in HEADER if h != LABELS["foerderung_status"]]
    payloads_ = [EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED], EXAMPLES[m.EventType.RETURN_DECISION_ISSUED]]
    rows = []
    for payload in payloads_:
        row = render_row(fact(payload), connector._tables, Style(connector._zone))._replace(foerderung_status="")
        rows.append(encode_row([v for f, v in row._asdict().items() if f != "foerderung_status"], "iso-8859-1"))
    records = read_bytes(connector, csv_file(rows, header=old_header))
    mapped = [f for r in records for f in connector.map(connector.parse(r))]
    hit = payloads_[0]
    assert [f.payload for f in mapped] == [
        hit.model_copy(update={"avrr": hit.avrr.model_copy(update={"status": None})}),
        payloads_[1],
    ]
    with pytest.raises(ParseError, match="missing columns Zielstaat"):
        connector.parse(record(rows[1], header=[h for h in old_header if h != "Zielstaat"]))


def _without_status(row) -> list[str]:
    return [v for f, v in row._asdict().items() if f != "foerderung_status"]


def test_a_headerless_message_in_the_current_layout_reads_the_status(connector):
    payload = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]
    assert payload.avrr.status is m.AvrrStatus.GRANTED
    row = render_row(fact(payload), connector._tables, Style(connector._zone))
    raw = connector.from_message(encode_row(row, "iso-8859-1"), "raw-de", "raw-de/0/1", 1)
    assert raw.context == b""
    assert connector.map(connector.parse(raw)) == [fact(payload)]


def test_a_headerless_message_in_the_layout_before_the_status_column_still_reads(connector):
    # A producer still writing the 75 columns from before Förderung_Status: every other column keeps its place.
    hit = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]
    for payload, expected in (
        (hit, hit.model_copy(update={"avrr": hit.avrr.model_copy(update={"status": None})})),
        (EXAMPLES[m.EventType.BIOMETRICS_CAPTURED], EXAMPLES[m.EventType.BIOMETRICS_CAPTURED]),
    ):
        row = render_row(fact(payload), connector._tables, Style(connector._zone))
        fields = _without_status(row)
        assert len(fields) == 75
        raw = connector.from_message(encode_row(fields, "iso-8859-1"), "raw-de", "raw-de/0/2", 2)
        assert connector.map(connector.parse(raw)) == [fact(expected)]


@pytest.mark.parametrize("count", [74, 77])
def test_a_headerless_message_of_another_width_names_both_layouts(connector, count):
    raw = connector.from_message(b";" * (count - 1), "raw-de", "raw-de/0/3", 3)
    reason = (
        rf"row has {count} fields, but a row without a header line has 76 \(the current layout\) or 75 "
        r"\(the layout before Förderung_Status\)"
    )
    with pytest.raises(ParseError, match=reason) as info:
        connector.parse(raw)
    assert info.value.position == "raw-de/0/3"


def test_a_file_row_must_still_match_its_header(connector):
    # Only a row without a header is read by its width: under a full header a short row is damaged, not old.
    row = render_row(fact(EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]), connector._tables, Style(connector._zone))
    with pytest.raises(ParseError, match="row has 75 fields, the header has 76"):
        connector.parse(record(encode_row(_without_status(row), "iso-8859-1")))


def test_an_unknown_avrr_status_is_a_dead_letter_naming_the_column(connector):
    payload = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))._replace(foerderung_status="OFFEN")
    with pytest.raises(MappingError, match=r"Förderung_Status: unknown code 'OFFEN' \(known: BEANTRAGT, "):
        connector.translate(record(encode_row(row, "iso-8859-1")), identity_context(connector))


def test_an_avrr_status_without_the_flag_is_an_error(connector):
    payload = EXAMPLES[m.EventType.EURODAC_HIT_RECEIVED].model_copy(update={"avrr": None})
    row = render_row(fact(payload), connector._tables, Style(connector._zone))._replace(foerderung_status="ABGELEHNT")
    with pytest.raises(MappingError, match="Förderung_Status has a value, but Förderung_bewilligt is empty"):
        facts_of(connector, encode_row(row, "iso-8859-1"))


def test_model_validation_errors_become_mapping_errors(connector):
    payload = EXAMPLES[m.EventType.BIOMETRICS_CAPTURED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))._replace(geburtsdatum="00.00.0000")
    # precision UNKNOWN is a valid partial date: the identity maps
    assert facts_of(connector, encode_row(row, "iso-8859-1"))[0].payload.identity.date_of_birth == m.PartialDate(
        precision=m.DatePrecision.UNKNOWN
    )
    huge = EXAMPLES[m.EventType.REINTEGRATION_STATUS_CHANGED].model_copy(
        update={"budget_lines": (m.BudgetLine(description="x", amount_eur=Decimal("9999999999.99")),)}
    )
    assert facts_of(connector, rendered(connector, huge)) == [fact(huge)]


@pytest.mark.parametrize(
    "kind", ["wrong_column_count", "bad_date", "unknown_code", "bad_amount", "missing_required", "invalid_encoding"]
)
@pytest.mark.parametrize("event_type", list(EXAMPLES), ids=str)
@pytest.mark.parametrize("encoding", ["iso-8859-1", "utf-8"])
def test_every_defect_on_every_event_type_is_a_record_error(make_connector, kind, event_type, encoding):
    c = make_connector(export_encoding=encoding)
    ctx = identity_context(c)
    for seed in range(12):
        data = rendered(c, EXAMPLES[event_type], seed=seed, encoding=encoding)
        damaged = c.corrupt(type("S", (), {"data": data})(), kind, random.Random(seed))  # type: ignore[arg-type]
        assert damaged != data
        raw = record(damaged, encoding=encoding)
        with pytest.raises(RecordError) as info:
            c.translate(raw, ctx)
        assert str(info.value)


def test_unknown_defect_kind(connector):
    with pytest.raises(ValueError, match="unknown defect kind"):
        connector.corrupt(type("S", (), {"data": b"a;b"})(), "typo", random.Random(0))  # type: ignore[arg-type]


def test_errors_carry_the_position(connector):
    row = render_row(fact(EXAMPLES[m.EventType.ENTRY_RECORDED]), connector._tables, Style(connector._zone))
    with pytest.raises(MappingError) as info:
        facts_of(connector, encode_row(row._replace(ereignisart="EINREISEN"), "iso-8859-1"))
    assert info.value.position == "line 2"
    assert "Ereignisart: unknown code 'EINREISEN'" in info.value.message


def test_labels_are_the_header():
    assert tuple(LABELS.values()) == HEADER
    assert len(set(HEADER)) == len(HEADER) == 76


@pytest.mark.parametrize("code", ["D", "XKX", "RKS", "UK"])
def test_mrz_and_user_assigned_country_codes_reach_the_payload(connector, code):
    # Issue 10 §2.3: the shared code list (CD-001) decides on D/XKX/RKS/UK, not the connector.
    payload = EXAMPLES[m.EventType.RETURN_DECISION_ISSUED]
    identity = payload.identity.model_copy(update={"nationalities": (code,)})
    data = rendered(connector, payload.model_copy(update={"identity": identity, "country_of_return": code}))
    [mapped] = facts_of(connector, data)
    assert mapped.payload.identity.nationalities == (code,)
    assert mapped.payload.country_of_return == code


@pytest.mark.parametrize("policy", ["earlier", "later"])
def test_ambiguous_row_time_follows_the_setting_and_warns(make_connector, policy):
    connector = make_connector(ambiguous_local_time=policy)
    first = dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST; 02:30 CET is an hour later
    style = Style.pick(connector._zone, random.Random(0))
    data = encode_row(
        render_row(Fact("DE-1", "4319900279", first, EXAMPLES[m.EventType.ENTRY_RECORDED]), connector._tables, style),
        "iso-8859-1",
    )
    [mapped] = facts_of(connector, data)
    assert mapped.occurred_at == (first if policy == "earlier" else first + dt.timedelta(hours=1))
    assert [(w.rule_id, w.severity, w.path) for w in mapped.warnings] == [
        ("CN-DST-001", m.Severity.WARNING, "Zeitpunkt")
    ]


def test_ambiguous_row_time_is_refused_when_set_to_reject(make_connector):
    connector = make_connector(ambiguous_local_time="reject")
    first = dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)
    style = Style.pick(connector._zone, random.Random(0))
    data = encode_row(
        render_row(Fact("DE-1", "4319900279", first, EXAMPLES[m.EventType.ENTRY_RECORDED]), connector._tables, style),
        "iso-8859-1",
    )
    with pytest.raises(MappingError, match="Zeitpunkt: 2025-10-26 02:30:00 occurs twice"):
        facts_of(connector, data)


# ---- text in the wrong encoding: the message names the column and the likely encoding -------------------------


def test_windows_1252_byte_in_a_utf8_file_names_column_and_encoding(connector):
    data = b"a;b;c;d;12\x80" + b";" * 71
    with pytest.raises(ParseError) as info:
        connector.parse(record(data, encoding="utf-8"))
    message = info.value.message
    assert message.startswith("column Betrag_EUR: byte 0x80 is not valid UTF-8 (invalid start byte); ")
    assert "the file looks Windows-1252 encoded (0x80 is '€' there)" in message
    assert 'export it as UTF-8, or set encoding = "windows-1252" in [connectors.de-csv]' in message


def test_windows_1252_text_converted_to_utf8_as_latin1_is_named(connector):
    data = "a;b;c;d;12\x80".encode() + b";" * 71  # U+0080: what 0x80 becomes when taken for ISO-8859-1
    with pytest.raises(ParseError, match=r"^column Betrag_EUR: control character U\+0080 .* Windows-1252 .*'€'"):
        connector.parse(record(data, encoding="utf-8"))


def test_a_file_configured_windows_1252_reads_its_euro_signs_and_quotes(make_connector, read_bytes, csv_file):
    c = make_connector(encoding="windows-1252")
    payload = EXAMPLES[m.EventType.ASSISTANCE_REFUSED].model_copy(
        update={"reason_text": "\u201eZu sp\u00e4t\u201c \u2013 5 \u20ac"}
    )
    data = csv_file([rendered(c, payload, encoding="cp1252")], encoding="cp1252")
    (raw,) = read_bytes(c, data)
    assert raw.encoding == "windows-1252"
    assert b"\x84Zu sp\xe4t\x93 \x96 5 \x80" in raw.data
    assert c.map(c.parse(raw)) == [fact(payload)]


def test_utf8_in_a_windows_1252_file_is_still_refused(make_connector):
    c = make_connector(encoding="windows-1252")
    with pytest.raises(ParseError, match=r"column Personenkennung: text is UTF-8 .* read as Windows-1252"):
        c.parse(record("a;Müller".encode() + b";" * 74, encoding="windows-1252"))


def test_a_negative_assistance_amount_says_it_is_negative(connector):
    payload = EXAMPLES[m.EventType.ASSISTANCE_APPLIED]
    row = render_row(fact(payload), connector._tables, Style(connector._zone))
    items = row.leistungen.split("|")
    assert any(item.count(":") == 2 for item in items), "the example must have an amount"
    negative = "|".join(f"{i.rsplit(':', 1)[0]}:-200,00" if i.count(":") == 2 else i for i in items)
    with pytest.raises(MappingError, match=r"^Leistungen: '-200,00' is negative; amounts are written without a sign$"):
        facts_of(connector, encode_row(row._replace(leistungen=negative), "iso-8859-1"))
    with pytest.raises(MappingError, match=r"^Betrag_EUR: '-200,00' is negative"):
        facts_of(connector, encode_row(row._replace(betrag_eur="-200,00"), "iso-8859-1"))
