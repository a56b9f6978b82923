"""The compiled Avro writer against fastavro (byte for byte) and Java's golden vectors; what it declines."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.codec.avro_dict import to_avro
from gateway.codec.codec import EventCodec
from gateway.codec.compiled_writer import (
    InvalidDatumError,
    NotCompilableError,
    compile_source,
    compile_writer,
)
from gateway.codec.schemas import canonical_schema
from gateway.errors import SchemaValidationError
from gateway.events import models as m
from gateway.testing import examples
from gateway.testing.strategies import case_events
from tests.unit.codec.test_golden_vectors import CASE_IDS, CASES, case_key, first_difference, golden_soe

SCHEMA = parse_schema(canonical_schema())
WRITE = compile_writer(SCHEMA)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fastavro_bytes(event: m.CaseEvent) -> bytes:
    buf = io.BytesIO()
    schemaless_writer(buf, SCHEMA, to_avro(event))
    return buf.getvalue()


@PROPERTY
@given(case_events())
def test_writes_what_fastavro_writes(event: m.CaseEvent) -> None:
    assert WRITE(event) == fastavro_bytes(event)


@pytest.mark.parametrize("event_type", [t for t in m.EventType if str(t) in m.PAYLOAD_OF_EVENT_TYPE])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_event_type_matches_fastavro(event_type: m.EventType, data: st.DataObject) -> None:
    event = data.draw(case_events(event_type))
    assert WRITE(event) == fastavro_bytes(event)


@pytest.mark.parametrize(("event_type", "index"), CASES, ids=CASE_IDS)
def test_writes_what_java_writes(event_type: m.EventType, index: int) -> None:
    # Straight through the compiled writer: the codec's fallback must not be what makes the golden test pass.
    codec = EventCodec()
    ours = codec.encode(examples.event(event_type, index=index))[:10] + WRITE(examples.event(event_type, index=index))
    java = golden_soe()[case_key(event_type, index)]
    assert ours == java, first_difference(ours, java)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, b"\x00"),
        (-1, b"\x01"),
        (1, b"\x02"),
        (63, b"\x7e"),
        (-64, b"\x7f"),
        (64, b"\x80\x01"),
        (4095, b"\xfe\x3f"),
        (4096, b"\x80\x40"),
        (2**63 - 1, b"\xfe" + b"\xff" * 8 + b"\x01"),
        (-(2**63), b"\xff" * 9 + b"\x01"),
    ],
)
def test_longs_are_zigzag_varints(value: int, expected: bytes) -> None:
    from gateway.codec.compiled_writer import _long

    assert _long(value) == expected


def _reference_long(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.integers(min_value=-(2**22), max_value=2**22))
def test_longs_match_the_textbook_encoding(n: int) -> None:
    from gateway.codec.compiled_writer import _long

    assert _long(n) == _reference_long(n)


@pytest.mark.parametrize("bits", range(1, 64))
def test_longs_at_every_length_boundary(bits: int) -> None:
    from gateway.codec.compiled_writer import _long

    for n in (2**bits - 1, 2**bits, -(2**bits), -(2**bits) + 1):
        if -(2**63) <= n < 2**63:
            assert _long(n) == _reference_long(n)


def _breaks(event: m.CaseEvent, **update: Any) -> m.CaseEvent:
    return event.model_copy(update=update)  # model_copy does not validate: a model no validator would accept


BASE = examples.event(m.EventType.RETURN_DECISION_ISSUED)
DECISION = BASE.payload
assert isinstance(DECISION, m.ReturnDecisionIssued)

DECLINED = {
    "string field holds an int": _breaks(BASE, case_reference=17),
    "string field holds bytes": _breaks(BASE, subject_key=b"abc"),
    "enum symbol unknown": _breaks(BASE, member_state="XX"),
    "timestamp is naive": _breaks(BASE, occurred_at=dt.datetime(2025, 1, 1, 12, 0)),
    "uuid is a string": _breaks(BASE, event_id=str(BASE.event_id)),
    "required record is None": _breaks(BASE, source=None),
    "payload of no branch": _breaks(BASE, payload=BASE.source),
    "date holds a datetime": _breaks(
        BASE, payload=DECISION.model_copy(update={"decision_date": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)})
    ),
    "boolean holds an int": _breaks(BASE, payload=DECISION.model_copy(update={"suspended": 1})),
    "string has a lone surrogate": _breaks(BASE, case_reference="\ud800"),
}


@pytest.mark.parametrize("event", DECLINED.values(), ids=DECLINED.keys())
def test_declines_what_it_is_not_sure_of(event: m.CaseEvent) -> None:
    with pytest.raises((InvalidDatumError, AttributeError, KeyError, TypeError, ValueError)):
        WRITE(event)


@pytest.mark.parametrize("event", DECLINED.values(), ids=DECLINED.keys())
def test_codec_gives_fastavros_verdict_on_declined_events(event: m.CaseEvent) -> None:
    fast, reference = EventCodec(), EventCodec(compiled=False)
    try:
        expected = reference.encode(event)
    except SchemaValidationError:
        with pytest.raises(SchemaValidationError, match="does not fit the canonical Avro schema"):
            fast.encode(event)
    else:
        # fastavro is more lenient (a naive datetime, a UUID as a string, a datetime as a date): same bytes.
        assert fast.encode(event) == expected


@pytest.mark.parametrize("bad", [2**31, -(2**31) - 1, True, 1.0])
def test_int_range_and_type_are_checked(bad: Any) -> None:
    schema = parse_schema({"type": "record", "name": "R", "fields": [{"name": "n", "type": "int"}]})

    class R:
        n = bad

    with pytest.raises(InvalidDatumError):
        compile_writer(schema)(R())


def test_negative_decimals_match_fastavro_not_java() -> None:
    # The decimal conversion is fastavro's own, so the known padding difference (see the golden tests) stays one.
    schema = parse_schema(
        {
            "type": "record",
            "name": "R",
            "fields": [{"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}}],
        }
    )

    class R:
        d = Decimal("-1.28")

    buf = io.BytesIO()
    schemaless_writer(buf, schema, {"d": Decimal("-1.28")})
    assert compile_writer(schema)(R()) == buf.getvalue()


@pytest.mark.parametrize(
    "field_type",
    [
        {"type": "map", "values": "string"},
        {"type": "fixed", "name": "F", "size": 4},
        ["null", "string", "long"],
        "double",
        {"type": "long", "logicalType": "timestamp-micros"},
    ],
    ids=["map", "fixed", "union-of-primitives", "double", "timestamp-micros"],
)
def test_unsupported_constructs_are_refused_at_compile_time(field_type: Any) -> None:
    schema = parse_schema({"type": "record", "name": "R", "fields": [{"name": "x", "type": field_type}]})
    with pytest.raises(NotCompilableError):
        compile_writer(schema)


def test_source_is_one_function_per_record_type() -> None:
    source = compile_source(SCHEMA)
    models = [n for n in vars(m).values() if isinstance(n, type) and issubclass(n, m.AvroModel)]
    records = [n for n in models if n is not m.AvroModel]
    assert source.count("\ndef ") + 1 == len(records) == 24
    assert source.startswith("def w_eu_returns_gateway_v1_CaseEvent(o, a):")
