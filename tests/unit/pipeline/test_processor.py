from __future__ import annotations

import datetime as dt
import io

import pytest

from gateway.codec.codec import EventCodec
from gateway.connectors.base import ConnectorConfig, MappingContext, RawRecord
from gateway.dlq import headers as H
from gateway.events.models import EventType, MemberState, Severity, ValidationFinding
from gateway.pipeline.processor import RecordProcessor, Verdict
from gateway.pipeline.pseudonym import pseudonymiser

from .toy import ToyConnector


def _processor(validation=None) -> RecordProcessor:
    connector = ToyConnector(ConnectorConfig(member_state=MemberState.NL))
    ctx = MappingContext(
        "toy", "1.0", MemberState.NL, "corr-1", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), pseudonymiser(b"secret", "NL")
    )
    return RecordProcessor(connector, ctx, EventCodec(), validation)


def _records(*lines: str) -> list[RawRecord]:
    data = "\n".join(lines).encode() + b"\n"
    return list(ToyConnector(ConnectorConfig(member_state=MemberState.NL)).read(io.BytesIO(data), "in.txt"))


def test_every_record_yields_events_or_one_dead_letter():
    proc = _processor()
    lines = [str(t) for t in EventType if t != EventType.UNKNOWN] + ["!broken", "NO_SUCH_TYPE"]
    outcomes = [proc.process(r) for r in _records(*lines)]
    good = [o for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]
    assert len(good) == 13
    assert all(len(o.events) == 1 and o.dead_letter is None for o in good)
    assert [o.dead_letter.stage for o in bad] == ["parse", "map"]
    assert all(not o.events for o in bad)
    codec = EventCodec()
    decoded = [codec.decode(o.events[0].value) for o in good]
    assert {str(e.event_type) for e in decoded} == set(lines[:13])


def test_dead_letter_keeps_original_bytes_and_says_why():
    proc = _processor()
    (record,) = _records("!broken")
    dead = proc.process(record).dead_letter
    assert dead is not None
    assert dead.record.data == b"!broken"
    assert dead.error_class == "gateway.errors.ParseError"
    assert "malformed line" in dead.message


def test_reader_error_is_dead_lettered_at_stage_read():
    from gateway.errors import ParseError

    proc = _processor()
    record = RawRecord(b"\xff\xfe", "f", "byte 10", error=ParseError("truncated file"))
    dead = proc.process(record).dead_letter
    assert dead is not None
    assert dead.stage == "read"


def test_subject_key_is_keyed_hash_and_stable():
    key = pseudonymiser(b"secret", "NL")
    assert key("4711") == key("4711")
    assert key("4711") != pseudonymiser(b"other", "NL")("4711")
    assert key("4711") != pseudonymiser(b"secret", "BE")("4711")
    assert "4711" not in key("4711")


def test_event_ids_are_derived_from_content():
    proc = _processor()
    (a,) = _records("ENTRY_RECORDED")
    first = EventCodec().decode(proc.process(a).events[0].value)
    second = EventCodec().decode(proc.process(a).events[0].value)
    assert first.event_id == second.event_id


class _RejectAll:
    def check(self, events, states):
        finding = ValidationFinding(
            rule_id="VD-001",
            severity=Severity.ERROR,
            path="payload.x",
            message="too short",
            legal_reference="Dir. 2008/115/EC Art. 7(1)",
        )
        return Verdict(tuple(events), (finding,))


class _WarnAll:
    def check(self, events, states):
        finding = ValidationFinding(
            rule_id="EU-009",
            severity=Severity.WARNING,
            path="payload",
            message="late",
            legal_reference="Reg. 2024/1358 Art. 15(1)",
        )
        return Verdict(tuple(e.model_copy(update={"validation_warnings": (finding,)}) for e in events), (finding,))


def test_rule_errors_dead_letter_with_rule_ids():
    (record,) = _records("ENTRY_RECORDED")
    out = _processor(_RejectAll()).process(record)
    assert out.dead_letter is not None
    assert out.dead_letter.stage == "validate"
    assert out.dead_letter.rule_ids == ("VD-001",)
    assert out.dead_letter.legal_references == ("Dir. 2008/115/EC Art. 7(1)",)


def test_rule_warnings_travel_with_the_event():
    (record,) = _records("ENTRY_RECORDED")
    out = _processor(_WarnAll()).process(record)
    assert out.ok
    event = EventCodec().decode(out.events[0].value)
    assert [w.rule_id for w in event.validation_warnings] == ["EU-009"]


def test_dead_letter_headers_use_connect_names():
    (record,) = _records("!broken")
    dead = _processor().process(record).dead_letter
    hdrs = H.dead_letter_headers(
        dead,
        connector="toy",
        connector_class="tests.ToyConnector",
        correlation_id="c",
        original=[("orig", b"1")],
        now_ms=5,
    )
    text = H.as_text(hdrs)
    assert hdrs[0] == ("orig", b"1")
    assert text[H.STAGE] == "PARSE"
    assert text[H.CONNECTOR] == "toy"
    assert text[H.EXC_CLASS] == "gateway.errors.ParseError"
    assert text[H.SOURCE_FILE] == "in.txt"
    assert text[H.SOURCE_POSITION] == "line 1"
    assert H.TOPIC not in text
    origin = H.KafkaOrigin("raw", 2, 99)
    text2 = H.as_text(
        H.dead_letter_headers(dead, connector="toy", connector_class="x", correlation_id="c", origin=origin)
    )
    assert (text2[H.TOPIC], text2[H.PARTITION], text2[H.OFFSET]) == ("raw", "2", "99")
    assert "ParseError" in H.summary(text2)


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("kafka_dlt-original-partition", (3).to_bytes(4, "big"), ("__connect.errors.partition", "3")),
        ("kafka_dlt-original-offset", (70000).to_bytes(8, "big"), ("__connect.errors.offset", "70000")),
    ],
)
def test_spring_binary_headers_are_read(key, raw, expected):
    assert H.as_text([(key, raw)])[expected[0]] == expected[1]


def test_rule_dead_letters_carry_rule_ids_and_legal_references_in_headers():
    (record,) = _records("ENTRY_RECORDED")
    dead = _processor(_RejectAll()).process(record).dead_letter
    text = H.as_text(H.dead_letter_headers(dead, connector="toy", connector_class="x", correlation_id="c"))
    assert text[H.STAGE] == "VALIDATE"
    assert text[H.EXC_CLASS] == "gateway.errors.RuleViolationError"
    assert text[H.RULE_IDS] == "VD-001"
    assert text[H.LEGAL_REFS] == "Dir. 2008/115/EC Art. 7(1)"
    assert "VD-001" in H.summary(text)


def test_dead_letter_stacktrace_names_frames_and_the_exception():
    proc = _processor()
    (record,) = _records("!broken")
    dead = proc.process(record).dead_letter
    assert dead is not None
    trace = dead.stacktrace
    assert trace.startswith("Traceback (most recent call last):\n")
    assert 'toy.py", line ' in trace
    assert "in parse" in trace
    assert trace.rstrip().splitlines()[-1].startswith("gateway.errors.ParseError: ")
    assert "^^^" not in trace  # no caret lines: placing them parses source, which cost more than the record


def test_stacktrace_keeps_the_outermost_frames():
    from gateway.pipeline.processor import stacktrace

    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("bottom")
        deep(n - 1)

    try:
        deep(10)
    except ValueError as exc:
        trace = stacktrace(exc, limit=3)
    assert trace.count('  File "') == 3
    assert "in test_stacktrace_keeps_the_outermost_frames" in trace
    assert trace.endswith("ValueError: bottom\n")


def test_stacktrace_reads_like_the_standard_library_without_carets():
    import traceback

    from gateway.pipeline.processor import stacktrace

    def inner() -> None:
        values = {"a": 1}
        print(values["b"])

    try:
        inner()
    except KeyError as exc:
        trace = stacktrace(exc, limit=10)
        standard = traceback.format_exception(exc)
    # The standard library's text, less its marker lines (``~~~^^^``: only they need source parsing).
    lines = "".join(standard).splitlines(keepends=True)
    assert trace == "".join(line for line in lines if not set(line.strip()) <= {"^", "~"})
    assert "in inner" in trace
