"""Hostile over-long records, end to end on the real broker, for each reference connector in each mode.

An export holds a valid record, then one far longer than ``max_record_bytes`` (a 50 MB CSV field, XML text node or
JSON string, grown inside one of the connector's own valid sample records), then a valid one. Whatever the mode
(``gateway ingest``, ``gateway watch``, ``gateway run`` on the raw topic), the over-long record must become exactly
one dead letter whose value is a prefix of the record that fits the dead-letter topic and whose
``gw.original.length`` and ``gw.original.sha256`` describe the whole record; its neighbours must become exactly
their events; records in = events out + dead letters (read_committed); the command must end within ``BOUND_S``.
The dead letter's stage is READ in the file modes (the reader cut the record short and marked it) and PARSE in
service mode (a message is one whole record, refused by its length before parsing).

Constant memory is shown by difference, which holds on a shared, noisy machine: the same command over a 5 MB and
over a 50 MB over-long record, each a process of its own, must peak within ``RSS_SLACK`` of each other. A reader
holding the record whole (or a parser, an encoder, a dead letter holding a copy) would add at least the 45 MB. The
JSON string is 50 MB too: at 20 MB, one copy held would add only 15 MB and pass. ``gateway validate`` over the same
file must report the same one dead letter as the ingest. fr-jsonl also reads exports that are one JSON array: the
ingest test runs that form too, with the over-long record an element of the array.

Service mode consumes one record per message, so there a record is at most a message (the raw topic's
``max.message.bytes``, 1 MB): a ~900 KB message against a ``max_record_bytes`` of 64 KiB, and a dead-letter topic
that takes 256 KiB, so the dead letter must be cut to fit. Its memory is bounded by the message size by construction
(the consumer holds the message), so it is reported, not compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from confluent_kafka import Message, Producer

# confluent_kafka.admin re-exports these without an __all__; the path is the public one.
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType  # type: ignore[attr-defined]

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.connectors.base import Connector, ConnectorConfig, SampleRecord
from gateway.devservices.provision import provision
from gateway.dlq import headers as H
from gateway.samples.generate import sample_records
from tests.integration.support.measured import Finished, run_measured
from tests.integration.support.topics import read_all

pytestmark = pytest.mark.integration

STATES = {"de-csv": "DE", "fr-jsonl": "FR", "nl-xml": "NL"}
MB = 1_000_000
SMALL = 5 * MB
LARGE = 50 * MB
#: Peak RSS may differ by this much between the 5 MB and the 50 MB record (the record alone is 45 MB more).
RSS_SLACK = 30 * 1024 * 1024
#: Each command (interpreter start, provisioning, reading 50 MB, the transactions) ends within this many seconds.
BOUND_S = 30.0
FILE_MAX_RECORD: int = ConnectorConfig.model_fields["max_record_bytes"].default  # the file modes run on the default
SERVICE_MAX_RECORD = 64 * 1024
SERVICE_MESSAGE = 900_000
SERVICE_DLQ_LIMIT = 256 * 1024
# Rich wraps long lines at the terminal width, so any white space may be a line break.
SUMMARY = re.compile(r"(\d+)\s+records\s+→\s+(\d+)\s+events\s+\+\s+(\d+)\s+dead\s+letters")


@dataclass(frozen=True, slots=True)
class Export:
    """An export file of three records whose middle one is over-long.

    Attributes:
        path: The file.
        record: The over-long record's bytes, as the connector's reader delimits it.
        valid: Its two valid neighbours, with the facts they must become.
    """

    path: Path
    record: bytes
    valid: tuple[SampleRecord, SampleRecord]


def _connector(name: str, **config: Any) -> Connector[Any]:
    cls = discovery.load(name)
    return cls(cls.config_model.model_validate({"member_state": STATES[name], **config}))


def _valid_records(connector: Connector[Any], count: int) -> list[SampleRecord]:
    """The connector's own valid sample records, in story order (so each case's records come in order)."""
    return [record for _, record in sample_records(connector, count=count, seed=7)]


def facts_of(records: Iterable[SampleRecord]) -> Counter[tuple[str, str, dt.datetime]]:
    """What the records must become: (case reference, payload type, occurred at) of each fact."""
    return Counter(
        (f.case_reference, type(f.payload).__name__, f.occurred_at) for record in records for f in record.facts
    )


def assert_events(bootstrap: str, topic: str, valid: Iterable[SampleRecord]) -> None:
    """Read_committed: the canonical topic holds exactly the events of the valid records."""
    codec = EventCodec()
    events = [codec.decode(m.value() or b"") for m in read_all(bootstrap, topic, timeout=60)]
    got = Counter((e.case_reference, type(e.payload).__name__, e.occurred_at) for e in events)
    assert got == facts_of(valid), "the valid neighbours are not exactly the events"


def inflate(name: str, data: bytes, size: int) -> bytes:
    """A valid record grown to ``size`` bytes inside one value: a CSV field, an XML text node, a JSON string.

    The filler is plain ASCII, so the record stays well-formed: only its length makes it hostile.
    """
    if name == "de-csv":
        fields = data.split(b";")
        assert fields[5], "the sample row has no family name (the sixth field) to grow"
        at = len(b";".join(fields[:6]))
    elif name == "nl-xml":
        text = re.search(rb">([^<>]+)</", data)
        assert text, "the sample record has no text node"
        at = text.end(1)
    else:
        string = re.search(rb'":\s*"', data)
        assert string, "the sample record has no string value"
        at = string.end()
    return data[:at] + b"X" * (size - len(data)) + data[at:]


def hostile_export(
    name: str, path: Path, valid: tuple[SampleRecord, SampleRecord], over_long: bytes, size: int, *, array: bool
) -> Export:
    """Write an export: ``valid[0]``, ``over_long`` grown to ``size`` bytes, ``valid[1]``.

    ``array`` writes a JSON array, pretty-printed as exporting tools do (fr-jsonl reads it an element a record).
    """
    record = inflate(name, over_long, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        if array:
            out.write(b"[\n  " + b",\n  ".join([valid[0].data, record, valid[1].data]) + b"\n]\n")
        else:
            _connector(name).write_export(out, [valid[0].data, record, valid[1].data])
    return Export(path, record, valid)


def write_config(
    tmp_path: Path, bootstrap: str, name: str, mode: str, **connector: int
) -> tuple[Path, GatewaySettings]:
    """A configuration with topics of its own (one partition, so the raw topic keeps its order)."""
    run = f"hostile-{mode}-{uuid.uuid4().hex[:8]}"
    extra = "".join(f"{key} = {value}\n" for key, value in connector.items())
    text = f"""
state_dir = "{tmp_path / f"state-{mode}"}"
[kafka]
bootstrap_servers = "{bootstrap}"
[topics]
canonical = "{run}.events"
dlq_prefix = "{run}.dlq."
raw_prefix = "{run}.raw."
progress = "{run}.progress"
partitions = 1
[connectors.{name}]
member_state = "{STATES[name]}"
{extra}"""
    path = tmp_path / f"{mode}.toml"
    path.write_text(text, encoding="utf-8")
    return path, GatewaySettings.load(path)


def topic_limit(bootstrap: str, topic: str) -> int:
    """The topic's ``max.message.bytes``."""
    resource = ConfigResource(ResourceType.TOPIC, topic)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    configs = admin.describe_configs([resource])[resource].result(timeout=30)
    return int(configs["max.message.bytes"].value)


def headers_of(message: Message) -> list[tuple[str, bytes | None]]:
    """A consumed message's headers (the consumer hands them over as a list of pairs of bytes)."""
    return cast(list[tuple[str, bytes | None]], message.headers() or [])


def message_size(message: Message) -> int:
    """Key, value and headers of a message: what counts against the topic's limit, less the batch framing."""
    headers = sum(len(k) + len(v or b"") for k, v in headers_of(message))
    return len(message.key() or b"") + len(message.value() or b"") + headers


def assert_dead_letter(message: Message, record: bytes, limit: int, stage: str, kept: int) -> dict[str, str]:
    """One over-long record's dead letter: its stage, a prefix of the record that fits, the record described.

    ``kept`` is what the connector keeps of a record (its ``max_record_bytes``): the prefix must be at least half
    of that or of what the topic takes, so that an operator sees what the record was.
    """
    text = H.as_text(headers_of(message))
    value = message.value() or b""
    assert text[H.STAGE] == stage, text
    assert text[H.ORIGINAL_LENGTH] == str(len(record)), text
    assert text[H.ORIGINAL_SHA256] == hashlib.sha256(record).hexdigest(), text
    assert record.startswith(value), "the dead letter's value is not a prefix of the record"
    assert min(kept, limit) // 2 <= len(value) < len(record), f"a prefix of {len(value)} bytes"
    assert message_size(message) <= limit, f"{message_size(message)} bytes against the topic's {limit}"
    return text


def assert_landed(bootstrap: str, settings: GatewaySettings, name: str, exports: list[Export]) -> list[dict[str, str]]:
    """Read_committed: each export's two neighbours are events, its over-long record is its one dead letter."""
    assert_events(bootstrap, settings.topics.canonical, [record for export in exports for record in export.valid])
    dlq_topic = settings.topics.dlq(name)
    dead = read_all(bootstrap, dlq_topic, timeout=60)
    # Records in (3 a file) = events out (one a valid record, just counted) + dead letters.
    assert len(dead) == len(exports), f"{len(dead)} dead letters of {len(exports)} over-long records"
    limit = topic_limit(bootstrap, dlq_topic)
    by_file = {H.as_text(headers_of(m)).get(H.SOURCE_FILE): m for m in dead}
    found = []
    for export in exports:
        message = by_file.get(str(export.path))
        assert message is not None, f"no dead letter of {export.path}: {sorted(map(str, by_file))}"
        # The reader cut the record short and marked it: the processor dead-letters such records at stage READ.
        text = assert_dead_letter(message, export.record, limit, "READ", FILE_MAX_RECORD)
        assert text[H.SOURCE_INDEX] == "1", text
        found.append(text)
    return found


def assert_summary(done: Finished, what: str) -> None:
    """The command ended with exit code 0 within the bound and printed 3 records → 2 events + 1 dead letter."""
    assert done.code == 0, f"{what}: exit {done.code}: {done.output[-3000:]}"
    assert done.seconds < BOUND_S, f"{what} took {done.seconds:.1f} s"
    found = SUMMARY.search(done.output)
    assert found, done.output[-3000:]
    assert found.groups() == ("3", "2", "1"), found.group(0)


def assert_constant_memory(small: Finished, large: Finished, what: str) -> None:
    """The 50 MB record costs at most ``RSS_SLACK`` more peak memory than the 5 MB one."""
    grown = large.peak_rss - small.peak_rss
    print(  # the figures for the README; shown with -s
        f"{what}: peak RSS {small.peak_rss / 2**20:.1f} MiB (5 MB record, {small.seconds:.1f} s), "
        f"{large.peak_rss / 2**20:.1f} MiB (50 MB record, {large.seconds:.1f} s): {grown / 2**20:+.1f} MiB"
    )
    assert grown < RSS_SLACK, f"{what}: {grown / 2**20:.1f} MiB more for 45 MB more record"


@pytest.fixture(scope="module")
def samples() -> dict[str, list[SampleRecord]]:
    """Six valid sample records per connector: two exports' worth."""
    return {name: _valid_records(_connector(name), 6) for name in STATES}


def _exports(
    name: str, tmp_path: Path, samples: dict[str, list[SampleRecord]], *, array: bool = False
) -> tuple[Export, Export]:
    # Each export its own records, in story order: the second file goes on with the cases the first began.
    rows = samples[name]
    fmt = "json" if array else discovery.load(name).formats[0]
    small = hostile_export(name, tmp_path / f"small.{fmt}", (rows[0], rows[2]), rows[1].data, SMALL, array=array)
    large = hostile_export(name, tmp_path / f"large.{fmt}", (rows[3], rows[5]), rows[4].data, LARGE, array=array)
    return small, large


@pytest.mark.parametrize(
    ("name", "array"),
    [("de-csv", False), ("fr-jsonl", False), ("fr-jsonl", True), ("nl-xml", False)],
    ids=["de-csv", "fr-jsonl", "fr-jsonl-array", "nl-xml"],
)
def test_ingest_and_validate_dead_letter_an_over_long_record_in_constant_memory(
    name: str, array: bool, kafka_bootstrap: str, tmp_path: Path, samples: dict[str, list[SampleRecord]]
) -> None:
    small, large = _exports(name, tmp_path, samples, array=array)
    config, settings = write_config(tmp_path, kafka_bootstrap, name, "ingest")

    runs = []
    for export in (small, large):
        args = ["ingest", "-c", name, "--config", str(config), str(export.path)]
        done = run_measured(args, tmp_path / f"ingest-{export.path.stem}.log", timeout_s=2 * BOUND_S)
        assert_summary(done, f"ingest of {export.path.name}")
        runs.append(done)
    dead = assert_landed(kafka_bootstrap, settings, name, [small, large])
    assert_constant_memory(runs[0], runs[1], f"{name}{' (JSON array)' if array else ''} ingest")

    # The dry run reads the same file through the same reader: the same one dead letter, at the same place.
    args = ["validate", "-c", name, "--config", str(config), "--json", str(large.path)]
    done = run_measured(args, tmp_path / "validate.log", timeout_s=2 * BOUND_S)
    assert done.code == 1, done.output[-3000:]  # 1: some record failed
    assert done.seconds < BOUND_S, done.seconds
    # stdout (the JSON report) and stderr share the log: the report is the JSON array in it.
    [report], _ = json.JSONDecoder().raw_decode(done.output, done.output.index("[\n"))
    assert (report["records"], report["events"], report["dead_letters"]) == (3, 2, 1), report
    assert report["by_stage"] == {"read": 1}, report
    [failed] = [item for item in report["items"] if not item["ok"]]
    assert (str(failed["index"]), failed["position"]) == (dead[1][H.SOURCE_INDEX], dead[1][H.SOURCE_POSITION])
    assert failed["error"] == dead[1][H.EXC_MESSAGE]


@pytest.mark.parametrize("name", sorted(STATES))
def test_drop_directory_dead_letters_an_over_long_record_in_constant_memory(
    name: str, kafka_bootstrap: str, tmp_path: Path, samples: dict[str, list[SampleRecord]]
) -> None:
    inbox = tmp_path / "inbox"
    small, large = _exports(name, inbox, samples)
    parked = tmp_path / "parked"
    parked.mkdir()
    large.path.rename(parked / large.path.name)  # dropped only once the small one is done
    config, settings = write_config(tmp_path, kafka_bootstrap, name, "watch")

    runs = []
    for export in (small, large):
        if not export.path.exists():
            (parked / export.path.name).rename(export.path)
        args = ["watch", "-c", name, "--config", str(config), "--once", str(inbox)]
        done = run_measured(args, tmp_path / f"watch-{export.path.stem}.log", timeout_s=2 * BOUND_S)
        assert_summary(done, f"watch of {export.path.name}")
        processed = inbox / "processed" / export.path.name
        assert processed.exists(), sorted(p.name for p in inbox.rglob("*"))
        result = json.loads(processed.with_name(processed.name + ".result.json").read_text())
        assert (result["records"], result["events"], result["dead_letters"]) == (3, 2, 1), result
        assert result["run"]["dead_letter_stages"] == {"read": 1}, result
        runs.append(done)
    assert not (inbox / "failed").exists()
    # The dead letters name the file where it was read, in the drop directory.
    assert_landed(kafka_bootstrap, settings, name, [small, large])
    assert_constant_memory(runs[0], runs[1], f"{name} watch")


@pytest.mark.parametrize("name", sorted(STATES))
def test_service_mode_dead_letters_an_over_long_message_cut_to_fit(
    name: str, kafka_bootstrap: str, tmp_path: Path, samples: dict[str, list[SampleRecord]]
) -> None:
    config, settings = write_config(tmp_path, kafka_bootstrap, name, "run", max_record_bytes=SERVICE_MAX_RECORD)
    # A dead-letter topic smaller than the message: the dead letter must be cut to fit it, and say so.
    dlq_topic = settings.topics.dlq(name)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    new = NewTopic(dlq_topic, 1, 1, config={"max.message.bytes": str(SERVICE_DLQ_LIMIT)})
    admin.create_topics([new])[dlq_topic].result(timeout=30)
    provision(settings, [name])
    assert topic_limit(kafka_bootstrap, dlq_topic) == SERVICE_DLQ_LIMIT, "provisioning changed the DLQ's limit"

    rows = samples[name]
    record = inflate(name, rows[1].data, SERVICE_MESSAGE)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for value in (rows[0].data, record, rows[2].data):
        producer.produce(settings.topics.raw(name), value, key=b"one-case")
    assert producer.flush(30) == 0

    group = f"hostile-{uuid.uuid4().hex[:8]}"
    args = ["run", "-c", name, "--config", str(config), "--group", group, "--instance", group, "--idle-exit", "3"]
    done = run_measured(args, tmp_path / "run.log", timeout_s=2 * BOUND_S)
    assert done.code == 0, done.output[-3000:]
    assert done.seconds < BOUND_S, done.seconds
    assert re.search(r"\b3 records in\b", done.output), done.output[-3000:]
    print(f"{name} run: 900 KB message, peak RSS {done.peak_rss / 2**20:.1f} MiB, {done.seconds:.1f} s")

    assert_events(kafka_bootstrap, settings.topics.canonical, (rows[0], rows[2]))
    dead = read_all(kafka_bootstrap, dlq_topic, timeout=60)
    assert len(dead) == 1, "records in (3) != events out (2) + dead letters"
    # A message is one whole record: the framework refuses it by its length before parsing, at stage PARSE.
    text = assert_dead_letter(dead[0], record, SERVICE_DLQ_LIMIT, "PARSE", SERVICE_MAX_RECORD)
    assert text[H.TOPIC] == settings.topics.raw(name), text
    assert text[H.OFFSET] == "1", text
