"""Apache Avro's Java library reads the bytes the Python codec writes: the "any spec-following reader" proof.

Builds ``tools/avro-golden`` with Maven (output in the git-ignored ``.cache/avro-golden``; rebuilt only when the
pom or the Java sources change), then has Java's ``BinaryMessageDecoder`` decode freshly encoded example events
and compares what it reads, as Avro JSON, with the reviewed golden inputs. Needs ``java`` and ``mvn`` (and Maven
Central the first time); no Kafka broker.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from fastavro.schema import to_parsing_canonical_form

from gateway.codec.codec import EventCodec
from gateway.codec.schemas import SCHEMA_DIR, canonical_schema
from tests.unit.codec.test_golden_vectors import CASE_IDS, CASES, GOLDEN, example, golden_json

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("java") is None or shutil.which("mvn") is None,
        reason="Java interop needs `java` (17+) and `mvn` on PATH to build tools/avro-golden",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "avro-golden"
BUILD = ROOT / ".cache" / "avro-golden"  # <build><directory> in the pom
MAIN = "eu.returns.gateway.tools.avrogolden.AvroGolden"
BUILD_TIMEOUT = 120  # a cold build (empty ~/.m2) downloads Avro, Jackson and three Maven plugins


def _sources_digest() -> str:
    h = hashlib.sha256()
    for path in sorted([TOOL / "pom.xml", *(TOOL / "src").rglob("*")]):
        if path.is_file():
            h.update(path.relative_to(TOOL).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _built(digest: str) -> bool:
    stamp, cp = BUILD / "build.sha256", BUILD / "classpath.txt"
    if not (stamp.is_file() and cp.is_file() and stamp.read_text().strip() == digest):
        return False
    # The stamp outlives a wiped ~/.m2; the jars must still be there.
    return all(Path(jar).is_file() for jar in cp.read_text().strip().split(os.pathsep))


@pytest.fixture(scope="module")
def avro_golden() -> list[str]:
    """The command line that runs the Java tool, building it first unless an up-to-date build is cached."""
    digest = _sources_digest()
    if not _built(digest):
        started = time.monotonic()
        cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(TOOL / "pom.xml"), "compile"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"building tools/avro-golden took over {BUILD_TIMEOUT}s: {' '.join(cmd)}")
        if proc.returncode != 0:
            pytest.fail(f"building tools/avro-golden failed ({' '.join(cmd)}):\n{proc.stdout}\n{proc.stderr}")
        (BUILD / "build.sha256").write_text(digest + "\n")
        print(f"built tools/avro-golden in {time.monotonic() - started:.1f}s")
    classpath = os.pathsep.join([str(BUILD / "classes"), (BUILD / "classpath.txt").read_text().strip()])
    # Short runs: C1 only and the serial collector start the JVM faster than the defaults.
    return ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath, MAIN]


def run_java(tool: list[str], mode: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run one mode of the tool against the repository's schemas."""
    cmd = [*tool, mode, "--schemas", str(SCHEMA_DIR), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)


def java_ok(tool: list[str], mode: str, *args: str, stdin: str = "") -> str:
    proc = run_java(tool, mode, *args, stdin=stdin)
    assert proc.returncode == 0, f"avro-golden {mode} failed:\n{proc.stderr}"
    return proc.stdout


def test_java_decodes_python_bytes(avro_golden: list[str]) -> None:
    codec = EventCodec()
    hex_lines = "".join(codec.encode(example(t, i)).hex() + "\n" for t, i in CASES)
    out = java_ok(avro_golden, "decode", stdin=hex_lines)
    decoded = [json.loads(line) for line in out.splitlines()]
    expected = golden_json()
    assert len(decoded) == len(expected) == len(CASES)
    for case, got, want in zip(CASE_IDS, decoded, expected, strict=True):
        assert got == want, f"{case}: Java read {got}"


def test_java_rejects_bad_messages(avro_golden: list[str]) -> None:
    # The proof above means something only if Java really checks the header, the fingerprint and the body.
    good = EventCodec().encode(example(*CASES[0]))
    foreign = bytearray(good)
    foreign[2] ^= 0x01
    bad = {
        1: (bytes(foreign), "MissingSchemaException"),
        2: (b"\xc3\x02" + good[2:], "BadHeaderException"),
        3: (good[:-1], "EOFException"),
        4: (good + b"\x00", "1 trailing bytes"),
        5: (good[:9], "BadHeaderException"),
    }
    stdin = "".join(data.hex() + "\n" for data, _ in bad.values()) + good.hex() + "\n"
    proc = run_java(avro_golden, "decode", "--keep-going", stdin=stdin)
    assert proc.returncode == 1
    errors = proc.stderr.splitlines()
    assert len(errors) == len(bad), proc.stderr
    for (line, (_, message)), error in zip(bad.items(), errors, strict=True):
        assert f"stdin:{line}:" in error
        assert message in error
    # --keep-going went on to the good message after the bad ones.
    assert [json.loads(x) for x in proc.stdout.splitlines()] == golden_json()[:1]


@pytest.fixture(scope="module")
def java_encode(avro_golden: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """Java's ``encode`` of the golden inputs: its stdout and the folder it wrote the golden files to."""
    out = tmp_path_factory.mktemp("avro-golden")
    stdout = java_ok(avro_golden, "encode", "--events", str(GOLDEN / "events.avro.jsonl"), "--out", str(out))
    return stdout, out


def test_java_canonical_form_is_fastavros(java_encode: tuple[str, Path]) -> None:
    # The full string, not only the SHA-256 the golden file keeps: a difference shows where the forms part.
    prefix = "parsing-canonical-form "
    java = next(line[len(prefix) :] for line in java_encode[0].splitlines() if line.startswith(prefix))
    assert java == to_parsing_canonical_form(canonical_schema())


@pytest.mark.parametrize("name", ["soe.tsv", "fingerprint.json"])
def test_committed_goldens_are_what_java_writes(java_encode: tuple[str, Path], name: str) -> None:
    written = (java_encode[1] / name).read_text(encoding="utf-8")
    assert written == (GOLDEN / name).read_text(encoding="utf-8"), f"{name} is stale: run tools/avro-golden/regenerate"
