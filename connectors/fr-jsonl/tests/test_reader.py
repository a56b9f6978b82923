"""Cutting JSON Lines exports into records: line ends, BOMs, blank lines, oversized lines, constant memory."""

from __future__ import annotations

import hashlib
import io
from unittest.mock import patch

import pytest
from gw_connector_fr_jsonl import FrJsonlConfig, FrJsonlConnector
from gw_connector_fr_jsonl.reader import read_export, read_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError

A = b'{"a":1}'
B = b'{"b":2}'
C = b'{"c":3}'


def read(data: bytes, max_record_bytes: int = 1_048_576) -> list[RawRecord]:
    return list(read_lines(io.BytesIO(data), "export.jsonl", max_record_bytes=max_record_bytes))


def cut(data: bytes) -> list[tuple[bytes, str, int]]:
    return [(r.data, r.position, r.index) for r in read(data)]


def test_lines_become_records_with_positions_and_indexes() -> None:
    assert cut(A + b"\n" + B + b"\n" + C + b"\n") == [(A, "line 1", 0), (B, "line 2", 1), (C, "line 3", 2)]
    assert all(r.source == "export.jsonl" and r.error is None and r.encoding == "utf-8" for r in read(A + b"\n"))


def test_final_line_without_newline_is_a_record() -> None:
    assert cut(A + b"\n" + B) == [(A, "line 1", 0), (B, "line 2", 1)]


def test_crlf_line_ends_are_removed_and_nothing_else() -> None:
    assert cut(A + b"\r\n" + B + b"\r\n") == [(A, "line 1", 0), (B, "line 2", 1)]
    # A CR inside the line (JSON whitespace) belongs to the record; only the line end is removed.
    assert cut(b'{"a":\r1}\r\n') == [(b'{"a":\r1}', "line 1", 0)]
    assert cut(A + b" \r\n")[0][0] == A + b" "


def test_bom_at_file_start_is_dropped() -> None:
    assert cut(b"\xef\xbb\xbf" + A + b"\n" + B) == [(A, "line 1", 0), (B, "line 2", 1)]


def test_bom_on_a_later_line_stays_and_the_parser_rejects_it(connector: FrJsonlConnector) -> None:
    records = read(A + b"\n\xef\xbb\xbf" + B + b"\n")
    assert records[1].data == b"\xef\xbb\xbf" + B
    with pytest.raises(ParseError, match="byte-order mark"):
        connector.parse(records[1])


def test_utf16_file_marks_every_record() -> None:
    records = read("\ufeff".encode("utf-16-le") + A.decode().encode("utf-16-le") + b"\n\x00")
    assert records
    assert all(isinstance(r.error, ParseError) and "UTF-16" in str(r.error) for r in records)


def test_blank_lines_are_skipped_and_positions_count_physical_lines() -> None:
    data = b"\n" + A + b"\n\n  \t\r\n\r\n" + B + b"\n\n"
    assert cut(data) == [(A, "line 2", 0), (B, "line 6", 1)]
    assert cut(b"") == []
    assert cut(b"\n\n \n") == []


def test_a_truncated_last_line_is_a_record_that_fails_to_parse(connector: FrJsonlConnector) -> None:
    records = read(A + b"\n" + B[:-3])
    assert [r.data for r in records] == [A, B[:-3]]
    with pytest.raises(ParseError, match="truncated"):
        connector.parse(records[1])


def test_oversized_line_keeps_its_head_and_the_next_lines_are_read() -> None:
    long = b'{"x":"' + b"y" * 5000 + b'"}'
    records = read(A + b"\n" + long + b"\n" + B + b"\n", max_record_bytes=100)
    assert [r.position for r in records] == ["line 1", "line 2", "line 3"]
    assert records[1].data == long[:100]
    assert isinstance(records[1].error, ParseError)
    assert f"line 2 of {len(long)} bytes exceeds the limit of 100 (max_record_bytes)" in str(records[1].error)
    # Length and digest are the whole line's, its line end excluded.
    assert (records[1].original_length, records[1].original_sha256) == (len(long), hashlib.sha256(long).hexdigest())
    assert records[2].data == B
    assert records[2].error is None


def test_oversized_last_line_without_newline() -> None:
    records = read(A + b"\n" + b"z" * 300, max_record_bytes=100)
    assert records[1].data == b"z" * 100
    assert records[1].error is not None


def test_line_of_exactly_the_limit_is_whole() -> None:
    line = b'{"x":"' + b"y" * 92 + b'"}'
    assert len(line) == 100
    assert read(line + b"\r\n" + A, max_record_bytes=100)[0].data == line
    assert read(line, max_record_bytes=100)[0].error is None


class _Spy(io.BytesIO):
    """A stream that remembers the largest piece it handed out."""

    largest = 0

    def readline(self, size: int | None = -1, /) -> bytes:
        piece = super().readline(size)
        self.largest = max(self.largest, len(piece))
        return piece

    def read(self, size: int | None = -1, /) -> bytes:
        piece = super().read(size)
        self.largest = max(self.largest, len(piece))
        return piece


def test_memory_stays_bounded_by_the_record_limit() -> None:
    stream = _Spy(A + b"\n" + b"[" * 3_000_000 + b"\n" + B)
    records = list(read_export(stream, "big", max_record_bytes=1000))
    assert [r.data for r in records][::2] == [A, B]
    assert records[1].original_length == 3_000_000
    assert stream.largest <= 65_536


def test_a_json_array_is_read_in_chunks_too() -> None:
    stream = _Spy(b'["' + b"z" * 3_000_000 + b'"]')
    [record] = read_export(stream, "big", max_record_bytes=1000)
    assert record.original_length == 3_000_002
    assert stream.largest <= 65_536


def test_write_export_then_read_gives_the_records_back() -> None:
    c = FrJsonlConnector(FrJsonlConfig(member_state="FR"))
    out = io.BytesIO()
    c.write_export(out, [A, B, C])
    assert out.getvalue() == A + b"\n" + B + b"\n" + C + b"\n"
    assert [r.data for r in c.read(io.BytesIO(out.getvalue()), "x")] == [A, B, C]
    # Two exports written one after the other are still one valid export.
    assert [r.data for r in c.read(io.BytesIO(out.getvalue() * 2), "x")] == [A, B, C, A, B, C]


@settings(deadline=None, max_examples=500)
@given(
    st.lists(
        st.tuples(
            # Without a CR at the end: before LF it would be part of a CR LF line end.
            st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").rstrip(b"\r")),
            st.sampled_from([b"\n", b"\r\n"]),
        ),
        max_size=6,
    ),
    st.booleans(),
    st.integers(1, 12),
)
def test_every_line_is_kept_whole_or_as_one_record_with_its_length_and_digest(
    lines: list[tuple[bytes, bytes]], last_ended: bool, limit: int
) -> None:
    data = b"".join(text + end for text, end in lines)
    if lines and not last_ended:
        data = data[: -len(lines[-1][1])]
    # Avoid the two cases ruled otherwise: a BOM at the start, a file starting with "[" (a JSON array).
    data = b"x\n" + data
    expected = [b"x", *(text for text, _ in lines)]
    kept = [line for line in expected if line.strip(b" \t\r")]
    with patch("gw_connector_fr_jsonl.reader._SKIP_CHUNK", 3):  # cut lines into pieces: CR LF split between them
        records = list(read_export(io.BytesIO(data), "x", max_record_bytes=limit))
    assert len(records) == len(kept)
    for record, line in zip(records, kept, strict=True):
        if len(line) <= limit:
            assert (record.data, record.error, record.original_length) == (line, None, None)
        else:
            assert record.data == line[:limit]
            assert (record.original_length, record.original_sha256) == (len(line), hashlib.sha256(line).hexdigest())


def test_a_cr_cut_from_its_lf_by_the_pieces_of_an_over_long_line_is_still_a_line_end() -> None:
    line = b"z" * 10
    with patch("gw_connector_fr_jsonl.reader._SKIP_CHUNK", 2):
        for data, kept in [(line + b"\r\n" + A, line), (line + b"\r", line + b"\r"), (line + b"\rx\n", line + b"\rx")]:
            record = read(data, max_record_bytes=4)[0]
            assert (record.original_length, record.original_sha256) == (len(kept), hashlib.sha256(kept).hexdigest())


def test_lines_across_the_bytes_read_to_tell_the_form_are_read_whole() -> None:
    # read_export reads the first 64 KiB to tell JSON Lines from a JSON array, then hands them back line by line.
    data = b"".join(b'{"n":"' + b"x" * (i % 700) + b'"}\r\n' for i in range(400))
    assert len(data) > 65_536
    expected = [(r.data, r.position) for r in read_lines(io.BytesIO(data), "x", max_record_bytes=1000)]
    assert [(r.data, r.position) for r in read(data, max_record_bytes=1000)] == expected
    assert len(expected) == 400
