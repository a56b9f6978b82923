"""Start-up against a broker that is down, and a topic that is missing: a clear line and an exit, never a wait
of minutes, a thousand librdkafka lines or a traceback.

The CLI runs as a subprocess against a loopback port nothing listens on, with a short ``kafka.connect_timeout_s``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from gateway.config import GatewaySettings
from gateway.connectors.base import ConnectorConfig
from gateway.devservices.provision import provision
from gateway.events.models import MemberState
from gateway.kafka.reader import MissingTopicError
from gateway.pipeline.file_ingest import FileIngestor
from tests.integration.support.topics import fresh_topics
from tests.unit.pipeline.toy import ToyConnector

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 4


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "-c", "nl-xml", str(ROOT / "samples" / "nl-xml.xml")],
        ["run", "-c", "nl-xml", "--idle-exit", "1"],
        ["watch", "-c", "nl-xml", "--once", "{drop}"],
    ],
    ids=["ingest", "run", "watch"],
)
def test_a_broker_that_is_down_ends_the_command_with_one_line_and_exit_69(command: list[str], tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[connectors.nl-xml]\nmember_state = "NL"\n', encoding="utf-8")
    (tmp_path / "drop").mkdir()
    bootstrap = f"127.0.0.1:{closed_port()}"
    args = [part.format(drop=tmp_path / "drop") for part in command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_KAFKA__CONNECT_TIMEOUT_S"] = str(DEADLINE_S)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args, "--config", str(config), "--bootstrap", bootstrap],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    elapsed = time.monotonic() - started

    stderr = done.stderr.splitlines()
    assert done.returncode == 69, done.stderr
    assert "Traceback" not in done.stderr
    assert DEADLINE_S <= elapsed < DEADLINE_S + 20
    assert len(stderr) <= 4, done.stderr  # the dev-secret warning, a waiting line, the error; no librdkafka noise
    assert not any(line.startswith("%") for line in stderr)  # librdkafka's own stderr format
    assert stderr[-1] == (
        f"Error: Kafka at {bootstrap} unreachable for {DEADLINE_S} s (kafka.connect_timeout_s); "
        "last error: _TRANSPORT: Failed to get metadata: Local: Broker transport failure"
    )


def test_a_missing_progress_topic_is_a_clear_error_at_once(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = fresh_topics("it-missing", partitions=1)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics, rules_enabled=False)
    provision(settings, ["toy"])
    missing = f"it-missing-progress-{uuid.uuid4().hex[:8]}"  # never provisioned
    settings = settings.model_copy(update={"topics": topics.model_copy(update={"progress": missing})})
    path = tmp_path / "export.txt"
    path.write_text("RETURN_DECISION_ISSUED\n", encoding="utf-8")

    started = time.monotonic()
    with pytest.raises(MissingTopicError, match=f"topic {missing} does not exist"):
        FileIngestor(ToyConnector(ConnectorConfig(member_state=MemberState.NL)), settings).ingest(path)
    assert time.monotonic() - started < 20  # was: retried as an outage for up to ten minutes
