"""The worker's logic without a broker: grouping, order per case, concurrency across cases, retries, outputs."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from confluent_kafka import Message

from gateway.config import GatewaySettings
from gateway.delivery.outbox import OutboxCodec, OutboxMessage, outbox_record
from gateway.delivery.receipts import Outcome, ReceiptCodec
from gateway.delivery.settings import DeliverySettings, RetryPolicy
from gateway.delivery.transport import SendOutcome, SendResult, TransientDeliveryError
from gateway.delivery.worker import DeliveryIncompleteError, delivery_transform, group_by_key, message_retrying
from gateway.errors import RecordError, TransientError
from tests.unit.delivery.support import message

CODEC = OutboxCodec()
RECEIPTS = ReceiptCodec()
FAST = RetryPolicy(initial_backoff_s=0.001, max_backoff_s=0.01, jitter_s=0.0, max_attempts=5, deadline_s=5)


class FakeTransport:
    """In memory: records sends per case, with scripted failures and delays."""

    name = "fake"

    def __init__(self, fail: dict[str, list[BaseException]] | None = None, delay: dict[str, float] | None = None):
        self.fail = {k: list(v) for k, v in (fail or {}).items()}
        self.delay = delay or {}
        self.sent: list[tuple[str, int]] = []
        self.accepted: dict[str, float] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def send(self, m: OutboxMessage) -> SendResult:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.sent.append((m.ordering_key, m.sequence))
        try:
            time.sleep(self.delay.get(m.ordering_key, 0.0))
            queue = self.fail.get(m.message_id)
            if queue:
                error = queue.pop(0)
                if isinstance(error, SendResult):
                    return error
                raise error
            with self._lock:
                if m.message_id in self.accepted:
                    return SendResult(SendOutcome.DUPLICATE, "duplicate", 409)
                self.accepted[m.message_id] = time.monotonic()
            return SendResult(SendOutcome.ACCEPTED, "accepted", 201)
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        pass


def _records(messages: list[OutboxMessage], *, partitions: int = 2) -> list[Message]:
    out = []
    offsets: dict[int, int] = defaultdict(int)
    for m in messages:
        partition = hash(m.ordering_key) % partitions
        rec = outbox_record("out.sis", m, CODEC)
        out.append(
            Message(
                topic="out.sis", partition=partition, offset=offsets[partition], key=rec.key, value=rec.value,
                headers=list(rec.headers),
            )
        )  # fmt: skip
        offsets[partition] += 1
    return out


def _transform(transport, *, max_in_flight=4, retry=FAST, stop=None, **options):
    settings = GatewaySettings()
    opts = DeliverySettings(max_in_flight=max_in_flight, retry=retry, **options)
    pool = ThreadPoolExecutor(max_in_flight)
    return delivery_transform(
        "sis", transport, opts, settings, codec=CODEC, receipts=RECEIPTS, pool=pool, stop=stop or threading.Event()
    ), settings


def test_group_by_key_keeps_first_appearance_and_inner_order():
    items = [("b", 1), ("a", 1), ("b", 2), ("c", 1), ("a", 2), ("b", 3)]

    groups = group_by_key(items, lambda i: i[0])

    assert groups == [[("b", 1), ("b", 2), ("b", 3)], [("a", 1), ("a", 2)], [("c", 1)]]


def test_retrying_retries_only_transient_delivery_errors():
    for error in (RecordError("bad"), ValueError("bug"), TransientError("kafka outage, not ours")):
        calls = []

        def fail(error=error, calls=calls):
            calls.append(1)
            raise error

        with pytest.raises(type(error)):
            message_retrying(FAST)(fail)
        assert len(calls) == 1, error


def test_retrying_stops_after_max_attempts_and_reraises_the_last():
    calls = []

    def fail():
        calls.append(1)
        raise TransientDeliveryError(f"try {len(calls)}", code="http-503")

    with pytest.raises(TransientDeliveryError, match="try 5"):
        message_retrying(FAST)(fail)
    assert len(calls) == 5


def test_retrying_honours_retry_after_with_a_cap():
    waits: list[float] = []
    answers = iter([7.0, 500.0, None])

    def fail():
        after = next(answers, "done")
        if after == "done":
            return "ok"
        raise TransientDeliveryError("busy", code="http-429", retry_after_s=after)

    policy = RetryPolicy(
        initial_backoff_s=0.01, max_backoff_s=0.02, jitter_s=0.0, max_retry_after_s=60, deadline_s=1000
    )
    assert message_retrying(policy, sleep=waits.append)(fail) == "ok"
    assert waits == [7.0, 60.0, pytest.approx(0.02)]


def test_retrying_gives_up_before_a_wait_past_the_deadline():
    waits: list[float] = []

    def fail():
        raise TransientDeliveryError("busy", code="http-503", retry_after_s=30.0)

    policy = RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.02, deadline_s=10.0, max_retry_after_s=60)
    with pytest.raises(TransientDeliveryError):
        message_retrying(policy, sleep=waits.append)(fail)
    assert waits == []  # a 30 s wait would pass the 10 s deadline: give up at once, leave it for the batch's redo


def test_backoff_grows_exponentially_with_jitter():
    waits: list[float] = []
    policy = RetryPolicy(initial_backoff_s=0.1, max_backoff_s=0.8, jitter_s=0.05, max_attempts=6, deadline_s=100)

    def fail():
        raise TransientDeliveryError("down", code="connection")

    with pytest.raises(TransientDeliveryError):
        message_retrying(policy, sleep=waits.append)(fail)
    bases = [0.1, 0.2, 0.4, 0.8, 0.8]
    assert len(waits) == 5
    assert all(b <= w <= b + 0.05 for w, b in zip(waits, bases, strict=True)), waits


def test_batch_outputs_a_receipt_per_message_in_input_order():
    messages = [message(f"case-{k}", s) for s in (1, 2, 3) for k in range(5)]
    transport = FakeTransport()
    transform, settings = _transform(transport)

    out = transform(_records(messages))

    receipts = [RECEIPTS.decode(o.value or b"") for o in out]
    assert [r.message_id for r in receipts] == [m.message_id for m in messages]
    assert {o.topic for o in out} == {settings.topics.receipts}
    assert all(r.outcome is Outcome.DELIVERED and r.attempts == 1 and r.transport == "fake" for r in receipts)
    assert [o.key for o in out] == [m.ordering_key.encode() for m in messages]


def test_each_case_is_sent_in_order_while_cases_run_concurrently():
    messages = [message(f"case-{k}", s) for s in range(1, 6) for k in range(6)]
    transport = FakeTransport(delay={f"case-{k}": 0.01 for k in range(6)})
    transform, _ = _transform(transport, max_in_flight=4)

    transform(_records(messages))

    per_case: dict[str, list[int]] = defaultdict(list)
    for key, seq in transport.sent:
        per_case[key].append(seq)
    assert all(seqs == [1, 2, 3, 4, 5] for seqs in per_case.values()), per_case
    assert transport.most_in_flight == 4  # never more than max_in_flight, and it was used


def test_a_retried_message_holds_back_its_case_only():
    slow = message("slow", 1)
    later = message("slow", 2)
    others = [message(f"case-{k}", 1) for k in range(6)]
    failures = [TransientDeliveryError("503", code="http-503")] * 3
    transport = FakeTransport(fail={slow.message_id: failures}, delay={"slow": 0.05})
    transform, _ = _transform(transport, max_in_flight=4)

    out = transform(_records([slow, later, *others]))

    assert [RECEIPTS.decode(o.value or b"").attempts for o in out[:2]] == [4, 1]
    assert transport.sent.index(("slow", 2)) > max(i for i, s in enumerate(transport.sent) if s == ("slow", 1))
    slow_done = transport.accepted[later.message_id]
    assert all(transport.accepted[m.message_id] < slow_done for m in others)


def test_a_rejection_goes_to_the_dead_letters_with_a_rejected_receipt_and_the_case_goes_on():
    first, rejected, third = message("c", 1), message("c", 2), message("c", 3)
    refusal = SendResult(SendOutcome.REJECTED, "http-422", 422, '{"error": "schema refusal"}')
    transport = FakeTransport(fail={rejected.message_id: [refusal]})
    transform, settings = _transform(transport)
    records = _records([first, rejected, third])

    out = transform(records)

    receipts, dlq = settings.topics.receipts, settings.topics.outbox_dlq("sis")
    assert [o.topic for o in out] == [receipts, receipts, dlq, receipts]
    outcomes = [RECEIPTS.decode(o.value or b"").outcome for o in out if o.topic == settings.topics.receipts]
    assert outcomes == [Outcome.DELIVERED, Outcome.REJECTED, Outcome.DELIVERED]
    dead = out[2]
    assert (dead.key, dead.value) == (records[1].key(), records[1].value())  # the original bytes
    headers = dict(dead.headers)
    assert headers["gw.delivery.status"] == b"422"
    assert b"schema refusal" in headers["gw.delivery.response"]
    assert headers["__connect.errors.stage"] == b"DELIVER"
    assert headers["__connect.errors.exception.class.name"].endswith(b"DeliveryRejectedError")
    assert headers["__connect.errors.offset"] == str(records[1].offset()).encode()
    assert headers["gw.message.id"] == rejected.message_id.encode()  # original headers kept


def test_undecodable_and_misrouted_records_are_dead_letters_not_dropped():
    good = message("c", 1)
    misrouted = message("c", 2, target="eurodac")
    records = _records([good, misrouted])
    garbage = Message(topic="out.sis", partition=0, offset=99, key=b"k", value=b"not avro", headers=None)
    transform, settings = _transform(FakeTransport())

    out = transform([records[0], garbage, records[1]])

    assert len(out) == 3  # records in = receipts + dead letters
    assert [o.topic for o in out] == [
        settings.topics.receipts,
        settings.topics.outbox_dlq("sis"),
        settings.topics.outbox_dlq("sis"),
    ]
    assert out[1].value == b"not avro"
    assert dict(out[1].headers)["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert dict(out[2].headers)["__connect.errors.stage"] == b"ROUTE"


def test_a_message_out_of_retries_makes_the_batch_incomplete():
    stuck = message("stuck", 1)
    transport = FakeTransport(fail={stuck.message_id: [TransientDeliveryError("down", code="connection")] * 99})
    transform, _ = _transform(transport)

    with pytest.raises(DeliveryIncompleteError) as raised:
        transform(_records([stuck, message("stuck", 2), message("other", 1)]))

    assert raised.value.unfinished == 2
    assert ("stuck", 2) not in transport.sent  # never overtakes the stuck one
    assert ("other", 1) in transport.sent


def test_a_stop_request_leaves_unstarted_messages_for_the_redo():
    stop = threading.Event()
    stop.set()
    transform, _ = _transform(FakeTransport(), stop=stop)

    with pytest.raises(DeliveryIncompleteError):
        transform(_records([message("c", 1)]))


def test_settings_reject_a_message_deadline_past_the_batch_deadline():
    with pytest.raises(ValueError, match="batch_deadline_s"):
        DeliverySettings(retry=RetryPolicy(deadline_s=500), batch_deadline_s=100)
    options = DeliverySettings(batch_deadline_s=200, in_flight_grace_s=30)
    assert options.max_poll_interval_ms >= 230_000
