"""Over-long records (issue 10): a 20 MB JSON string is one dead letter, read in constant memory, and the records
after it are read normally, in JSON Lines and in a JSON array alike.

The hostile files are written to ``tmp_path`` by the tests (never committed). Memory is measured with
``tracemalloc`` while the file is read and each record translated, the file's bytes never being in memory whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError
from gateway.events import models as m

STRING_BYTES = 20 * 1024 * 1024
MAX_RECORD_BYTES = 1_048_576  # the default
CHUNK = 65_536
# What reading may hold at once: a record's head up to the limit, the prefix the dead letter keeps and its copy
# into the record, and a chunk (measured: 2.4 MB for both forms); the file is twenty times the limit.
BOUND = 3 * MAX_RECORD_BYTES + CHUNK


HEAD = b'{"numeroDossier":"FR-1","note":"'


def _write_hostile(path: Path, before: bytes, after: bytes) -> tuple[int, str]:
    """Write ``before``, a record holding a 20 MB JSON string, and ``after``, in pieces, never whole in memory.

    Returns:
        The length and SHA-256 of the record.
    """
    digest, length = hashlib.sha256(), 0
    piece = b"A" * CHUNK
    with path.open("wb") as out:
        out.write(before)
        for part in (HEAD, *(piece for _ in range(STRING_BYTES // CHUNK)), b'"}'):
            out.write(part)
            digest.update(part)
            length += len(part)
        out.write(after)
    return length, digest.hexdigest()


def _read_measured(connector: FrJsonlConnector, path: Path) -> tuple[list[RawRecord], list[str], int]:
    """The records, each one's outcome (event types or the error) and the peak memory traced while reading."""
    records, outcomes = [], []
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            for record in connector.read(stream, str(path)):
                try:
                    if record.error is not None:
                        raise record.error
                    outcomes.append(type(connector.map(connector.parse(record))[0].payload).__name__)
                except ParseError as exc:
                    outcomes.append(f"ParseError: {exc}")
                # Only the start of each is kept: the records held must not add to what reading holds.
                records.append(dataclasses.replace(record, data=record.data[:64]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return records, outcomes, peak


@pytest.fixture
def valid(example_objects: dict[m.EventType, dict[str, Any]]) -> bytes:
    return json.dumps(example_objects[m.EventType.ASSISTANCE_GRANTED], separators=(",", ":")).encode()


@pytest.mark.timeout(120)
def test_a_20_mb_string_in_a_json_lines_file(tmp_path: Path, valid: bytes) -> None:
    path = tmp_path / "hostile.jsonl"
    length, digest = _write_hostile(path, valid + b"\n", b"\r\n" + valid + b"\n")
    records, outcomes, peak = _read_measured(FrJsonlConnector(FrJsonlConfig(member_state="FR")), path)
    assert outcomes[0] == outcomes[2] == "AssistanceGranted"
    assert outcomes[1] == (
        f"ParseError: line 2 of {length} bytes exceeds the limit of {MAX_RECORD_BYTES} (max_record_bytes); "
        f"the dead letter keeps its first {MAX_RECORD_BYTES} bytes and the SHA-256 of all of it"
    )
    assert [r.position for r in records] == ["line 1", "line 2", "line 3"]
    assert records[1].data == (HEAD + b"A" * 64)[:64]
    # The whole line, its CR LF line end excluded.
    assert (records[1].original_length, records[1].original_sha256) == (length, digest)
    assert length > 20 * MAX_RECORD_BYTES
    assert peak < BOUND, f"peak {peak} bytes"


@pytest.mark.timeout(120)
def test_a_20_mb_string_in_a_json_array(tmp_path: Path, valid: bytes) -> None:
    path = tmp_path / "hostile.json"
    length, digest = _write_hostile(path, b"[\n  " + valid + b",\n  ", b"\n  ,\n  " + valid + b"\n]\n")
    records, outcomes, peak = _read_measured(FrJsonlConnector(FrJsonlConfig(member_state="FR")), path)
    assert outcomes[0] == outcomes[2] == "AssistanceGranted"
    assert outcomes[1].startswith(f"ParseError: element of {length} bytes exceeds the limit of {MAX_RECORD_BYTES}")
    second = 4 + len(valid) + 4
    assert [r.position for r in records] == [
        "element 1 at byte 4",
        f"element 2 at byte {second}",
        f"element 3 at byte {second + length + 7}",
    ]
    # The whole element, the whitespace after it excluded.
    assert (records[1].original_length, records[1].original_sha256) == (length, digest)
    assert peak < BOUND, f"peak {peak} bytes"
