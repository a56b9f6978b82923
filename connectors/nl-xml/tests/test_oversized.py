"""Over-long records: one dead letter with a bounded prefix and the whole record's length and SHA-256, streaming.

A 50 MB text node is generated while it is read (never held by the test), between two valid records.
"""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gw_connector_nl_xml import NlXmlConnector
from gw_connector_nl_xml.spec import NS

from gateway.connectors.base import RawRecord, SampleRecord
from gateway.errors import ParseError
from gateway.testing.conformance import identity_context

Make = Callable[..., NlXmlConnector]
HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<DossierExport xmlns="{NS}" versie="1">\n'.encode()
END = b"</DossierExport>\n"
TEXT = 50 * 1024 * 1024  # bytes of the hostile text node
BLOCK = b"x" * (1 << 20)


class Generated(io.RawIOBase):
    """A stream of byte parts, where an int part is that many ``x``: nothing big is ever built."""

    def __init__(self, parts: list[bytes | int]) -> None:
        self._parts = iter(parts)
        self._current = b""
        self._repeat = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current and not self._repeat:
            part = next(self._parts, None)
            if part is None:
                return 0
            self._current, self._repeat = (b"", part) if isinstance(part, int) else (part, 0)
        if self._current:
            n = min(len(buffer), len(self._current))
            buffer[:n], self._current = self._current[:n], self._current[n:]
            return n
        n = min(len(buffer), self._repeat, len(BLOCK))
        buffer[:n] = BLOCK[:n]
        self._repeat -= n
        return n


def digest(parts: list[bytes | int]) -> tuple[int, str]:
    """Length and SHA-256 of the parts, computed as they stream."""
    sha, length = hashlib.sha256(), 0
    for part in parts:
        for block in [part] if isinstance(part, bytes) else _blocks(part):
            sha.update(block)
            length += len(block)
    return length, sha.hexdigest()


def _blocks(n: int) -> Iterator[bytes]:
    while n > 0:
        yield BLOCK[: min(n, len(BLOCK))]
        n -= len(BLOCK)


def read_all(connector: NlXmlConnector, parts: list[bytes | int], chunk: int) -> tuple[list[RawRecord], int]:
    """All records of the generated export, and the peak of memory traced while reading it."""
    stream = io.BufferedReader(Generated(parts), chunk)
    tracemalloc.start()
    try:
        records = list(connector.read(stream, "hostile.xml"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return records, peak


@pytest.mark.timeout(60)
@pytest.mark.parametrize("chunk", [1 << 20, 4096])
def test_a_50_mb_text_node_is_one_dead_letter_between_valid_records(
    make: Make, samples: list[SampleRecord], chunk: int
) -> None:
    limit = 1 << 20  # the default max_record_bytes
    c = make(max_record_bytes=limit, read_chunk_bytes=chunk)
    a, b, victim = samples[0].data, samples[1].data, samples[2].data
    cut = victim.index(b"<Zaaknummer>") + len(b"<Zaaknummer>")
    big: list[bytes | int] = [victim[:cut], TEXT, victim[cut:]]

    records, peak = read_all(c, [HEAD, a, b"\n", *big, b"\n", b, b"\n", END], chunk)

    assert [r.error is None for r in records] == [True, False, True]
    assert [records[0].data, records[2].data] == [a, b]
    length, sha = digest(big)
    oversized = records[1]
    assert (oversized.original_length, oversized.original_sha256) == (length, sha)
    assert oversized.data == victim[:cut] + BLOCK[: limit - cut]
    assert isinstance(oversized.error, ParseError)
    assert str(oversized.error) == (
        f"record of {length} bytes exceeds the limit of {limit} (max_record_bytes); the dead letter keeps its first "
        f"{limit} bytes and the SHA-256 of all of it"
    )
    assert oversized.position == f"record 1 at byte {len(HEAD) + len(a) + 1}"
    assert oversized.context == HEAD.split(b"\n")[0] + HEAD.split(b"\n")[1]
    # Window (limit + chunk), the kept prefix and its copy: bounded by the limit, not by the record's 50 MB.
    assert peak < 3 * limit + 2 * chunk + 256 * 1024, f"peak {peak} bytes"
    ctx = identity_context(c)
    assert c.translate(records[0], ctx)
    assert c.translate(records[2], ctx)
    with pytest.raises(ParseError, match="exceeds the limit"):
        c.translate(oversized, ctx)


@pytest.mark.timeout(30)
def test_a_text_node_after_a_tag_past_the_limit_is_skipped_in_constant_memory(
    make: Make, samples: list[SampleRecord]
) -> None:
    # A start tag beyond max_record_bytes, then a long text: the search for the end tag must not wait at that '<'.
    limit, chunk = 16_384, 4096
    c = make(max_record_bytes=limit, read_chunk_bytes=chunk)
    a = samples[0].data
    big: list[bytes | int] = [a[: a.index(b"<Tijdstip>")], b"<!--", limit, b"--><Toelichting>", 8 << 20, a[-30:]]
    records, peak = read_all(c, [HEAD, *big, END], chunk)
    (record,) = records
    assert (record.original_length, record.original_sha256) == digest(big)
    assert peak < 256 * 1024, f"peak {peak} bytes"


def test_a_truncated_over_long_record_keeps_the_length_and_digest_of_its_tail(make: Make) -> None:
    c = make(max_record_bytes=1000, read_chunk_bytes=64)
    tail: list[bytes | int] = [f'<Gebeurtenis xmlns="{NS}"><Zaaknummer>'.encode(), 5000]
    (record,) = list(c.read(io.BufferedReader(Generated([HEAD, *tail]), 64), "cut.xml"))
    length, sha = digest(tail)
    assert (record.original_length, record.original_sha256) == (length, sha)
    assert len(record.data) == 1000
    assert str(record.error).startswith("truncated file: the record at byte ")
    assert f"and has no end tag before the end of the file ({length} bytes are left of it)" in str(record.error)


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        # Refused in the prolog: the whole file is the dead letter, however far it goes on.
        ([b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n', HEAD[22:], 3 << 20, END], "DOCTYPE"),
        # A comment before the root, then megabytes: the bytes the window forgot during the prolog are counted too.
        ([b"<!-- " + b"c" * 9000 + b" -->\n", b"not xml ", 2 << 20], "not an XML export"),
    ],
    ids=["doctype", "after-a-comment"],
)
def test_a_file_refused_in_its_prolog_is_one_dead_letter_with_the_whole_files_digest(
    make: Make, parts: list[bytes | int], reason: str
) -> None:
    limit, chunk = 16_384, 4096
    records, peak = read_all(make(max_record_bytes=limit, read_chunk_bytes=chunk), parts, chunk)
    (record,) = records
    assert reason in str(record.error)
    assert (record.original_length, record.original_sha256) == digest(parts)
    assert len(record.data) == limit
    assert peak < 256 * 1024, f"peak {peak} bytes"


@pytest.mark.parametrize("where", ["between records", "after the root"])
def test_over_long_content_that_is_not_a_record_keeps_the_length_and_digest_of_all_of_it(
    make: Make, samples: list[SampleRecord], where: str
) -> None:
    limit, chunk = 16_384, 4096
    a, b = samples[0].data, samples[1].data
    junk: list[bytes | int] = [b"<Onbekend>", 5 << 20]
    parts = [HEAD, a, *junk, b, END] if where == "between records" else [HEAD, a, b, END, *junk]
    records, peak = read_all(make(max_record_bytes=limit, read_chunk_bytes=chunk), parts, chunk)
    assert [r.data for r in records if r.error is None] == [a, b]
    (bad,) = [r for r in records if r.error is not None]
    assert (bad.original_length, bad.original_sha256) == digest(junk)
    assert len(bad.data) == limit
    assert f"({digest(junk)[0]} bytes, the first {limit} kept)" in str(bad.error)
    assert peak < 256 * 1024, f"peak {peak} bytes"
