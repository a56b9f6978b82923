"""Property: whatever the rows hold and however the stream is chunked, the reader returns each row's bytes."""

from __future__ import annotations

import io
import re

from gw_connector_de_csv.parser import decode, split_fields
from gw_connector_de_csv.reader import BOM_UTF8, read_export
from gw_connector_de_csv.renderer import encode_row
from hypothesis import given, settings
from hypothesis import strategies as st

# Quotes, separators, line breaks of every kind, umlauts, and the packed-column metacharacters.
LATIN1 = ['"', ";", "\n", "\r", "\r\n", " ", "a", "Z", "0", "ä", "Ö", "ß", "é", "|", ":", "\\", "\t", "ÿ"]
UTF8_ONLY = ["€", "ł", "Ş", "ğ", "中", "😀"]
_LINE_END = re.compile(rb"\r\n|\r|\n")


def rows(alphabet: list[str]) -> st.SearchStrategy[list[list[str]]]:
    field = st.lists(st.sampled_from(alphabet), max_size=12).map("".join)
    return st.lists(st.lists(field, min_size=2, max_size=6), max_size=12)


@st.composite
def exports(draw: st.DrawFn) -> tuple[str, list[list[str]], bytes, int]:
    encoding = draw(st.sampled_from(["iso-8859-1", "utf-8"]))
    body = draw(rows(LATIN1 if encoding == "iso-8859-1" else LATIN1 + UTF8_ONLY))
    newline = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))  # a bare CR ends a line too
    final = draw(st.booleans())
    lines = [encode_row(["Kopf", "Zeile"], encoding), *(encode_row(r, encoding) for r in body)]
    data = (BOM_UTF8 if encoding == "utf-8" else b"") + newline.join(lines) + (newline if final else b"")
    chunk = draw(st.integers(min_value=1, max_value=64))
    return encoding, body, data, chunk


@settings(max_examples=300, deadline=None)
@given(exports())
def test_reader_returns_every_rows_original_bytes(export):
    encoding, body, data, chunk = export
    records = list(
        read_export(io.BytesIO(data), "p.csv", encoding="iso-8859-1", chunk_bytes=chunk, max_record_bytes=1 << 20)
    )
    assert [r.data for r in records] == [encode_row(row, encoding) for row in body]
    assert all(r.error is None and r.encoding == encoding for r in records)
    assert [r.index for r in records] == list(range(len(body)))
    # and the parser gets the fields back
    assert [split_fields(decode(r.data, r.encoding)) for r in records] == body
    # positions count physical lines: line ends inside quoted fields included, a bare CR being one like LF
    line = 2
    for record, row in zip(records, body, strict=True):
        assert record.position == f"line {line}"
        line += len(_LINE_END.findall(encode_row(row, encoding))) + 1


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=97), st.integers(min_value=1, max_value=300))
def test_reader_never_loses_or_invents_bytes(data, chunk, limit):
    # Any bytes at all: the records (and parts) hold only bytes of the input, in order, and the reader ends.
    records = list(read_export(io.BytesIO(data), "b", encoding="iso-8859-1", chunk_bytes=chunk, max_record_bytes=limit))
    joined = b"".join(r.data for r in records)
    assert len(joined) <= len(data)
    assert all(len(r.data) <= limit or r.error is not None for r in records)
    rest = iter(data)
    assert all(byte in rest for byte in joined)  # a subsequence of the input
