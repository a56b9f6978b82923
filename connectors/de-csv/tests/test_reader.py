"""The reader: cutting records at line ends outside quotes, encodings, chunk boundaries, limits."""

from __future__ import annotations

import hashlib
import io

import pytest
from gw_connector_de_csv.reader import BOM_UTF8, cut_records, read_export

from gateway.errors import ParseError


def cut(data: bytes, chunk: int = 65536, limit: int = 1 << 20) -> list[tuple[bytes, int, int, str | None]]:
    chunks = iter([data[i : i + chunk] for i in range(0, len(data), chunk)])
    return list(cut_records(chunks, limit))


def read(data: bytes, chunk: int = 65536, limit: int = 1 << 20, encoding: str = "iso-8859-1"):
    return list(read_export(io.BytesIO(data), "x.csv", encoding=encoding, chunk_bytes=chunk, max_record_bytes=limit))


HEADER = b"A;B;C"


def test_plain_rows_lf_and_crlf_give_the_same_records():
    lf = b"A;B\na;b\nc;d\n"
    crlf = b"A;B\r\na;b\r\nc;d\r\n"
    assert [c[0] for c in cut(lf)] == [c[0] for c in cut(crlf)] == [b"A;B", b"a;b", b"c;d"]


def test_last_record_without_line_end():
    assert [c[0] for c in cut(b"A;B\r\na;b")] == [b"A;B", b"a;b"]


def test_quoted_separator_and_line_breaks_stay_in_one_record():
    row = b'1;"a;b";"line one\r\nline two\nline three";"say ""hi"""'
    data = HEADER + b"\r\n" + row + b"\r\n2;x;y\r\n"
    records = cut(data)
    assert [r[0] for r in records] == [HEADER, row, b"2;x;y"]
    # the record after a three-line record begins on line 5
    assert [r[1] for r in records] == [1, 2, 5]


def test_quoted_crlf_at_end_of_field_is_data_not_a_line_end():
    row = b'1;"ends with CR LF\r\n"'
    assert [r[0] for r in cut(HEADER + b"\n" + row + b"\n")] == [HEADER, row]


def test_empty_lines_are_skipped_but_counted():
    records = cut(b"A\r\n\r\n\na\r\n\r\nb")
    assert [(r[0], r[1]) for r in records] == [(b"A", 1), (b"a", 4), (b"b", 6)]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_chunk_boundaries_do_not_change_the_records(chunk):
    data = BOM_UTF8 + b"Name;Ort\r\n" + '"Müller; Hans";"Köln\r\nDeutz"\r\nX;"a""b"\n\r\n"";\r\n'.encode()
    expected = read(data)
    got = read(data, chunk=chunk)
    assert [(r.data, r.position, r.index, r.encoding, r.context) for r in got] == [
        (r.data, r.position, r.index, r.encoding, r.context) for r in expected
    ]
    assert [r.data for r in got] == ['"Müller; Hans";"Köln\r\nDeutz"'.encode(), b'X;"a""b"', b'"";']


def test_cr_lf_split_across_chunks():
    data = b"A\r\nb\r\nc"
    for chunk in range(1, len(data) + 1):
        assert [r[0] for r in cut(data, chunk)] == [b"A", b"b", b"c"]


def test_utf8_bom_selects_utf8_and_is_not_part_of_the_header():
    records = read(BOM_UTF8 + "Straße\r\nä\r\n".encode())
    assert records[0].encoding == "utf-8"
    assert records[0].context == "Straße".encode()
    assert records[0].data == "ä".encode()


def test_no_bom_uses_the_configured_encoding():
    data = "Straße\r\nä\r\n".encode("latin-1")
    assert read(data)[0].encoding == "iso-8859-1"
    assert read(data, encoding="utf-8")[0].encoding == "utf-8"


def test_utf16_is_refused_for_every_record():
    data = "A;B\r\na;b\r\nc;d\r\n".encode("utf-16")
    records = read(data)
    assert records
    for r in records:
        assert isinstance(r.error, ParseError)
        assert "UTF-16" in r.error.message


def test_positions_indexes_and_context():
    records = read(b"H1;H2\na;b\n\nc;d\n")
    assert [(r.position, r.index, r.context) for r in records] == [("line 2", 0, b"H1;H2"), ("line 4", 1, b"H1;H2")]
    assert all(r.error is None for r in records)


def test_empty_file_header_only_and_bom_only_yield_nothing():
    assert read(b"") == []
    assert read(BOM_UTF8) == []
    assert read(b"A;B\r\n") == []


def test_unterminated_quote_at_end_of_file_is_one_error_record_with_all_bytes():
    data = b'A;B\r\n1;2\r\n3;"open\r\n4;5\r\n'
    records = read(data)
    assert records[0].error is None
    bad = records[1]
    assert bad.data == b'3;"open\r\n4;5\r\n'  # inside the open quote, the last line end is data too
    assert isinstance(bad.error, ParseError)
    assert "unterminated quoted field" in bad.error.message


@pytest.mark.parametrize("chunk", [1, 7, 300, 65536])
def test_oversized_record_is_one_error_record_with_the_whole_records_length_and_digest(chunk):
    big = b"x" * 2500
    data = b"A\n" + big + b"\r\nok\n"
    records = read(data, chunk=chunk, limit=1000)
    assert [r.position for r in records] == ["line 2", "line 3"]
    bad, ok = records
    assert bad.data == big[:1000]
    assert bad.original_length == 2500
    assert bad.original_sha256 == hashlib.sha256(big).hexdigest()
    assert bad.context == b"A"
    assert isinstance(bad.error, ParseError)
    assert "record of 2500 bytes exceeds the limit of 1000 (max_record_bytes)" in bad.error.message
    assert (ok.data, ok.error, ok.index) == (b"ok", None, 1)


def test_record_just_over_the_limit_found_whole_in_one_chunk_is_an_error_too():
    records = read(b"A\n" + b"y" * 1001 + b"\nok\n", limit=1000)
    assert records[0].original_length == 1001
    assert records[0].error is not None
    assert read(b"A\n" + b"y" * 1000 + b"\n", limit=1000)[0].error is None


def test_oversized_quoted_record_resumes_after_its_end():
    inner = b"y\n" * 800
    data = b'A\n1;"' + inner + b'"\n2;ok\n'
    records = read(data, chunk=64, limit=500)
    assert len(records) == 2
    assert records[0].original_length == len(b'1;"' + inner + b'"')
    assert records[1].data == b"2;ok"
    assert records[1].position == "line 803"


def test_oversized_record_cut_short_by_the_end_of_the_file_says_both():
    records = read(b'A\n1;"' + b"z" * 3000, chunk=100, limit=1000)
    assert len(records) == 1
    message = records[0].error.message  # type: ignore[union-attr]
    assert "exceeds the limit of 1000" in message
    assert "unterminated quoted field" in message
    assert records[0].original_length == 3003


def test_oversized_header_makes_every_record_a_dead_letter():
    records = read(b"H" * 2000 + b"\na;b\n", limit=1000)
    assert [r.position for r in records] == ["line 1", "line 2"]
    assert records[0].original_length == 2000
    assert all("header line is unusable: it is longer than max_record_bytes" in r.error.message for r in records)  # type: ignore[union-attr]


def test_memory_stays_bounded_on_a_line_without_end(monkeypatch):
    # 8 MB without a line feed: the buffer must never hold much more than the limit plus a chunk.
    sizes = []
    real = bytearray.__iadd__

    class Probe(bytearray):
        def __iadd__(self, other):  # type: ignore[override]
            out = real(self, other)
            sizes.append(len(self))
            return out

    import gw_connector_de_csv.reader as reader

    monkeypatch.setattr(reader, "bytearray", Probe, raising=False)
    records = read(b"A\n" + b"z" * 8_000_000, chunk=65536, limit=100_000)
    assert [(len(r.data), r.original_length) for r in records] == [(100_000, 8_000_000)]
    assert max(sizes) <= 100_000 + 2 * 65536


def test_bare_cr_ends_a_record_like_lf_and_crlf():
    # A line ending in a bare CR (one program of the chain writing classic Mac line ends) must not glue the
    # next row onto it: both rows are read, and the lines are counted as an editor shows them.
    records = cut(b"A;B\na;b\rc;d\r\ne;f\r")
    assert [(r[0], r[1]) for r in records] == [(b"A;B", 1), (b"a;b", 2), (b"c;d", 3), (b"e;f", 4)]


def test_a_file_with_only_bare_cr_line_ends_reads_like_crlf():
    crlf = b"A;B\r\na;b\r\n\r\nc;d\r\n"
    assert [(r.data, r.position) for r in read(crlf.replace(b"\r\n", b"\r"))] == [
        (r.data, r.position) for r in read(crlf)
    ]


def test_bare_cr_inside_quotes_is_data():
    row = b'1;"one\rtwo";"three\r"'
    records = cut(HEADER + b"\n" + row + b"\n2;x;y\n")
    assert [(r[0], r[1]) for r in records] == [(HEADER, 1), (row, 2), (b"2;x;y", 5)]


def test_bare_cr_split_across_chunks():
    data = b"A\rb\r\nc\rd\r"
    for chunk in range(1, len(data) + 1):
        assert [r[0] for r in cut(data, chunk)] == [b"A", b"b", b"c", b"d"], chunk


def test_broken_header_makes_every_record_a_dead_letter():
    data = b'"A;B\n'  # the header's quote never closes: the header swallows the file
    records = read(data)
    assert len(records) == 1
    assert records[0].data == b'"A;B\n'
    assert "header line is unusable" in records[0].error.message  # type: ignore[union-attr]
