"""The hostile corpus (tests/hostile/): read and translate each file without crashing or hanging.

Every file but the ``ok_*`` ones must give at least one record error, with a reason; records around the damage
must still become events. The corpus is written by ``hostile/make_corpus.py``.
"""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gw_connector_nl_xml import NlXmlConnector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.connectors.base import SampleRecord
from gateway.errors import RecordError
from gateway.testing.conformance import identity_context

CORPUS = sorted(p for p in (Path(__file__).parent / "hostile").iterdir() if p.suffix in (".xml", ".bin"))
Make = Callable[..., NlXmlConnector]
LIMIT = 16_384  # oversized_record.xml holds a 20 kB record

# Files with whole records around the hostile part, and the events those must still give.
SURVIVORS = {
    "undeclared_entity.xml": 2,
    "invalid_utf8.xml": 2,
    "oversized_record.xml": 2,
    "garbage_between_records.xml": 2,
    "truncated.xml": 1,
    "unterminated_comment.xml": 1,
    "content_after_root.xml": 1,
    "ok_xsi_schema_location.xml": 1,
    "ok_stylesheet_pi.xml": 1,
    "latin1_in_utf8.xml": 2,
    "ok_latin1_declared.xml": 1,
    "ok_cp1252_declared.xml": 1,
}

# What each kind of attack must be told apart by: a word of the reason.
REASONS = {
    "billion_laughs.xml": "DOCTYPE",
    "quadratic_blowup.xml": "DOCTYPE",
    "xxe_file.xml": "DOCTYPE",
    "xxe_http.xml": "DOCTYPE",
    "external_dtd.xml": "DOCTYPE",
    "parameter_entity.xml": "DOCTYPE",
    "doctype_after_comment.xml": "DOCTYPE",
    "undeclared_entity.xml": "Entity 'xxe' not defined",
    "invalid_char_ref.xml": "invalid xmlChar value 1",
    "xinclude.xml": "XInclude}include': This element is not expected",
    "deep_nesting.xml": r"^elements nested deeper than 256 levels \(the parser's fixed limit for untrusted input",
    "oversized_record.xml": "exceeds the limit of 16384",
    "oversized_field.xml": "maxLength",
    "invalid_utf8.xml": "declares UTF-8, but byte 0xC3 at line 1, column 207 of the record is not UTF-8",
    "latin1_in_utf8.xml": (
        r"^the file declares UTF-8, but byte 0xE9 at line 1, column 324 of the record is not UTF-8; the file looks "
        r"ISO-8859-1/Windows-1252 encoded \(read so, the text there is 'José'\): export it as UTF-8, or declare "
        r'encoding="ISO-8859-1" in its XML declaration$'
    ),
    "latin1_undeclared.xml": "^the file has no encoding declaration, so it is read as UTF-8, but byte 0xE9 .* 'José'",
    "utf16.xml": "UTF-16",
    "utf32.xml": "UTF-16 or UTF-32",
    "truncated.xml": "truncated file",
    "truncated_in_prolog.xml": "ends inside the XML declaration",
    "garbage_between_records.xml": "not a record",
    "not_xml.bin": "not an XML export",
    "empty.xml": "empty file",
    "whitespace_only.xml": "empty file|not an XML export",
    "wrong_root.xml": "root element is html",
    "wrong_namespace.xml": "record element is {urn:evil}Gebeurtenis",
    "end_tag_in_comment.xml": "Comment not terminated|not a record",
    "end_tag_in_cdata.xml": "CData section not finished|not a record",
    "nested_records.xml": "not a record|not expected",
    "null_byte.xml": "Char 0x0 out of allowed range|invalid",
    "huge_attribute.xml": "attribute 'a' is not allowed",
    "duplicate_attribute.xml": "Attribute a redefined",
    "unterminated_comment.xml": "ends inside a comment",
    "content_after_root.xml": "after the root end tag",
}


def test_corpus_is_complete() -> None:
    names = {p.name for p in CORPUS}
    assert names == set(REASONS) | {n for n in SURVIVORS if n.startswith("ok_")}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_hostile_file_is_read_safely(make: Make, path: Path) -> None:
    c: NlXmlConnector = make(max_record_bytes=LIMIT, read_chunk_bytes=512)
    ctx = identity_context(c)
    events, reasons = 0, []
    with path.open("rb") as stream:
        for record in c.read(stream, path.name):
            try:
                events += len(c.translate(record, ctx))
            except RecordError as exc:
                reasons.append(str(exc))
    assert all(reasons), "a record error must say what is wrong"
    assert events == SURVIVORS.get(path.name, 0), reasons
    if path.name.startswith("ok_"):
        assert reasons == []
    else:
        assert reasons, "a hostile file must give at least one record error"
        assert any(re.search(REASONS[path.name], r) for r in reasons), reasons


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_hostile_bytes_as_one_message_are_a_record_error(connector: NlXmlConnector, path: Path) -> None:
    # A raw Kafka topic hands over one record per message, with no file around it.
    record = connector.from_message(path.read_bytes(), "raw-topic", "raw-topic/0/1", 1)
    with pytest.raises(RecordError):
        connector.translate(record, identity_context(connector))


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("until", "message"),
    [
        (b"<Zaaknummer>", "no end tag before the end of the file"),
        (b"<Gebeurtenis", "not a record (8388620 bytes, the first 16384 kept); the file ends"),
    ],
)
def test_an_endless_record_is_read_in_constant_memory(make: Make, until: bytes, message: str) -> None:
    # 8 MB of a record (or of garbage) that never ends, read 4 kB at a time: the reader keeps about limit + chunk.
    c: NlXmlConnector = make(max_record_bytes=LIMIT, read_chunk_bytes=4096)
    start = (Path(__file__).parent / "hostile" / "truncated.xml").read_bytes()
    head = start[: start.index(until) + len(until)]

    class Endless(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if self.sent >= 8 << 20:
                return 0
            chunk = head if self.sent == 0 else b"y" * len(buffer)
            buffer[: len(chunk)] = chunk
            self.sent += len(chunk)
            return len(chunk)

    tracemalloc.start()
    try:
        endless = Endless()
        (record,) = list(c.read(io.BufferedReader(endless, 4096), "s"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(record.data) == LIMIT
    assert message in str(record.error)
    assert peak < 256 * 1024, f"peak {peak} bytes"
    # The dead letter names the whole item, not its kept prefix: every byte from its start to the end of the file.
    assert record.original_length == endless.sent - head.rindex(b"<Gebeurtenis")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_damage_anywhere_gives_only_record_errors(
    make: Make, samples: list[SampleRecord], export: Callable[[list[bytes]], bytes], data: st.DataObject
) -> None:
    c: NlXmlConnector = make(max_record_bytes=4096, read_chunk_bytes=data.draw(st.integers(1, 700)))
    clean = export([s.data for s in samples[:6]])
    start = data.draw(st.integers(0, len(clean)))
    stop = data.draw(st.integers(start, min(len(clean), start + 40)))
    junk = data.draw(st.binary(max_size=40) | st.sampled_from([b"<", b">", b"</Gebeurtenis>", b"<!--", b"&", b"\xff"]))
    damaged = clean[:start] + junk + clean[stop:]
    ctx, reasons = identity_context(c), []
    for record in c.read(io.BytesIO(damaged), "fuzz"):
        try:
            c.translate(record, ctx)
        except RecordError as exc:  # anything else fails the test
            reasons.append(str(exc))
    assert all(reasons)
