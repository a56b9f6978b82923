"""Where the processor's case states come from: given per call, per partition in service mode, never shared by accident.

No broker: the partition stores are SQLite files on a temporary path, as the state runtime opens them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Message

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.connectors.base import ConnectorConfig, MappingContext, RawRecord
from gateway.events.models import CaseEvent, MemberState, Severity, ValidationFinding
from gateway.kafka.producer import OutboundMessage
from gateway.pipeline.case_states import StoredCaseStates, case_state_codec
from gateway.pipeline.outcome import Outcome
from gateway.pipeline.processor import RecordProcessor, Verdict
from gateway.pipeline.pseudonym import pseudonymiser
from gateway.pipeline.service import by_partition, transform_for
from gateway.pipeline.wiring import build_processor
from gateway.samples.generate import sample_records
from gateway.state.changelog import decode_change
from gateway.state.store import PartitionStore
from gateway.validation.state import CaseKey, CaseState, CaseStates, InMemoryCaseStates

from .toy import ToyConnector

RECORDED_AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
NOW = RECORDED_AT + dt.timedelta(days=30)
CODEC = case_state_codec()
PARTITIONS = 3


@pytest.fixture(scope="module")
def connector() -> Any:
    cls = discovery.load("de-csv")
    return cls(cls.config_model.model_validate({"member_state": "DE"}))


def _processor(connector: Any, settings: GatewaySettings | None = None) -> RecordProcessor:
    settings = settings or GatewaySettings()
    return build_processor(connector, settings, correlation_id="run", recorded_at=RECORDED_AT, now=NOW)


def _raw(connector: Any, count: int = 600) -> tuple[list[RawRecord], list[int], list[bytes]]:
    """Sample records keyed by case, as the README asks of raw topics: each case's records in one partition."""
    records, partitions, keys, key = [], [], [], b""
    for index, sample in sample_records(connector, count=count, seed=13, defect_share=0.1):
        key = sample.facts[0].case_reference.encode() if sample.facts else key
        records.append(connector.from_message(sample.data, "raw", f"raw/{index}", index))
        partitions.append(sum(key) % PARTITIONS)
        keys.append(key)
    return records, partitions, keys


class _Stores:
    """The part of the state runtime the service's transform uses: a store per partition, and their changes."""

    def __init__(self, folder: Path) -> None:
        self.stores = {p: PartitionStore(folder / f"{p}.sqlite", "app.cases.changelog", p) for p in range(PARTITIONS)}
        self.opened: list[StoredCaseStates] = []

    def store(self, name: str, partition: int) -> PartitionStore:
        assert name == "cases"
        return self.stores[partition]

    def states(self, partition: int) -> StoredCaseStates:
        """A partition's case states for one batch, as the service's transform makes them."""
        states = StoredCaseStates(self.stores[partition], CODEC)
        self.opened.append(states)
        return states

    def flush(self) -> None:
        """Write back the batch's case states, as the transform does before collecting the changes."""
        for states in self.opened:
            states.flush()
        self.opened.clear()

    def changes(self) -> list[OutboundMessage]:
        return [m for s in self.stores.values() for m in s.changes()]

    def commit(self) -> None:
        self.flush()
        for s in self.stores.values():
            s.commit(None)

    def rollback(self) -> None:
        for s in self.stores.values():
            s.rollback()

    def close(self) -> None:
        for s in self.stores.values():
            s.close()


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[_Stores]:
    s = _Stores(tmp_path / "cases")
    yield s
    s.close()


def _warnings(outcomes: Sequence[Outcome]) -> list[tuple[str, ...] | str]:
    """Per record, its dead-letter stage or its events' warning rule ids: the verdicts."""
    return [
        f"dead:{o.dead_letter.stage}" if o.dead_letter else tuple(w.rule_id for e in o.events for w in e.warnings)
        for o in outcomes
    ]


# explicit states ----------------------------------------------------------------------------------------------


def test_a_call_with_states_uses_them_and_not_the_processors_own(connector: Any):
    records, _, _ = _raw(connector, 200)
    processor = _processor(connector)
    given = InMemoryCaseStates()
    processor.process_batch(records, states=given)
    assert len(given) > 0
    assert len(processor.states) == 0
    alone = _processor(connector).process_batch(records)
    assert processor.process_batch(records, states=InMemoryCaseStates()) == alone


def test_without_history_some_verdicts_differ(connector: Any):
    """The comparisons below have teeth: the sample's cross-event rules do depend on each case's history."""
    records, _, _ = _raw(connector, 200)
    processor = _processor(connector)
    with_history = processor.process_batch(records, states=InMemoryCaseStates())
    without = [processor.process(r, states=InMemoryCaseStates()) for r in records]
    assert _warnings(with_history) != _warnings(without)


def test_processor_states_can_be_given_at_construction(connector: Any, stores: _Stores):
    records, _, _ = _raw(connector, 100)
    processor = build_processor(connector, GatewaySettings(), correlation_id="run", now=NOW, states=stores.states(0))
    processor.process_batch(records)
    stores.flush()
    assert stores.stores[0].count() > 0


# stop at the first dead letter ---------------------------------------------------------------------------------


class _RejectSecond:
    """Rejects the second record it sees; logs every case it validated."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def check(self, events: Sequence[CaseEvent], states: CaseStates) -> Verdict:
        self.seen.extend(e.case_reference for e in events)
        if len(self.seen) != 2:
            return Verdict(tuple(events))
        finding = ValidationFinding(
            rule_id="VD-001", severity=Severity.ERROR, path="payload", message="second", legal_reference="Art. 7"
        )
        return Verdict(tuple(events), (finding,))


def _toy_records(*lines: str) -> list[RawRecord]:
    data = "\n".join(lines).encode() + b"\n"
    return list(ToyConnector(ConnectorConfig(member_state=MemberState.NL)).read(io.BytesIO(data), "in.txt"))


def test_until_dead_letter_validates_nothing_after_the_first_dead_letter():
    stage = _RejectSecond()
    ctx = MappingContext("toy", "1.0", MemberState.NL, "run-1", RECORDED_AT, pseudonymiser(b"secret", "NL"))
    processor = RecordProcessor(ToyConnector(ConnectorConfig(member_state=MemberState.NL)), ctx, EventCodec(), stage)
    records = _toy_records("ENTRY_RECORDED", "ENTRY_RECORDED", "ENTRY_RECORDED", "!broken")
    out = processor.process_batch(records, until_dead_letter=True)
    assert [o.dead_letter.stage if o.dead_letter else "ok" for o in out] == ["ok", "validate"]
    assert stage.seen == ["CASE-0", "CASE-1"]  # the third record was never validated
    parse_first = processor.process_batch(_toy_records("!broken", "ENTRY_RECORDED"), until_dead_letter=True)
    assert [o.dead_letter.stage if o.dead_letter else "ok" for o in parse_first] == ["parse"]
    assert stage.seen == ["CASE-0", "CASE-1"]


def test_until_dead_letter_gives_the_same_outcomes_up_to_the_dead_letter(connector: Any):
    records, _, _ = _raw(connector, 200)
    everything = _processor(connector).process_batch(records)
    first = next(i for i, o in enumerate(everything) if o.dead_letter)
    states = InMemoryCaseStates()
    stopped = _processor(connector).process_batch(records, states=states, until_dead_letter=True)
    assert stopped == everything[: first + 1]
    upto = InMemoryCaseStates()
    _processor(connector).process_batch(records[:first], states=upto)
    assert dict(states.items()) == dict(upto.items())  # the records after the dead letter left no trace


# per partition (service mode) ---------------------------------------------------------------------------------


def test_by_partition_gives_the_verdicts_of_one_process_and_keeps_the_batch_order(connector: Any, stores: _Stores):
    records, partitions, _ = _raw(connector)
    reference = _processor(connector).process_batch(records)
    processor = _processor(connector)
    got: list[Outcome] = []
    for start in range(0, len(records), 97):  # batches that cut cases in two: the stores carry them over
        part = slice(start, start + 97)
        got.extend(by_partition(processor, stores.states, records[part], [None] * len(records[part]), partitions[part]))
        stores.commit()
    assert got == reference
    assert len(processor.states) == 0
    # Each store holds the cases of the records validated in its partition, and only those.
    routed = _routed(reference, partitions)
    for p, store in stores.stores.items():
        held = {k.split(b"|", 1)[1] for k, _ in store.items()}
        assert held
        assert held <= routed[p]


def _routed(outcomes: Sequence[Outcome], partitions: Sequence[int]) -> dict[int, set[bytes]]:
    """Per partition, the cases of the events its records became."""
    codec = EventCodec()
    routed: dict[int, set[bytes]] = {p: set() for p in range(PARTITIONS)}
    for outcome, p in zip(outcomes, partitions, strict=True):
        routed[p] |= {codec.decode(e.value).case_reference.encode() for e in outcome.events}
    return routed


def _messages(records: Sequence[RawRecord], partitions: Sequence[int], keys: Sequence[bytes]) -> list[Message]:
    return [
        Message(topic="raw", partition=p, offset=r.index, key=k, value=r.data, headers=[])
        for r, p, k in zip(records, partitions, keys, strict=True)
    ]


def test_the_service_transform_writes_each_changed_case_once_per_batch(
    connector: Any, stores: _Stores, monkeypatch: pytest.MonkeyPatch
):
    records, partitions, keys = _raw(connector, 300)
    settings = GatewaySettings()
    batch = _messages(records, partitions, keys)
    writes: list[tuple[int, bytes]] = []
    for p, store in stores.stores.items():

        def counting(key: bytes, value: bytes, expires_ms: int | None = None, *, _p: int = p, _put: Any = store.put):
            writes.append((_p, key))
            _put(key, value, expires_ms)

        monkeypatch.setattr(store, "put", counting)
    puts: list[CaseKey] = []
    put = StoredCaseStates.put

    def counting_puts(self: StoredCaseStates, key: CaseKey, state: CaseState) -> None:
        puts.append(key)
        put(self, key, state)

    monkeypatch.setattr(StoredCaseStates, "put", counting_puts)
    transform = transform_for(connector, _processor(connector, settings), settings, stores)
    out = transform(batch)
    assert writes
    assert len(writes) == len(set(writes))  # cases folded several times in the batch are written once
    changelog = [m for m in out if m.topic == "app.cases.changelog"]
    assert len(changelog) == len(writes)
    # The rule stage changed some cases more than once in the batch: writing through would have written them so.
    assert len(puts) > len(writes)


def test_the_service_transform_adds_each_partitions_changes_and_is_redone_alike(connector: Any, stores: _Stores):
    records, partitions, keys = _raw(connector, 300)
    settings = GatewaySettings()
    batch = _messages(records, partitions, keys)
    transform = transform_for(connector, _processor(connector, settings), settings, stores)
    first = transform(batch)
    stores.rollback()  # the transaction was aborted: the batch is transformed again, against the same states
    again = transform(batch)
    assert [(m.topic, m.key, m.value, m.partition) for m in again] == [
        (m.topic, m.key, m.value, m.partition) for m in first
    ]
    changelog = [m for m in again if m.topic == "app.cases.changelog"]
    assert changelog
    assert changelog == stores.changes()
    assert again[-len(changelog) :] == changelog
    routed = _routed(_processor(connector, settings).process_batch(records), partitions)
    for m in changelog:
        change = decode_change(m.key, m.value, list(m.headers))
        assert m.partition is not None
        assert change.key.split(b"|", 1)[1] in routed[m.partition]

    # Without the stores the same records give the verdicts of one in-memory run.
    canonical = [m.value for m in again if m.topic == settings.topics.canonical]
    plain = transform_for(connector, _processor(connector, settings), settings)(batch)
    assert canonical == [m.value for m in plain if m.topic == settings.topics.canonical]
