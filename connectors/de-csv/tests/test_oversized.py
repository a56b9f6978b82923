"""A 50 MB row between two valid rows: one dead letter, read in constant memory, the rows after it read normally."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
from gw_connector_de_csv import DeCsvConfig, DeCsvConnector

from gateway.errors import ParseError, RecordError
from gateway.testing.conformance import identity_context

CORPUS = Path(__file__).parent / "hostile"
MIB = 1 << 20
# The quoted field holds separators and line breaks, so the reader must follow quotes all the way through it.
_PIECE = b'ab;c\r\nd""e\rf' * 4096


def _write_export(path: Path, size: int) -> tuple[int, str, int]:
    """Header, valid row, a row of at least ``size`` bytes, valid row; the big row's length, SHA-256, lines."""
    header, ok = (CORPUS / "oversized_record.csv").read_bytes().split(b"\r\n")[:2]
    digest = hashlib.sha256()
    length = 0
    with path.open("wb") as out:
        out.write(header + b"\r\n" + ok + b"\r\n")
        pieces = [ok[: ok.index(b";")] + b';"', *([_PIECE] * -(-size // len(_PIECE))), b'";rest']
        for piece in pieces:
            out.write(piece)
            digest.update(piece)
            length += len(piece)
        out.write(b"\r\n" + ok + b"\r\n")
    lines = 1 + sum(piece.count(b"\n") + piece.count(b"\r") - piece.count(b"\r\n") for piece in pieces)
    return length, digest.hexdigest(), lines


@pytest.mark.timeout(120)
def test_a_50_mb_row_is_one_dead_letter_read_in_constant_memory(tmp_path):
    path = tmp_path / "hostile.csv"
    length, sha256, lines = _write_export(path, 50 * MIB)
    assert length > 50 * MIB
    config = DeCsvConfig(member_state="DE")
    limit, chunk = config.max_record_bytes, config.chunk_bytes
    connector = DeCsvConnector(config)

    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            records = list(connector.read(stream, path.name))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # The buffer (at most the limit plus a chunk), the record's kept prefix and its copy in the RawRecord.
    assert peak < 3 * limit + 2 * chunk, peak
    assert [r.position for r in records] == ["line 2", "line 3", f"line {3 + lines}"]
    ctx = identity_context(connector)
    first, big, last = records
    assert len(connector.translate(first, ctx)) == len(connector.translate(last, ctx)) == 1
    assert (big.original_length, big.original_sha256) == (length, sha256)
    assert len(big.data) == limit
    with pytest.raises(ParseError) as caught:
        connector.translate(big, ctx)
    assert f"record of {length} bytes exceeds the limit of {limit} (max_record_bytes)" in caught.value.message


@pytest.mark.parametrize("chunk_bytes", [65536, 7])
def test_oversized_corpus_row_is_one_dead_letter_with_the_whole_rows_digest(chunk_bytes):
    data = (CORPUS / "oversized_record.csv").read_bytes()
    connector = DeCsvConnector(DeCsvConfig(member_state="DE", max_record_bytes=4096, chunk_bytes=chunk_bytes))
    records = list(connector.read(io.BytesIO(data), "x"))
    body = data.split(b"\r\n")[2]
    bad = [r for r in records if r.error is not None]
    assert len(bad) == 1
    assert bad[0].data == body[:4096]
    assert (bad[0].original_length, bad[0].original_sha256) == (len(body), hashlib.sha256(body).hexdigest())
    ctx = identity_context(connector)
    with pytest.raises(RecordError):
        connector.translate(bad[0], ctx)
