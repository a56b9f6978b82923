"""A single-node Apache Kafka broker (KRaft, combined broker and controller) for tests and the demo.

The broker's jars come from Maven Central through Maven (``tools/kafka-local/pom.xml``) and are cached in
``.cache/kafka/libs``; storage lives in ``.cache/kafka/<name>/``. Nothing listens beyond loopback. Machines
without a Docker engine use this; machines with one may use testcontainers instead (see ``tests/conftest.py``).
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "tools" / "kafka-local" / "pom.xml"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "kafka"

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); /proc tells it apart on Linux.
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return True


def new_cluster_id(random: Callable[[], uuid.UUID] = uuid.uuid4) -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64, as Kafka's ``Uuid.randomUuid`` makes it.

    Like Kafka's, it never starts with ``-``: the storage tool would read ``-t -abc…`` as an option and fail, one
    start in 64.
    """
    while True:
        text = base64.urlsafe_b64encode(random().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class BrokerError(RuntimeError):
    """The local broker could not be fetched, formatted or started (an outage, not bad data)."""


@dataclass(frozen=True, slots=True)
class LocalKafka:
    """Where one local broker lives and listens.

    Attributes:
        name: Instance name; each instance has its own data directory and PID file.
        port: Client (PLAINTEXT) port on 127.0.0.1; the controller listens on ``port + 1``.
        cache: Folder holding the jar cache and instance folders (git-ignored).
    """

    name: str = "default"
    port: int = 19092
    cache: Path = DEFAULT_CACHE

    @property
    def bootstrap(self) -> str:
        """The ``bootstrap.servers`` value for clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def libs(self) -> Path:
        """Folder of the broker's jars."""
        return self.cache / "libs"

    @property
    def home(self) -> Path:
        """This instance's folder (config, data, log, PID)."""
        return self.cache / self.name

    @property
    def pid_file(self) -> Path:
        """File holding the broker's PID while it runs."""
        return self.home / "broker.pid"

    def fetch(self) -> None:
        """Fetch the broker's jars from Maven Central into the cache, once."""
        marker = self.libs / ".complete"
        if marker.exists():
            return
        if shutil.which("mvn") is None or shutil.which("java") is None:
            raise BrokerError("Java 17+ and Maven are needed to run the local Kafka broker (none found on PATH)")
        self.libs.mkdir(parents=True, exist_ok=True)
        cmd = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={self.libs}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BrokerError(f"mvn could not fetch the Kafka jars:\n{done.stdout}\n{done.stderr}")
        marker.touch()

    def _java(self, main: str, *args: str) -> list[str]:
        return ["java", "-cp", f"{self.libs}/*", main, *args]

    def _write_config(self) -> Path:
        data = self.home / "data"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.port + 1}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.port + 1}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": "3",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "3",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            # Tests abort transactions on purpose; a short timeout frees fenced producers quickly.
            "transaction.abort.timed.out.transaction.cleanup.interval.ms": "5000",
        }
        config = self.home / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.home / "log4j2.properties").write_text(_LOG4J2)
        return config

    def running_pid(self) -> int | None:
        """The PID of this instance's broker if it is alive, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether the broker answers a metadata request."""
        from confluent_kafka.admin import AdminClient

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout):
                pass
            AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=timeout)
        except Exception:  # any failure means "not yet"
            return False
        return True

    def start(self, *, fresh: bool = False, timeout: float = 90.0) -> str:
        """Start the broker unless it runs already; return the bootstrap address.

        Args:
            fresh: Wipe this instance's data first.
            timeout: Seconds to wait for the broker to answer.
        """
        if self.running_pid() is not None and self.answers():
            return self.bootstrap
        self.fetch()
        if fresh and self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.home / "data" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            fmt = subprocess.run(
                self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)),
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise BrokerError(f"formatting Kafka storage failed:\n{fmt.stdout}\n{fmt.stderr}")
        cmd = [
            "java",
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.home / 'logs'}",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
            "kafka.Kafka",
            str(config),
        ]
        # Detached through a shell so the broker outlives this process and no Popen object is left to track it.
        launch = f"{shlex.join(cmd)} >> {shlex.quote(str(self.home / 'broker.log'))} 2>&1 < /dev/null & echo $!"
        done = subprocess.run(["sh", "-c", launch], capture_output=True, text=True, check=True, start_new_session=True)
        pid = int(done.stdout.strip())
        self.pid_file.write_text(str(pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                raise BrokerError(f"Kafka exited during start-up; see {self.home / 'broker.log'}")
            if self.answers():
                return self.bootstrap
            time.sleep(0.5)
        self.stop()
        raise BrokerError(f"Kafka did not answer within {timeout:.0f} s; see {self.home / 'broker.log'}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker by its PID (SIGTERM, then SIGKILL); return whether one was running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True
