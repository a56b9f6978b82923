"""Hostile input: every record of the corpus in ``hostile/`` is a ``RecordError`` with a clear reason, fast.

The corpus (``hostile/make_corpus.py`` says how each file was made) is read as files and, line by line, as
messages. Recursion bombs, huge numbers, NaN, invalid UTF-8, NUL bytes, stray BOMs, truncation, oversized fields,
floods of keys: none may crash, hang, or raise anything but a ``RecordError``.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector

from gateway.connectors.base import Connector
from gateway.errors import ParseError, RecordError
from gateway.testing.conformance import identity_context

CORPUS = Path(__file__).parent / "hostile"
EXPECTED: dict[str, list[Any]] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_is_complete() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("*.jsonl"))


def _outcome(c: Connector[Any], record: Any) -> str | None:
    """None for a record that translates, else the error message; anything but a RecordError propagates."""
    try:
        c.translate(record, identity_context(c))
    except RecordError as exc:
        return str(exc) or "(an empty message)"
    return None


def _check(name: str, index: int, message: str | None, expected: Any) -> None:
    fragments = [] if expected is None else [expected] if isinstance(expected, str) else expected
    if expected is None:
        assert message is None, f"{name} record {index}: {message}"
        return
    assert message is not None, f"{name} record {index} was accepted"
    for fragment in fragments:
        assert fragment in message, f"{name} record {index}: {message!r} lacks {fragment!r}"


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(name: str, connector: FrJsonlConnector) -> None:
    with (CORPUS / name).open("rb") as stream:
        records = list(connector.read(stream, name))
    assert len(records) == len(EXPECTED[name])
    for index, (record, expected) in enumerate(zip(records, EXPECTED[name], strict=True)):
        _check(name, index, _outcome(connector, record), expected)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"utf16.jsonl", "bom_in_the_middle.jsonl"}))
def test_hostile_message(name: str, connector: FrJsonlConnector) -> None:
    """The same records arriving one a message (REST, raw topic): same verdicts.

    Not the UTF-16 file (its lines are not messages) nor the BOMs: a message is a whole document, whose
    leading BOM is dropped as at the start of a file.
    """
    lines = [line for line in (CORPUS / name).read_bytes().split(b"\n") if line.strip(b" \t\r")]
    for index, (line, expected) in enumerate(zip(lines, EXPECTED[name], strict=True)):
        record = connector.from_message(line, "raw.fr", f"raw.fr/0/{index}", index)
        _check(name, index, _outcome(connector, record), expected)


@pytest.mark.timeout(10)
def test_oversized_records() -> None:
    c = FrJsonlConnector(FrJsonlConfig(member_state="FR", max_record_bytes=4096))
    big = b'{"numeroDossier":"' + b"A" * 100_000 + b'"}'
    [record] = c.read(io.BytesIO(big + b"\n"), "big")
    assert isinstance(record.error, ParseError)
    assert "line 1 of 100020 bytes exceeds the limit of 4096 (max_record_bytes)" in _outcome(c, record)  # type: ignore[operator]
    assert (record.original_length, record.original_sha256) == (len(big), hashlib.sha256(big).hexdigest())
    message = c.from_message(big, "raw.fr", "raw.fr/0/0", 0)
    assert "exceeds the limit of 4096" in _outcome(c, message)  # type: ignore[operator]


@pytest.mark.timeout(10)
def test_a_bomb_deeper_than_any_stack_in_a_full_size_record(connector: FrJsonlConnector) -> None:
    data = b"[" * (connector.config.max_record_bytes - 1)
    assert "nested deeper than 16 levels" in _outcome(connector, connector.from_message(data, "t", "t/0/0", 0))  # type: ignore[operator]
    data = b"[" + b"0," * (connector.config.max_record_bytes // 2 - 2) + b"0]"
    assert "a record must be a JSON object" in _outcome(connector, connector.from_message(data, "t", "t/0/0", 0))  # type: ignore[operator]


def test_the_depth_limit_is_configurable() -> None:
    c = FrJsonlConnector(FrJsonlConfig(member_state="FR", max_depth=4))
    data = b'{"numeroDossier":[[[[["x"]]]]]}'
    assert "nested deeper than 4 levels" in _outcome(c, c.from_message(data, "t", "t/0/0", 0))  # type: ignore[operator]
