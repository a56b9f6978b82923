"""A local Apicurio Registry with Confluent's REST API (``/apis/ccompat/v7``), for tests and the demo.

The app comes from Maven Central as ``io.apicurio:apicurio-registry-app:<version>:tar.gz:all`` through Maven, is
unpacked into ``.cache/apicurio/dist/<version>`` and runs on loopback only with in-memory H2 storage (the app's
default), so every start is an empty registry. Apicurio 3.0.x is the newest line that runs on Java 17: 3.1 and
later are compiled for Java 21 (class file 65) and ship a Quarkus fast-jar (``quarkus-run.jar``) instead of a
``*-runner.jar``; both layouts are found, pass ``java=`` a JDK 21+ to run a newer version.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "apicurio"
DEFAULT_VERSION = "3.0.9"
CCOMPAT_PATH = "/apis/ccompat/v7"
# Pinned to 2.8 on purpose: 3.x reads the artifact's POM and fails when its parent POM is missing, as
# io.apicurio:apicurio-registry:3.0.9 is from Maven Central; 2.8 copies the tarball without it.
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:2.8"
# Handles of the registries this process started, so stop() reaps them (no zombie that still "runs") and the
# garbage collector never warns about a child that is still running.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class RegistryServiceError(RuntimeError):
    """The local registry could not be fetched or started (an outage, not bad data)."""


@dataclass(frozen=True, slots=True)
class LocalApicurio:
    """Where one local Apicurio Registry lives and listens.

    Attributes:
        name: Instance name; each instance has its own folder (log, PID file).
        port: HTTP port on 127.0.0.1; Quarkus' management interface (3.1+) gets ``port + 1``, also on loopback.
        version: Apicurio Registry version fetched from Maven Central.
        cache: Folder holding the unpacked app and instance folders (git-ignored).
        java: The ``java`` executable (3.0.x needs 17+, 3.1+ needs 21+).
        heap: Maximum Java heap (``-Xmx``).
    """

    name: str = "default"
    port: int = 18081
    version: str = DEFAULT_VERSION
    cache: Path = DEFAULT_CACHE
    java: str = "java"
    heap: str = "256m"

    @property
    def url(self) -> str:
        """The Confluent-compatible API base URL, for ``SchemaRegistryClient``."""
        return f"http://127.0.0.1:{self.port}{CCOMPAT_PATH}"

    @property
    def dist(self) -> Path:
        """Folder of the unpacked app."""
        return self.cache / "dist" / self.version

    @property
    def home(self) -> Path:
        """This instance's folder (log, PID)."""
        return self.cache / self.name

    @property
    def pid_file(self) -> Path:
        """File holding the registry's PID while it runs."""
        return self.home / "registry.pid"

    @property
    def log_file(self) -> Path:
        """The registry's console log."""
        return self.home / "registry.log"

    @property
    def class_archive(self) -> Path:
        """The JVM's class-data-sharing archive of this app, written by the first run's clean exit."""
        return self.home / f"classes-{self.version}.jsa"

    def fetch(self) -> None:
        """Fetch and unpack the app from Maven Central into the cache, once."""
        marker = self.dist / ".complete"
        if marker.exists():
            return
        if shutil.which("mvn") is None or shutil.which(self.java) is None:
            raise RegistryServiceError(f"Maven and Java ({self.java}) are needed to run the local Apicurio Registry")
        downloads = self.cache / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        artifact = f"io.apicurio:apicurio-registry-app:{self.version}:tar.gz:all"
        cmd = [
            "mvn",
            "-q",
            "-B",
            f"{_DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={artifact}",
            f"-DoutputDirectory={downloads}",
        ]
        # cwd is the cache so Maven never picks up a project POM from wherever the caller stands.
        done = subprocess.run(cmd, cwd=downloads, capture_output=True, text=True, check=False)
        tarball = downloads / f"apicurio-registry-app-{self.version}-all.tar.gz"
        if done.returncode != 0 or not tarball.exists():
            raise RegistryServiceError(f"mvn could not fetch {artifact}:\n{done.stdout}\n{done.stderr}")
        if self.dist.exists():
            shutil.rmtree(self.dist)
        self.dist.mkdir(parents=True)
        with tarfile.open(tarball) as tar:
            tar.extractall(self.dist, filter="data")
        tarball.unlink()  # Maven's local repository keeps a copy; one unpacked tree is enough here.
        marker.touch()

    def launcher(self) -> Path:
        """The jar to run: ``quarkus-run.jar`` (fast-jar, 3.1+) or ``*-runner.jar`` (legacy jar, 3.0.x)."""
        fast = self.dist / "quarkus-run.jar"
        if fast.exists():
            return fast
        runners = sorted(self.dist.glob("*-runner.jar"))
        if not runners:
            raise RegistryServiceError(f"no quarkus-run.jar or *-runner.jar in {self.dist}")
        return runners[0]

    def command(self) -> list[str]:
        """The ``java`` command line that runs the registry."""
        # Class-data sharing halves the start-up (about 12 s -> 6 s on a busy 2-core box, measured): loading the
        # app's ~360 jars dominates it. The first run dumps the archive at exit under a temporary name; stop()
        # renames it once the JVM has exited cleanly, so a killed run never leaves a half-written archive in use.
        if self.class_archive.exists():
            cds = f"-XX:SharedArchiveFile={self.class_archive}"
        else:
            cds = f"-XX:ArchiveClassesAtExit={self._partial_archive}"
        return [
            self.java,
            cds,
            "-Xms32m",
            f"-Xmx{self.heap}",
            # A short-lived test service on a 2-core box: C1 only and the serial collector start it about a third
            # faster and keep its RSS a quarter smaller than the JVM's defaults (measured).
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.http.port={self.port}",
            # 3.1+ opens a management interface on 0.0.0.0:9000 by default; keep it on loopback too.
            "-Dquarkus.management.host=127.0.0.1",
            f"-Dquarkus.management.port={self.port + 1}",
            "-jar",
            str(self.launcher()),
        ]

    @property
    def _partial_archive(self) -> Path:
        return self.class_archive.with_suffix(".jsa.part")

    def running_pid(self) -> int | None:
        """The PID of this instance's registry if it is alive, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether the Confluent-compatible API answers ``GET /subjects``."""
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
        try:
            with direct.open(f"{self.url}/subjects", timeout=timeout) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def rss_bytes(self) -> int | None:
        """Resident set size of the running registry, or None if it is not running."""
        pid = self.running_pid()
        if pid is None:
            return None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def start(self, timeout: float = 120.0) -> str:
        """Start the registry unless it runs already; return its Confluent-compatible API URL.

        Args:
            timeout: Seconds to wait for the API to answer.
        """
        if self.running_pid() is not None and self.answers():
            return self.url
        self.fetch()
        if shutil.which(self.java) is None:
            raise RegistryServiceError(f"no Java at {self.java!r} to run the local Apicurio Registry")
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "wb")  # noqa: SIM115 - handed to the child process
        proc = subprocess.Popen(
            self.command(), cwd=self.home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        _CHILDREN[proc.pid] = proc
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                _CHILDREN.pop(proc.pid, None)
                self.pid_file.unlink(missing_ok=True)
                raise RegistryServiceError(self._exit_message(proc.returncode))
            if self.answers():
                return self.url
            time.sleep(0.25)
        self.stop()
        raise RegistryServiceError(f"Apicurio did not answer within {timeout:.0f} s; see {self.log_file}")

    def _exit_message(self, code: int) -> str:
        text = self.log_file.read_text(errors="replace")
        if "UnsupportedClassVersionError" in text:
            return f"Apicurio {self.version} needs a newer Java than {self.java!r} (3.1+ needs 21); see {self.log_file}"
        tail = "\n".join(text.splitlines()[-15:])
        return f"Apicurio exited with {code}; last lines of {self.log_file}:\n{tail}"

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the registry by its PID (SIGTERM, then SIGKILL); return whether one was running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        child = _CHILDREN.pop(pid, None)
        clean = True
        if child is not None:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                clean = False
        else:
            clean = _wait_gone(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        if clean and self._partial_archive.exists():
            self._partial_archive.replace(self.class_archive)
        return True


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait for a process this one did not start to exit; SIGKILL it after ``timeout`` s. Return whether it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    return False
