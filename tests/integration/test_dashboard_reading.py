"""The dashboard's offset reads on the real broker: watermarks, the tail, one offset, the incremental summary.

The topic is written with transactions, one of them aborted, so its offsets hold transaction markers and an aborted
record: offsets that are not dead letters, which a read by offset must step over.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from gateway.dashboard.reading import TopicReader, Watermarks
from gateway.dashboard.summary import SummaryKeeper
from gateway.kafka.reader import MissingTopicError
from gateway.kafka.settings import KafkaSettings
from tests.unit.dashboard.support import dead_letter

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)


def produce(bootstrap: str, topic: str, offsets: range, *, abort: bool = False) -> None:
    """One transaction of dead letters (as the pipeline writes them) to partition 0."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"dash-test-{uuid.uuid4().hex[:8]}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in offsets:
        rec = dead_letter(i, minute=i)
        producer.produce(topic, rec.value, partition=0, headers=list(rec.raw_headers))
    if abort:
        producer.flush(30)  # on the broker first, so the aborted record takes an offset
        producer.abort_transaction(30)
    else:
        producer.commit_transaction(30)


def visible(reader: TopicReader, end: int) -> Watermarks:
    """The watermarks once partition 0 ends at ``end``.

    The commit markers are written just after ``commit_transaction`` returns, so for a moment the end a reader sees
    is the one before the commit (a CI run read 0 new records here).
    """
    deadline = time.monotonic() + 10
    while (marks := reader.watermarks()).offsets[0][1] < end and time.monotonic() < deadline:
        time.sleep(0.05)
    return marks


@pytest.fixture
def topic(kafka_bootstrap: str, admin: AdminClient) -> str:
    name = f"dash-read-{uuid.uuid4().hex[:8]}"
    for future in admin.create_topics([NewTopic(name, 1, 1)]).values():
        future.result()
    return name


def test_reads_by_offset_step_over_markers_and_aborted_records(kafka_bootstrap: str, topic: str):
    reader = TopicReader(KafkaSettings(bootstrap_servers=kafka_bootstrap), topic, timeout_s=10)
    produce(kafka_bootstrap, topic, range(5))  # offsets 0-4, marker at 5
    produce(kafka_bootstrap, topic, range(5, 6), abort=True)  # aborted record at 6, marker at 7
    produce(kafka_bootstrap, topic, range(6, 9))  # offsets 8-10, marker at 11
    assert visible(reader, 12).offsets == {0: (0, 12)}

    tail = list(reader.read_ranges({0: (7, 12)}))
    assert [r.offset for r in tail] == [8, 9, 10]
    assert [r.headers["gw.source.position"] for r in tail] == ["line 8", "line 9", "line 10"]
    assert [r.offset for r in reader.read_ranges({0: (2, 4)})] == [2, 3]  # stops at the range's end

    assert [r.offset for r in reader.read_at([(0, 9), (0, 3)])] == [3, 9]
    assert reader.read_at([(0, 5), (0, 6), (0, 99), (3, 0)]) == []  # a marker, an aborted record, out of range

    keeper = SummaryKeeper(reader, 60, lambda: NOW)
    first = keeper.refresh()
    assert (first.counted, first.read, first.on_topic) == (8, 8, 12)
    produce(kafka_bootstrap, topic, range(9, 11))  # offsets 12-13
    visible(reader, 14)
    again = keeper.refresh()
    assert (again.counted, again.read) == (10, 2)  # only the new ones were read


def test_a_missing_topic_is_said_at_once(kafka_bootstrap: str):
    reader = TopicReader(KafkaSettings(bootstrap_servers=kafka_bootstrap), f"no-such-{uuid.uuid4().hex[:8]}")
    with pytest.raises(MissingTopicError):
        reader.watermarks()
