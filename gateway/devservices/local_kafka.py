"""A local Apache Kafka (KRaft, combined broker and controller nodes) for tests and the demo: one node or a quorum.

The broker's jars come from Maven Central through Maven (``tools/kafka-local/pom.xml``) and are cached in
``.cache/kafka/libs``; storage lives in ``.cache/kafka/<name>/`` (a cluster: ``<name>/node-<id>/``). Nothing listens
beyond loopback. Machines without a Docker engine use this; machines with one may use testcontainers instead (see
``tests/conftest.py``).

With ``security=`` (`gateway.devservices.kafka_security.BrokerSecurity`) clients connect over SASL_SSL with
SCRAM-SHA-512 only, the nodes talk to each other over mutual TLS, and KRaft's ``StandardAuthorizer`` denies whatever
no ACL allows. With ``nodes=3`` the nodes form one KRaft quorum, and topics default to replication factor 3 with
``min.insync.replicas`` 2, so one node may die without losing an acknowledged write or stopping producers.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.devservices.kafka_security import SCRAM_MECHANISM, BrokerSecurity

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "tools" / "kafka-local" / "pom.xml"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "kafka"
NODE_PORT_STRIDE = 10
"""Ports of node ``i`` start at ``port + i * NODE_PORT_STRIDE``: client, then controller, then (secured) internal."""

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
class NodePorts:
    """The loopback ports of one node.

    Attributes:
        node_id: KRaft node id (1-based).
        client: Client listener (PLAINTEXT, or SASL_SSL when secured).
        controller: KRaft controller listener (PLAINTEXT, or mutual TLS when secured).
        internal: Inter-broker listener when secured (mutual TLS); unsecured brokers use the client listener.
    """

    node_id: int
    client: int
    controller: int
    internal: int


def node_ports(port: int, nodes: int) -> tuple[NodePorts, ...]:
    """Each node's ports: node ``i`` (0-based) from ``port + i * NODE_PORT_STRIDE``.

    Args:
        port: Client port of the first node.
        nodes: How many nodes.
    """
    return tuple(
        NodePorts(i + 1, port + i * NODE_PORT_STRIDE, port + i * NODE_PORT_STRIDE + 1, port + i * NODE_PORT_STRIDE + 2)
        for i in range(nodes)
    )


def broker_properties(
    node: NodePorts, quorum: tuple[NodePorts, ...], data: Path, security: BrokerSecurity | None = None
) -> dict[str, str]:
    """The ``server.properties`` of one combined broker+controller node; pure.

    Replication of internal and default topics follows the node count: 1 for one node; for a quorum, 3 (or the
    node count if smaller) with ``min.insync.replicas`` 2, so an acknowledged write survives the loss of a node.

    Args:
        node: This node's ports.
        quorum: Every node of the cluster (this one included).
        data: This node's log directory.
        security: TLS and SCRAM material; None for plaintext without authorization.
    """
    replicas = min(3, len(quorum))
    min_isr = min(2, replicas)
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller}" for n in quorum)
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(data),
        "num.partitions": "3",
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(replicas),
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min_isr),
        "transaction.state.log.num.partitions": "3",
        "share.coordinator.state.topic.replication.factor": str(replicas),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        # Tests abort transactions on purpose; a short timeout frees fenced producers quickly.
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "5000",
    }
    if security is None:
        props |= {
            "listeners": f"PLAINTEXT://127.0.0.1:{node.client},CONTROLLER://127.0.0.1:{node.controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.client}",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        }
        return props
    client, internal = f"CLIENT://127.0.0.1:{node.client}", f"INTERNAL://127.0.0.1:{node.internal}"
    props |= {
        "listeners": f"{client},{internal},CONTROLLER://127.0.0.1:{node.controller}",
        "advertised.listeners": f"{client},{internal}",
        "inter.broker.listener.name": "INTERNAL",
        "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL",
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.client.sasl.enabled.mechanisms": SCRAM_MECHANISM,
        # SCRAM credentials live in the cluster metadata; the server side needs no user list of its own.
        f"listener.name.client.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(security.keystore_file),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(security.ca_file),
        "ssl.endpoint.identification.algorithm": "https",
        # Node-to-node traffic proves itself with the broker certificate: only its holder is User:CN=<broker>.
        "listener.name.internal.ssl.client.auth": "required",
        "listener.name.controller.ssl.client.auth": "required",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": ";".join(security.super_users),
    }
    return props


def scram_arguments(security: BrokerSecurity | None) -> list[str]:
    """``kafka-storage format`` arguments creating the SCRAM users (none without security)."""
    if security is None:
        return []
    out: list[str] = []
    for user in security.all_users():
        out += ["--add-scram", f"{SCRAM_MECHANISM}=[name={user.name},password={user.password.get_secret_value()}]"]
    return out


@dataclass(frozen=True, slots=True)
class LocalKafka:
    """Where one local broker (or quorum of nodes) lives and listens.

    Attributes:
        name: Instance name; each instance has its own data directory and PID file(s).
        port: Client port of the first node on 127.0.0.1; its controller listens on ``port + 1`` (and, secured, its
            inter-broker listener on ``port + 2``); node ``i`` uses the same offsets from ``port + 10 * i``.
        cache: Folder holding the jar cache and instance folders (git-ignored).
        nodes: Number of combined broker+controller nodes (1, or 3 for a quorum that survives one loss).
        security: TLS + SASL/SCRAM + ACL material; None for a plaintext broker that authorizes nothing.
        heap_mb: Maximum Java heap of each node.
    """

    name: str = "default"
    port: int = 19092
    cache: Path = DEFAULT_CACHE
    nodes: int = 1
    security: BrokerSecurity | None = None
    heap_mb: int = 768

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ValueError("a cluster needs at least one node")

    @property
    def quorum(self) -> tuple[NodePorts, ...]:
        """Every node's ports."""
        return node_ports(self.port, self.nodes)

    @property
    def bootstrap(self) -> str:
        """The ``bootstrap.servers`` value for clients (every node's client listener)."""
        return ",".join(f"127.0.0.1:{n.client}" for n in self.quorum)

    @property
    def libs(self) -> Path:
        """Folder of the broker's jars."""
        return self.cache / "libs"

    @property
    def home(self) -> Path:
        """This instance's folder (config, data, log, PID; a quorum's nodes in ``node-<id>`` under it)."""
        return self.cache / self.name

    def node_home(self, node_id: int) -> Path:
        """A node's folder: the instance folder for a single node, ``node-<id>`` under it for a quorum."""
        return self.home if self.nodes == 1 else self.home / f"node-{node_id}"

    @property
    def pid_file(self) -> Path:
        """File holding the (first) node's PID while it runs."""
        return self.node_home(1) / "broker.pid"

    def admin_config(self) -> dict[str, Any]:
        """The librdkafka settings of an admin client (the admin user when secured)."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap}
        if self.security is not None:
            config |= {
                "security.protocol": "SASL_SSL",
                "ssl.ca.location": str(self.security.ca_file),
                "sasl.mechanism": SCRAM_MECHANISM,
                "sasl.username": self.security.admin.name,
                "sasl.password": self.security.admin.password.get_secret_value(),
            }
        return config

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

    def _write_config(self, node: NodePorts) -> Path:
        home = self.node_home(node.node_id)
        props = broker_properties(node, self.quorum, home / "data", self.security)
        config = home / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (home / "log4j2.properties").write_text(_LOG4J2)
        return config

    def _pid_files(self) -> Iterator[Path]:
        # Whatever ran under this name, one node or a quorum: `stop` needs no --brokers.
        yield self.home / "broker.pid"
        yield from sorted(self.home.glob("node-*/broker.pid"))

    def node_pid(self, node_id: int) -> int | None:
        """The PID of one node if it is alive, else None."""
        try:
            pid = int((self.node_home(node_id) / "broker.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def running_pid(self) -> int | None:
        """The PID of the (first) node if it is alive, else None."""
        return self.node_pid(1)

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether the cluster answers a metadata request listing all its brokers."""
        from confluent_kafka.admin import AdminClient

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout):
                pass
            metadata = AdminClient({**self.admin_config(), "log_level": 0}).list_topics(timeout=timeout)
        except Exception:  # any failure means "not yet"
            return False
        return len(metadata.brokers) >= self.nodes

    def start(self, *, fresh: bool = False, timeout: float = 90.0) -> str:
        """Start the node(s) unless running already; return the bootstrap address once all brokers answer.

        Args:
            fresh: Stop whatever runs under this name and wipe its data first (a test's own broker, left running by
                a killed test session, is replaced rather than reused).
            timeout: Seconds to wait for the cluster to answer.
        """
        if not fresh and all(self.node_pid(n.node_id) for n in self.quorum) and self.answers():
            return self.bootstrap
        self.fetch()
        if fresh and self.home.exists():
            self.stop()
            shutil.rmtree(self.home)
        cluster_id: str | None = None
        for node in self.quorum:
            home = self.node_home(node.node_id)
            home.mkdir(parents=True, exist_ok=True)
            config = self._write_config(node)
            if not (home / "data" / "meta.properties").exists():
                cluster_id = cluster_id or self._existing_cluster_id() or new_cluster_id()
                self._format(config, cluster_id)
        idle = [n for n in self.quorum if not self.node_pid(n.node_id)]
        busy = [p for n in idle for p in (n.client, n.controller, n.internal)[: 3 if self.security else 2] if _taken(p)]
        if busy:
            raise BrokerError(f"ports {busy} on 127.0.0.1 are in use by another process (another broker instance?)")
        pids = [self.start_node(node.node_id, wait=False) for node in self.quorum]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not all(_alive(pid) for pid in pids):
                raise BrokerError(f"a Kafka node exited during start-up; see {self.home}/**/broker.log")
            if self.answers():
                return self.bootstrap
            time.sleep(0.5)
        self.stop()
        raise BrokerError(f"Kafka did not answer within {timeout:.0f} s; see {self.home}/**/broker.log")

    def _existing_cluster_id(self) -> str | None:
        # A node wiped on its own must rejoin its quorum's cluster, not found a new one.
        for meta in self.home.glob("**/data/meta.properties"):
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
        return None

    def _format(self, config: Path, cluster_id: str) -> None:
        args = ["format", "-t", cluster_id, "-c", str(config), *scram_arguments(self.security)]
        fmt = subprocess.run(self._java("kafka.tools.StorageTool", *args), capture_output=True, text=True, check=False)
        if fmt.returncode != 0:
            # The arguments hold the SCRAM passwords: report the tool's output only.
            raise BrokerError(f"formatting Kafka storage failed:\n{fmt.stdout}\n{fmt.stderr}")

    def start_node(self, node_id: int, *, wait: bool = True, timeout: float = 90.0) -> int:
        """Launch one (formatted) node, detached; return its PID. With ``wait``, until the cluster lists it again.

        Args:
            node_id: Which node (1-based).
            wait: Wait until the cluster answers with all its brokers.
            timeout: Seconds to wait.
        """
        running = self.node_pid(node_id)
        if running is not None:
            return running
        home = self.node_home(node_id)
        cmd = [
            "java",
            "-Xms128m",
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={home / 'logs'}",
            f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
            "kafka.Kafka",
            str(home / "server.properties"),
        ]
        # Detached through a shell so the broker outlives this process and no Popen object is left to track it.
        launch = f"{shlex.join(cmd)} >> {shlex.quote(str(home / 'broker.log'))} 2>&1 < /dev/null & echo $!"
        done = subprocess.run(["sh", "-c", launch], capture_output=True, text=True, check=True, start_new_session=True)
        pid = int(done.stdout.strip())
        (home / "broker.pid").write_text(str(pid))
        deadline = time.monotonic() + timeout
        while wait and time.monotonic() < deadline:
            if not _alive(pid):
                raise BrokerError(f"Kafka node {node_id} exited during start-up; see {home / 'broker.log'}")
            if self.answers():
                break
            time.sleep(0.5)
        return pid

    def kill_node(self, node_id: int, sig: signal.Signals = signal.SIGKILL) -> bool:
        """Send ``sig`` (default SIGKILL: a crash) to one node and wait for it to go; return whether it ran."""
        pid = self.node_pid(node_id)
        if pid is None:
            return False
        os.kill(pid, sig)
        _await_exit(pid, 30.0)
        (self.node_home(node_id) / "broker.pid").unlink(missing_ok=True)
        return True

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop every node by its PID (SIGTERM to all, then SIGKILL to any left after ``timeout``).

        Returns whether any was running. The nodes of a quorum are signalled together: stopped one after the other,
        the last ones lose their controller majority and their controlled shutdown waits for one that never comes.
        """
        running: list[tuple[int, Path]] = []
        for pid_file in self._pid_files():
            try:
                pid = int(pid_file.read_text().strip())
            except (FileNotFoundError, ValueError):
                continue
            if _alive(pid):
                os.kill(pid, signal.SIGTERM)
                running.append((pid, pid_file))
            else:
                pid_file.unlink(missing_ok=True)
        deadline = time.monotonic() + timeout
        for pid, pid_file in running:
            if not _await_exit(pid, max(0.0, deadline - time.monotonic())):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            pid_file.unlink(missing_ok=True)
        return bool(running)


def _taken(port: int) -> bool:
    """Whether something already listens on ``127.0.0.1:port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _await_exit(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has gone (or is a zombie); False if it still runs after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False
