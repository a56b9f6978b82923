"""``process_batch`` runs the stages batch-wide; its outcomes must be those of ``process`` on each record in turn."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence

import pytest

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.connectors.base import ConnectorConfig, MappingContext, RawRecord
from gateway.events.models import CaseEvent, MemberState, Severity, ValidationFinding
from gateway.pipeline.outcome import Outcome
from gateway.pipeline.processor import RecordProcessor, Verdict
from gateway.pipeline.pseudonym import pseudonymiser
from gateway.pipeline.wiring import build_processor
from gateway.samples.generate import generate
from gateway.validation.state import CaseStates

from .toy import ToyConnector

RECORDED_AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


class _EveryThirdRejected:
    """A stateful stage: rejects every third check, and logs what it saw and in which order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def check(self, events: Sequence[CaseEvent], states: CaseStates) -> Verdict:
        self.seen.extend(e.case_reference for e in events)
        if len(self.seen) % 3:
            return Verdict(tuple(events))
        finding = ValidationFinding(
            rule_id="VD-001", severity=Severity.ERROR, path="payload", message="third", legal_reference="Art. 7"
        )
        return Verdict(tuple(events), (finding,))


def _toy(stage: _EveryThirdRejected) -> RecordProcessor:
    connector = ToyConnector(ConnectorConfig(member_state=MemberState.NL))
    ctx = MappingContext("toy", "1.0", MemberState.NL, "run-1", RECORDED_AT, pseudonymiser(b"secret", "NL"))
    return RecordProcessor(connector, ctx, EventCodec(), stage)


def _toy_records() -> list[RawRecord]:
    lines = ["ENTRY_RECORDED", "!broken", "RETURN_DECISION_ISSUED", "NO_SUCH_TYPE"] * 4 + ["DEPARTURE_CONFIRMED"] * 5
    data = "\n".join(lines).encode() + b"\n"
    return list(ToyConnector(ConnectorConfig(member_state=MemberState.NL)).read(io.BytesIO(data), "in.txt"))


def test_batch_outcomes_and_validation_order_equal_one_by_one() -> None:
    records = _toy_records()
    one_stage, batch_stage = _EveryThirdRejected(), _EveryThirdRejected()
    one_by_one = [_toy(one_stage).process(r) for r in records]
    batched = _toy(batch_stage).process_batch(records)
    assert batched == one_by_one
    assert batch_stage.seen == one_stage.seen
    stages = [o.dead_letter.stage if o.dead_letter else "ok" for o in batched]
    assert {"parse", "map", "validate", "ok"} <= set(stages)


def test_batch_takes_a_correlation_id_per_record() -> None:
    records = _toy_records()[:3]
    ids = ["replay:dlq/0/7", None, "replay:dlq/0/9"]
    batched = _toy(_EveryThirdRejected()).process_batch(records, ids)
    proc = _toy(_EveryThirdRejected())
    assert batched == [proc.process(r, correlation_id=c) for r, c in zip(records, ids, strict=True)]
    assert EventCodec().decode(batched[0].events[0].value).correlation_id == "replay:dlq/0/7"
    with pytest.raises(ValueError, match="zip"):
        proc.process_batch(records, ids[:2])


def test_empty_batch() -> None:
    assert _toy(_EveryThirdRejected()).process_batch([]) == []


def _export(name: str) -> tuple[RecordProcessor, RecordProcessor, list[RawRecord]]:
    cls = discovery.load(name)
    state = {"de-csv": "DE", "fr-jsonl": "FR", "nl-xml": "NL"}[name]
    connector = cls(cls.config_model.model_validate({"member_state": state}))
    out = io.BytesIO()
    generate(connector, out, count=300, seed=7, defect_share=0.25)
    records = list(connector.read(io.BytesIO(out.getvalue()), f"{name}.export"))
    settings = GatewaySettings()
    now = RECORDED_AT + dt.timedelta(days=30)

    def processor() -> RecordProcessor:
        return build_processor(connector, settings, correlation_id="run", recorded_at=RECORDED_AT, now=now)

    return processor(), processor(), records


@pytest.mark.parametrize("name", ["de-csv", "fr-jsonl", "nl-xml"])
@pytest.mark.parametrize("size", [1, 7, 256])
def test_reference_connectors_with_rules_give_the_same_outcomes(name: str, size: int) -> None:
    one, batch, records = _export(name)
    expected = [one.process(r) for r in records]
    got: list[Outcome] = []
    for start in range(0, len(records), size):
        got.extend(batch.process_batch(records[start : start + size]))
    assert got == expected
    assert sum(1 for o in got if o.dead_letter) >= 50
    assert sum(len(o.events) for o in got) >= 150


def test_stream_is_batched_lazily_and_keeps_the_outcomes() -> None:
    records = _toy_records()
    read: list[int] = []

    def reader() -> Iterator[RawRecord]:
        for r in records:
            read.append(r.index)
            yield r

    stream = _toy(_EveryThirdRejected()).process_stream(reader(), batch=5)
    first = next(stream)
    assert len(read) == 5  # one batch read, not the whole stream
    rest = list(stream)
    one = _toy(_EveryThirdRejected())
    assert [first, *rest] == [one.process(r) for r in records]
    assert len(read) == len(records)
