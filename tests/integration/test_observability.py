"""Observability on a real broker: `gateway run` serves metrics that add up, and no log line carries personal data.

The first test starts `gateway run` as a process with ``--metrics-port``, feeds its raw topic sample records (a few
damaged), and scrapes ``/readyz`` and ``/metrics``: ready once partitions are assigned, the store restored and the
broker reached; records in = events out + dead letters, each equal to what the topics hold; lag down to 0.

The second runs real ingests of the three reference connectors' sample exports, with records damaged so that their
bytes hold names, document numbers and dates of birth where the connectors do not expect them, and with logging at
DEBUG captured; no log line may hold any of those values, nor any piece of a record's raw bytes.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.devservices.provision import provision
from gateway.observability import JsonFormatter
from gateway.pipeline.dropdir import process_once
from gateway.pipeline.file_ingest import FileIngestor
from gateway.samples.generate import sample_records
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.topics import fresh_topics, read_all

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CONNECTOR = "fr-jsonl"
RECORDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = _get(f"{base}/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def _sum(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_gateway_run_serves_metrics_that_add_up(
    kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway, group_id: str
) -> None:
    topics = fresh_topics("obs", partitions=3)
    config = tmp_path / "gateway.toml"
    config.write_text(
        f"""
state_dir = "{tmp_path / "state"}"
[kafka]
bootstrap_servers = "{kafka_bootstrap}"
[topics]
{chr(10).join(f"{k} = {json.dumps(v)}" for k, v in topics.model_dump().items() if isinstance(v, str))}
partitions = 3
[observability]
lag_interval_s = 0.5
[connectors.{CONNECTOR}]
member_state = "FR"
"""
    )
    settings = GatewaySettings.load(config)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    args = ["run", "-c", CONNECTOR, "--config", str(config), "--group", group_id, "--instance", "obs-1"]
    proc = start([*args, "--metrics-port", str(port), "--log-format", "json"], log)

    deadline = time.monotonic() + 90
    seen: set[int] = set()
    while (status := _get(f"{base}/readyz"))[0] != 200:
        seen.add(status[0])
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"never ready: {status}"
        time.sleep(0.2)
    assert _get(f"{base}/healthz")[0] == 200
    assert json.loads(_get(f"{base}/readyz")[1]) == {"status": "ready"}

    cls = discovery.load(CONNECTOR)
    connector = cls(cls.config_model.model_validate(settings.connectors[CONNECTOR]))
    raw = settings.topics.raw(CONNECTOR)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    key = b""
    for _, record in sample_records(connector, count=RECORDS, seed=11, defect_share=0.1):
        key = record.facts[0].case_reference.encode() if record.facts else key
        producer.produce(raw, record.data, key=key)
    assert producer.flush(30) == 0

    deadline = time.monotonic() + 120
    while _sum(samples := _scrape(base), "gateway_records_in_total") < RECORDS:
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the records never all committed"
        time.sleep(0.5)
    events = read_all(kafka_bootstrap, settings.topics.canonical)
    dead = read_all(kafka_bootstrap, settings.topics.dlq(CONNECTOR))
    records_in = _sum(samples, "gateway_records_in_total")
    events_out = _sum(samples, "gateway_events_out_total")
    dead_letters = _sum(samples, "gateway_dead_letters_total")
    assert records_in == RECORDS
    assert (events_out, dead_letters) == (len(events), len(dead))
    assert records_in == events_out + dead_letters
    assert dead_letters > 0, "the sample had damaged records"
    assert _sum(samples, "gateway_transactions_total") >= 1
    assert _sum(samples, "gateway_batch_duration_seconds_count") >= 1
    assert _sum(samples, "gateway_input_records_total") == RECORDS

    # The probe reads the lag every half second: each partition of the raw topic is caught up.
    deadline = time.monotonic() + 30
    while True:
        lag = {dict(labels)["partition"]: v for (n, labels), v in _scrape(base).items() if n == "gateway_consumer_lag"}
        if sorted(lag) == ["0", "1", "2"] and not any(lag.values()):
            break
        assert time.monotonic() < deadline, f"lag never reached 0: {lag}"
        time.sleep(0.5)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, log.read_text()[-3000:]
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, "no JSON log line"
    assert all(line["service"] == "run" for line in lines)
    assert any(line.get("correlation_id", "").startswith("run:obs-1:") for line in lines)


# -- no personal data in any log line -------------------------------------------------------------------------------


def _personal_values(connector: str, text: str) -> set[str]:
    """Names, document numbers, person ids and dates of birth in a sample export."""
    values: set[str] = set()
    if connector == "de-csv":
        fields = ("Familienname", "Vornamen", "Geburtsname", "Aliasnamen", "Geburtsdatum", "Dokumentnummer")
        for row in csv.DictReader(io.StringIO(text), delimiter=";"):
            values.update(row.get(f) or "" for f in (*fields, "Personenkennung"))
    elif connector == "fr-jsonl":
        pattern = r'"(?:nom|prenoms|dateNaissance|numero|identifiantPersonne)":\s*(\[[^\]]*\]|"[^"]*")'
        for match in re.findall(pattern, text):
            parsed = json.loads(match)
            values.update(parsed if isinstance(parsed, list) else [parsed])
    else:
        values.update(re.findall(r"<(?:Geslachtsnaam|Voornamen|Geboortedatum|Nummer|VNummer)>([^<]+)<", text))
    return {v for v in values if len(v) >= 4}


def _hostile(connector: str, text: str) -> str:
    """The export with some records damaged so that their personal values sit where the reader chokes on them."""
    if connector == "de-csv":
        lines = text.split("\r\n")
        for n, i in enumerate(range(5, len(lines) - 1, 17)):
            cells = lines[i].split(";")  # 5 Familienname, 6 Vornamen, 9 Geburtsdatum, 14 Dokumentnummer
            if n % 2:
                cells[9] = f"{cells[5]} {cells[14]}"  # a name and a document number as the date of birth
            else:
                cells.insert(7, cells[6])  # a given name once too often: every column after it shifts
            lines[i] = ";".join(cells)
        return "\r\n".join(lines)
    if connector == "fr-jsonl":
        lines = text.splitlines()
        for i in range(3, len(lines), 13):
            nom = re.search(r'"nom":"([^"]+)"', lines[i])
            if nom:
                lines[i] = re.sub(r'"dateNaissance":"[^"]+"', f'"dateNaissance":"{nom.group(1)}"', lines[i])
            else:
                lines[i] = lines[i][: len(lines[i]) // 2]  # a record cut short: invalid JSON
        return "\n".join(lines) + "\n"
    return re.sub(
        r"<Geboortedatum>[^<]+</Geboortedatum>(.{0,400}?)<Nummer>([^<]+)</Nummer>",
        r"<Geboortedatum>\2</Geboortedatum>\1<Nummer>\2</Nummer>",
        text,
        count=6,
        flags=re.S,
    )


class _Capture(logging.Handler):
    """Every log line as text and as JSON (what an operator or a log pipeline would see)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._json = JsonFormatter()
        self._text = logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self._text.format(record))
        self.lines.append(self._json.format(record))


@pytest.fixture
def captured() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize(
    ("connector_name", "sample", "encoding"),
    [("de-csv", "de-csv.csv", "cp1252"), ("nl-xml", "nl-xml.xml", "utf-8"), ("fr-jsonl", "fr-jsonl.jsonl", "utf-8")],
)
def test_no_log_line_holds_personal_data(
    connector_name: str, sample: str, encoding: str, kafka_bootstrap: str, tmp_path: Path, captured: _Capture
) -> None:
    text = (SAMPLES / sample).read_bytes().decode(encoding, "surrogateescape")  # bytes and line ends kept
    hostile = _hostile(connector_name, text)
    assert hostile != text
    personal = _personal_values(connector_name, text)
    assert len(personal) > 50, sorted(personal)[:10]
    exports = tmp_path / "in"
    exports.mkdir()
    (exports / f"a-{sample}").write_bytes(text.encode(encoding, "surrogateescape"))
    (exports / f"b-{sample}").write_bytes(hostile.encode(encoding, "surrogateescape"))

    def settings_for(tolerance: str) -> tuple[GatewaySettings, Any]:
        s = GatewaySettings(
            kafka={"bootstrap_servers": kafka_bootstrap},
            topics=fresh_topics("pii", partitions=1),
            state_dir=tmp_path / f"state-{tolerance}",
            connectors={connector_name: {"errors_tolerance": tolerance}},
        )
        provision(s, [connector_name])
        cls = discovery.load(connector_name)
        return s, cls(cls.config_model.model_validate(s.connectors[connector_name]))

    settings, connector = settings_for("all")
    summaries = process_once(exports, FileIngestor(connector, settings))
    assert sum(s.dead_letters for s in summaries) > 0
    # Tolerance none stops at the first dead letter and logs why: the path where a record's error meets a log line.
    strict_in = tmp_path / "strict"
    strict_in.mkdir()
    (strict_in / f"b-{sample}").write_bytes(hostile.encode(encoding, "surrogateescape"))
    strict, strict_connector = settings_for("none")
    process_once(strict_in, FileIngestor(strict_connector, strict))
    assert (strict_in / "failed").is_dir(), "the strict ingest did not stop at a dead letter"

    logged = "\n".join(captured.lines)
    assert logged, "nothing was logged at DEBUG"
    leaked = sorted(v for v in personal if v in logged or json.dumps(v)[1:-1] in logged)
    assert leaked == [], f"personal data in log lines: {leaked[:10]}"
    chunks = {
        line[i : i + 24]
        for line in hostile.splitlines()
        for i in range(0, max(len(line) - 24, 1), 24)
        if len(line) >= 24
    }
    raw = sorted(c for c in chunks if c in logged)
    assert raw == [], f"raw record bytes in log lines: {raw[:5]}"
