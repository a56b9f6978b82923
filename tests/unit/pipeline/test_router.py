"""The outcome router: one place decides canonical topic or DLQ, the headers, the fit and the error tolerance."""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.connectors.base import RawRecord
from gateway.dlq import DeadLetter
from gateway.dlq import headers as H
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.pipeline import router
from gateway.pipeline.outcome import EncodedEvent, Outcome
from gateway.pipeline.router import IngestStoppedError, Routing, route

ROUTING = Routing("canon", "dlq.toy", "toy", "tests.Toy", "all", 1_000_000)
PIPELINE = Path(router.__file__).parent


def _dead(data: bytes, record: RawRecord | None = None) -> Outcome:
    record = record or RawRecord(data, "in/export.txt", "line 4", 3)
    return Outcome(record, dead_letter=DeadLetter(record, "parse", "gateway.errors.ParseError", "broken"))


def _size(key: bytes | None, value: bytes, headers: tuple[tuple[str, bytes], ...]) -> int:
    return len(key or b"") + len(value) + sum(len(k) + len(v) for k, v in headers)


def test_events_go_to_the_canonical_topic_with_their_type():
    record = RawRecord(b"x", "f", "line 1")
    outcome = Outcome(record, events=(EncodedEvent(b"k", b"v", "ENTRY_RECORDED"),))
    [msg] = route(outcome, ROUTING, correlation_id="c")
    assert (msg.topic, msg.key, msg.value) == ("canon", b"k", b"v")
    assert msg.headers == ((EVENT_TYPE_HEADER, b"ENTRY_RECORDED"),)


def test_a_dead_letter_goes_to_the_dlq_whole_when_it_fits():
    [msg] = route(_dead(b"!broken"), ROUTING, correlation_id="c", now_ms=1)
    text = H.as_text(msg.headers)
    assert (msg.topic, msg.key, msg.value) == ("dlq.toy", b"in/export.txt", b"!broken")
    assert text[H.SOURCE_FILE] == "in/export.txt"
    assert H.ORIGINAL_LENGTH not in text  # the value is the whole record


def test_tolerance_none_stops_instead_of_dead_lettering():
    strict = Routing("canon", "dlq.toy", "toy", "tests.Toy", "none")
    with pytest.raises(IngestStoppedError, match="line 4"):
        route(_dead(b"!broken"), strict, correlation_id="c")


@pytest.mark.parametrize("limit", [1_000_000, 1_048_588, 64_000])
def test_an_oversized_dead_letter_is_cut_to_fit_the_topic_with_the_whole_records_length_and_digest(limit: int):
    data = bytes(range(256)) * (5 * 4096)  # 5 MiB
    routing = Routing("canon", "dlq.toy", "toy", "tests.Toy", "all", limit)
    [msg] = route(_dead(data), routing, correlation_id="c" * 40)
    text = H.as_text(msg.headers)
    assert _size(msg.key, msg.value, msg.headers) <= limit - 512  # a margin is left for the batch framing
    assert data.startswith(msg.value)
    assert len(msg.value) > limit // 2
    assert text[H.ORIGINAL_LENGTH] == str(len(data))
    assert text[H.ORIGINAL_SHA256] == hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class _CutRecord(RawRecord):
    """A record a reader could not keep whole, as readers will mark it (fields added to RawRecord by another change)."""

    original_length: int | None = None
    original_sha256: str | None = None


def test_a_record_the_reader_cut_carries_the_readers_length_and_digest_even_when_its_prefix_fits():
    whole = b"y" * 3_000_000
    record = _CutRecord(whole[:65536], "in/x", "line 2", 1, original_length=len(whole),
                        original_sha256=hashlib.sha256(whole).hexdigest())  # fmt: skip
    [msg] = route(_dead(record.data, record), ROUTING, correlation_id="c")
    text = H.as_text(msg.headers)
    assert msg.value == whole[:65536]
    assert (text[H.ORIGINAL_LENGTH], text[H.ORIGINAL_SHA256]) == ("3000000", hashlib.sha256(whole).hexdigest())


def test_a_replayed_record_that_fails_again_names_one_source_and_keeps_the_replay_chain():
    # What a file's dead letter looks like on the raw topic after two replays (the chain grows by one per hop).
    replayed = [
        (H.SOURCE_FILE, b"in/export.txt"),
        (H.SOURCE_POSITION, b"line 4"),
        (H.SOURCE_INDEX, b"3"),
        (H.SOURCE_ENCODING, b"utf-8"),
        (H.REPLAYED_FROM, b"dlq.toy:0:7"),
        (H.REPLAYED_FROM, b"dlq.toy:0:12"),
    ]
    record = RawRecord(b"!broken", "raw.toy", "raw.toy/1/40", 40)
    [msg] = route(
        _dead(b"!broken", record),
        ROUTING,
        correlation_id="replay:dlq.toy:0:7",
        origin=H.KafkaOrigin("raw.toy", 1, 40),
        key=b"k",
        original_headers=replayed,
    )
    names = [k for k, _ in msg.headers]
    assert H.SOURCE_FILE not in names
    assert names.count(H.SOURCE_POSITION) == names.count(H.SOURCE_INDEX) == names.count(H.TOPIC) == 1
    assert [v for k, v in msg.headers if k == H.REPLAYED_FROM] == [b"dlq.toy:0:7", b"dlq.toy:0:12"]
    assert "@ raw.toy raw.toy/1/40" in H.summary(H.as_text(msg.headers))


def test_only_the_router_builds_dead_letters_and_canonical_messages():
    """One router below every driver: no other pipeline module builds DLQ headers or canonical messages."""
    builders = {"dead_letter_headers", "EVENT_TYPE_HEADER", "fit"}
    users = {
        path.name
        for path in PIPELINE.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Name | ast.alias)
        and (getattr(node, "id", None) or getattr(node, "name", "")) in builders
    }
    assert users == {"router.py"}
