"""The outbox contract: content-derived ids, the Avro codec, the Kafka record, the schema folders' house rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.codec.schemas import load_root, read_named_types
from gateway.delivery.outbox import (
    OUTBOX_ROOT,
    OUTBOX_SCHEMA_DIR,
    OutboxCodec,
    OutboxMessage,
    message_id_for,
    outbox_codec,
    outbox_record,
)
from gateway.delivery.receipts import (
    RECEIPT_ROOT,
    RECEIPT_SCHEMA_DIR,
    RESPONSE_MAX_CHARS,
    Outcome,
    Receipt,
    ReceiptCodec,
    receipt_codec,
    receipt_record,
)
from gateway.errors import DecodeError
from gateway.evolution.compat import enum_default_findings
from gateway.evolution.history import expand
from gateway.evolution.roots import schema_roots
from gateway.testing.strategies import utc_millis
from tests.unit.delivery.support import CREATED, message

CODEC = OutboxCodec()
RECEIPTS = ReceiptCodec()


def test_message_id_is_stable_and_a_uuid5():
    a = message_id_for("sis", "SIS_CREATE", "case-1", "ev-1", b"<x/>")

    assert a == message_id_for("sis", "SIS_CREATE", "case-1", "ev-1", b"<x/>")
    assert uuid.UUID(a).version == 5


def test_message_id_golden_value():
    # Pinned: the targets de-duplicate by these ids, so they may never change between releases.
    assert message_id_for("sis", "SIS_CREATE", "case-1", "ev-1", b"<x/>") == "cc425486-d595-5521-b259-258c94a10767"


@pytest.mark.parametrize(
    "changed",
    [
        ("eurodac", "SIS_CREATE", "case-1", "ev-1", b"<x/>"),
        ("sis", "SIS_UPDATE", "case-1", "ev-1", b"<x/>"),
        ("sis", "SIS_CREATE", "case-2", "ev-1", b"<x/>"),
        ("sis", "SIS_CREATE", "case-1", "ev-2", b"<x/>"),
        ("sis", "SIS_CREATE", "case-1", None, b"<x/>"),
        ("sis", "SIS_CREATE", "case-1", "", b"<x/>"),
        ("sis", "SIS_CREATE", "case-1", "ev-1", b"<y/>"),
        # parts shifted across boundaries must not collide
        ("si", "sSIS_CREATE", "case-1", "ev-1", b"<x/>"),
        ("sis", "SIS_CREATE", "case-1e", "v-1", b"<x/>"),
    ],
)
def test_message_id_depends_on_every_part(changed):
    assert message_id_for(*changed) != message_id_for("sis", "SIS_CREATE", "case-1", "ev-1", b"<x/>")


def test_message_id_ignores_build_time():
    first = message()
    rebuilt = dataclasses.replace(message(), created_at=CREATED + dt.timedelta(hours=3))

    assert first.message_id == rebuilt.message_id


def test_codec_round_trip_and_garbage():
    m = message()

    assert CODEC.decode(CODEC.encode(m)) == m
    assert outbox_codec().decode(CODEC.encode(m)) == m
    with pytest.raises(DecodeError):
        CODEC.decode(b"not avro")
    with pytest.raises(DecodeError):
        RECEIPTS.decode(CODEC.encode(m))  # an outbox message is not a receipt: a different fingerprint


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def outbox_messages(draw: st.DrawFn) -> OutboxMessage:
    target, kind, key = draw(_text), draw(_text), draw(_text)
    source = draw(st.none() | _text)
    body = draw(st.binary(max_size=300))
    return OutboxMessage(
        message_id=message_id_for(target, kind, key, source, body),
        target=target,
        kind=kind,
        ordering_key=key,
        sequence=draw(st.integers(1, 2**62)),
        created_at=draw(utc_millis()),
        source_event_id=source,
        source_event_at=draw(st.none() | utc_millis()),
        content_type=draw(st.sampled_from(["application/xml", "application/json; charset=utf-8"])),
        body=body,
    )


@settings(max_examples=200, deadline=None)
@given(outbox_messages())
def test_codec_round_trips_any_message(m: OutboxMessage):
    assert CODEC.decode(CODEC.encode(m)) == m


@settings(max_examples=100, deadline=None)
@given(outbox_messages(), st.sampled_from(list(Outcome)), st.none() | st.text(max_size=3000))
def test_receipt_round_trips_and_bounds_the_response(m: OutboxMessage, outcome: Outcome, response: str | None):
    receipt = Receipt(
        m.message_id, m.target, m.kind, m.ordering_key, m.sequence, outcome, 3, 503, response, "http",
        m.created_at, m.source_event_at,
    )  # fmt: skip

    assert receipt.response is None or len(receipt.response) <= RESPONSE_MAX_CHARS
    assert RECEIPTS.decode(RECEIPTS.encode(receipt)) == receipt


def test_outbox_record_is_keyed_by_case_with_headers():
    m = message("case-7", 3)
    record = outbox_record("gateway.out.sis", m, CODEC)

    assert record.topic == "gateway.out.sis"
    assert record.key == b"case-7"
    assert CODEC.decode(record.value or b"") == m
    assert dict(record.headers) == {
        "gw.message.id": m.message_id.encode(),
        "gw.message.kind": b"SIS_UPDATE",
        "gw.target": b"sis",
        "gw.sequence": b"3",
    }


def test_receipt_record_is_keyed_like_its_message():
    m = message("case-9", 2)
    receipt = Receipt(m.message_id, "sis", m.kind, "case-9", 2, Outcome.DUPLICATE, 1, 409, None, "http", CREATED)
    record = receipt_record("gateway.receipts.v1", receipt, receipt_codec())

    assert record.key == b"case-9"
    assert ("gw.delivery.outcome", b"DUPLICATE") in record.headers
    assert receipt_codec().decode(record.value or b"") == receipt


# schemas ------------------------------------------------------------------------------------------------------

FOLDERS = [
    (OUTBOX_SCHEMA_DIR, OUTBOX_ROOT, "eu.returns.gateway.outbox.v1"),
    (RECEIPT_SCHEMA_DIR, RECEIPT_ROOT, "eu.returns.gateway.delivery.v1"),
]


@pytest.mark.parametrize(("folder", "root", "namespace"), FOLDERS)
def test_schema_folders_follow_the_house_rules(folder, root, namespace):
    types = read_named_types(folder)  # each file named by its type's full name
    assert load_root(folder, root)["name"] == root
    expanded = expand(folder, root)
    assert f'"namespace": "{namespace}"' in json.dumps(expanded)
    assert list(enum_default_findings(expanded)) == []
    for name, t in types.items():
        assert t.get("doc"), name
        for f in t.get("fields", []):
            assert f.get("doc"), f"{name}.{f['name']}"
        if t["type"] == "enum":
            assert t["default"] == "UNKNOWN"


def test_new_folders_are_roots_of_the_evolution_gate():
    roots = {r.root for r in schema_roots()}

    assert {OUTBOX_ROOT, RECEIPT_ROOT} <= roots


def test_outcome_enum_matches_python():
    symbols = read_named_types(RECEIPT_SCHEMA_DIR)["eu.returns.gateway.delivery.v1.Outcome"]["symbols"]

    assert symbols == [o.value for o in Outcome]
