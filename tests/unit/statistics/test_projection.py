"""The projected read gives exactly the facts and tables of the full decode, for every writer schema."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gateway.codec.avro_dict import to_avro
from gateway.codec.codec import EventCodec
from gateway.codec.single_object import SchemaStore, header
from gateway.errors import DecodeError, FatalError
from gateway.events import models as m
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.evolution import expand, load_history
from gateway.evolution.datums import DatumGenerator
from gateway.samples.statistics_stories import KINDS, StatisticsStories, statistics_stories
from gateway.statistics.config import StatisticsConfig
from gateway.statistics.facts import RELEVANT_TYPES, Facts, fold, fold_into
from gateway.statistics.projection import NEEDED, ProjectedReader, compile_reader, fold_record, project
from gateway.statistics.replay import fold_messages
from gateway.statistics.tables import Period, count
from gateway.testing.examples import all_events
from gateway.testing.strategies import case_events

CODEC = EventCodec()
READER = ProjectedReader(CODEC)
HISTORY = load_history()
EXACT = StatisticsConfig(rounding=1)


@cache
def stories() -> StatisticsStories:
    return statistics_stories(5 * len(KINDS) * 4, seed=11)


def written_with(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    """An Avro record as a writer of ``schema`` (a released version) writes it, single-object framed."""
    fp = CODEC.store.add(schema)
    writer = CODEC.store.get(fp)
    assert writer is not None
    buf = io.BytesIO()
    schemaless_writer(buf, writer, record)
    return header(fp) + buf.getvalue()


def full_fold(values: list[bytes]) -> Facts:
    facts: Facts = {}
    for v in values:
        fold_into(facts, CODEC.decode(v, trusted=True))
    return facts


def projected_fold(values: list[bytes], reader: ProjectedReader = READER) -> Facts:
    facts: Facts = {}
    for v in values:
        reader.fold(facts, v)
    return facts


def test_the_generated_history_gives_the_same_facts_and_tables() -> None:
    s = stories()
    values = [CODEC.encode(e) for e in s.events + s.late_events]
    facts = projected_fold(values)
    assert facts == full_fold(values) == fold(s.events + s.late_events)
    for period in s.periods:
        p = Period.parse(period)
        assert count(facts, p, EXACT) == count(full_fold(values), p, EXACT), period
        got = {n: t.cells for n, t in count(facts, p, EXACT).tables.items()}
        truth = s.expected_after_late.get(period, {})
        assert got == {n: dict(truth.get(n, {})) for n in got}, period


class FakeMessage:
    """What ``fold_messages`` reads of a ``confluent_kafka.Message``."""

    def __init__(self, value: bytes, etype: str | None) -> None:
        self._value = value
        self._headers = [(EVENT_TYPE_HEADER, etype.encode())] if etype is not None else None

    def value(self) -> bytes:
        return self._value

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers

    def topic(self) -> str:
        return "canonical"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 7


def test_fold_messages_projected_equals_full_and_skips_by_header() -> None:
    s = stories()
    events = s.events + s.late_events
    # Every third message without its header: decoded whatever its type, as on the full path.
    msgs: list[Any] = [
        FakeMessage(CODEC.encode(e), None if i % 3 == 0 else str(e.event_type)) for i, e in enumerate(events)
    ]
    full: Facts = {}
    projected: Facts = {}
    seen_full = fold_messages(msgs, CODEC, full)
    seen_projected = fold_messages(msgs, READER, projected)
    assert seen_full == seen_projected
    assert seen_full[0] == len(events)
    relevant = sum(1 for i, e in enumerate(events) if i % 3 == 0 or e.event_type in RELEVANT_TYPES)
    assert seen_full[1] == relevant < len(events)
    assert projected == full == fold(events)


def test_a_message_that_is_not_an_event_stops_both_folds() -> None:
    for codec in (CODEC, READER):
        with pytest.raises(FatalError, match=r"canonical\[0\]@7"):
            fold_messages([FakeMessage(b"\xc3\x01garbage", "RETURN_DECISION_ISSUED")], codec, {})  # type: ignore[list-item]


def test_every_example_event_written_with_every_released_version() -> None:
    assert len(HISTORY) >= 2
    for snapshot in HISTORY:
        values = []
        for event in all_events():
            try:
                values.append(written_with(snapshot.schema, to_avro(event)))
            except ValueError:
                continue  # a symbol added after this release: no writer of it could have written the event
        assert values, snapshot.version
        assert projected_fold(values) == full_fold(values), snapshot.version
        for v in values:
            assert READER.read(v) == READER.read(v, compiled=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        case_events(m.EventType.RETURN_DECISION_ISSUED), case_events(m.EventType.DEPARTURE_CONFIRMED), case_events()
    ),
    st.sampled_from([None, *HISTORY]),
)
def test_generated_events_give_the_same_facts(event: m.CaseEvent, snapshot: Any) -> None:
    if snapshot is None:
        data = CODEC.encode(event)
    else:
        try:
            data = written_with(snapshot.schema, to_avro(event))
        except ValueError:
            assume(False)
    assert projected_fold([data]) == full_fold([data])
    assert READER.read(data) == READER.read(data, compiled=False)


@pytest.mark.parametrize("version", [None, *(s.version for s in HISTORY)], ids=lambda v: f"v{v or 'current'}")
def test_random_datums_of_every_writer_schema(version: int | None) -> None:
    # Every union branch and enum symbol of the writer, the two statistics payloads most of the time.
    schema = CODEC.store.current if version is None else next(s.schema for s in HISTORY if s.version == version)
    by_name = {model.AVRO_NAME: str(t) for model, t in m.EVENT_TYPE_OF.items()}
    datums = DatumGenerator(schema, seed=version or 0).datums(400)
    values, mismatched = [], []
    for i, datum in enumerate(datums):
        name = datum["payload"][0]
        if i % 7 == 0:
            datum["event_type"] = next(t for n, t in by_name.items() if n != name)
            mismatched.append(written_with(schema, datum))
            continue
        datum["event_type"] = by_name[name]
        values.append(written_with(schema, datum))
    assert projected_fold(values) == full_fold(values)
    for v in values:
        assert READER.read(v) == READER.read(v, compiled=False)
    for v in mismatched:  # the envelope's check is kept: event_type must name the payload
        with pytest.raises(DecodeError):
            CODEC.decode(v, trusted=True)
        with pytest.raises(DecodeError, match="does not match"):
            READER.fold({}, v)


def test_an_unknown_symbol_reads_as_the_enum_default_on_both_paths() -> None:
    writer = expand()
    for t in writer["fields"]:
        if t["name"] == "member_state":
            t["type"]["symbols"].append("XK")
    store = SchemaStore(CODEC.store.current)
    codec = EventCodec(store=store)
    fp = store.add(writer)
    parsed = store.get(fp)
    assert parsed is not None
    event = next(e for e in all_events() if e.event_type == m.EventType.RETURN_DECISION_ISSUED)
    record = to_avro(event)
    record["member_state"] = "XK"
    buf = io.BytesIO()
    schemaless_writer(buf, parsed, record)
    data = header(fp) + buf.getvalue()
    reader = ProjectedReader(codec)
    facts = projected_fold([data], reader)
    assert list(facts) == [("UNKNOWN", event.subject_key)]
    expected: Facts = {}
    fold_into(expected, codec.decode(data, trusted=True))
    assert facts == expected


def test_corrupt_and_foreign_bytes_are_decode_errors() -> None:
    good = CODEC.encode(next(e for e in all_events() if e.event_type == m.EventType.DEPARTURE_CONFIRMED))
    for bad in (b"", b"\xc3\x01", good[:2] + b"\x00" * 8 + good[10:], good[: len(good) // 2], b"plain text"):
        with pytest.raises(DecodeError):
            READER.fold({}, bad)
    with pytest.raises(DecodeError, match="no schema registry"):  # Confluent framing: the full path's answer
        READER.fold({}, b"\x00\x00\x00\x00\x01" + good[10:])


def test_the_projected_schema_keeps_only_the_needed_fields() -> None:
    reader = project(CODEC.store.current)
    parse_schema(reader)  # a schema fastavro accepts
    assert {f["name"] for f in reader["fields"]} == NEEDED[m.CaseEvent.AVRO_NAME]
    payload = next(f["type"] for f in reader["fields"] if f["name"] == "payload")
    assert [b["name"] for b in payload] == [model.AVRO_NAME for model in m.EVENT_TYPE_OF]
    kept = {b["name"]: {f["name"] for f in b["fields"]} for b in payload if b["fields"]}
    assert kept == {
        m.ReturnDecisionIssued.AVRO_NAME: NEEDED[m.ReturnDecisionIssued.AVRO_NAME],
        m.DepartureConfirmed.AVRO_NAME: NEEDED[m.DepartureConfirmed.AVRO_NAME],
    }


def test_every_writer_schema_is_compiled() -> None:
    # A schema the compiler declines is read by fastavro (correct, slower); none of today's should be.
    for schema in [CODEC.store.current, *(s.schema for s in HISTORY)]:
        compile_reader(CODEC.store.get(CODEC.store.add(schema)) or {}, READER.reader)


def test_fold_record_ignores_the_types_the_statistics_skip() -> None:
    facts: Facts = {}
    event = next(e for e in all_events() if e.event_type not in RELEVANT_TYPES)
    fold_record(facts, READER.read(CODEC.encode(event)))
    assert facts == {}
