"""The streaming splitter: exact bytes, chunk boundaries, what lies between records, truncation, limits."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from gw_connector_nl_xml import NlXmlConnector
from gw_connector_nl_xml.reader import split_records
from gw_connector_nl_xml.spec import NS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.connectors.base import RawRecord, SampleRecord
from gateway.errors import ParseError, RecordError
from gateway.testing.conformance import identity_context

ROOT = f'<DossierExport xmlns="{NS}" versie="1">'.encode()
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ROOT
Export = Callable[[list[bytes]], bytes]


def split(data: bytes, chunk: int = 1 << 20, limit: int = 1 << 20) -> list[RawRecord]:
    return list(split_records(io.BytesIO(data), "t", chunk_bytes=chunk, max_record_bytes=limit))


def good(records: list[RawRecord]) -> list[bytes]:
    return [r.data for r in records if r.error is None]


def errors(records: list[RawRecord]) -> list[str]:
    return [str(r.error) for r in records if r.error is not None]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1000, 1 << 20])
def test_records_come_back_exactly_at_any_chunk_size(samples: list[SampleRecord], export: Export, chunk: int) -> None:
    data = [s.data for s in samples[:25]]
    records = split(export(data), chunk=chunk)
    assert [r.data for r in records] == data
    assert [r.index for r in records] == list(range(25))
    # The context is what a record needs from the file: its XML declaration (the encoding) and the root tag.
    assert all(r.error is None and r.context == HEAD.replace(b"\n", b"") for r in records)


def test_positions_give_the_byte_offset(samples: list[SampleRecord], export: Export) -> None:
    data = export([s.data for s in samples[:3]])
    for r in split(data):
        offset = int(r.position.rsplit(" ", 1)[1])
        assert data[offset : offset + len(r.data)] == r.data
        assert r.position.startswith(f"record {r.index} at byte ")


def test_whitespace_comments_and_processing_instructions_between_records(samples: list[SampleRecord]) -> None:
    a, b = samples[0].data, samples[1].data
    body = b"\r\n\t <!-- a comment with <Gebeurtenis> inside --> " + a + b"<?audit x?>\n<!---->" + b + b"\n<!-- end -->"
    records = split(HEAD + body + b"</DossierExport >\n<!-- trailer -->\n", chunk=5)
    assert [r.data for r in records] == [a, b]


def test_garbage_between_records_is_one_error_and_neighbours_survive(samples: list[SampleRecord]) -> None:
    a, b = samples[0].data, samples[1].data
    records = split(HEAD + a + b"stray text <Onbekend><x/></Onbekend>" + b + b"</DossierExport>", chunk=3)
    assert good(records) == [a, b]
    (bad,) = [r for r in records if r.error is not None]
    assert bad.data == b"stray text <Onbekend><x/></Onbekend>"
    assert "between records that is not a record" in str(bad.error)
    assert bad.position == f"content 1 at byte {len(HEAD) + len(a)}"


def test_truncated_record_becomes_an_error_and_earlier_records_go_through(samples: list[SampleRecord]) -> None:
    a, b = samples[0].data, samples[1].data
    cut = HEAD + a + b[:100]
    records = split(cut, chunk=16)
    assert good(records) == [a]
    assert records[-1].data == b[:100]
    assert isinstance(records[-1].error, ParseError)
    assert "truncated file" in str(records[-1].error)
    assert "no end tag </Gebeurtenis>" in str(records[-1].error)


def test_file_cut_between_records_says_records_may_be_missing(samples: list[SampleRecord]) -> None:
    a = samples[0].data
    records = split(HEAD + a + b"\n  ")
    assert good(records) == [a]
    assert records[-1].data == b""
    assert "without the root end tag" in str(records[-1].error)


def test_oversized_record_is_cut_to_the_limit_and_skipped(samples: list[SampleRecord]) -> None:
    a, b = samples[0].data, samples[1].data
    big = a.replace(b"</Zaaknummer>", b"</Zaaknummer>" + b"<!--" + b"x" * 5000 + b"-->")
    records = split(HEAD + big + b + b"</DossierExport>", chunk=100, limit=2048)
    assert good(records) == [b]
    assert records[0].data == big[:2048]
    assert f"record of {len(big)} bytes exceeds the limit of 2048" in str(records[0].error)


def test_oversized_truncated_record(samples: list[SampleRecord]) -> None:
    records = split(HEAD + b"<Gebeurtenis>" + b"x" * 10_000, chunk=64, limit=1000)
    assert len(records) == 1
    assert len(records[0].data) == 1000
    assert "longer than 1000 bytes (max_record_bytes) and has no end tag" in str(records[0].error)
    # The dead letter still tells how long the tail was, and its digest, though it keeps only 1000 bytes of it.
    assert records[0].original_length == len(b"<Gebeurtenis>") + 10_000


def test_prefixed_namespace_records_rely_on_the_root_declaration(
    connector: NlXmlConnector, samples: list[SampleRecord]
) -> None:
    # A third party may bind the namespace to a prefix on the root and write records without declarations.
    plain = re.sub(rb' xmlns="[^"]+"', b"", samples[0].data)
    prefixed = re.sub(rb"<(/?)(\w)", rb"<\1nl:\2", plain)
    data = f'<nl:DossierExport xmlns:nl="{NS}">'.encode() + b"\n" + prefixed + b"\n</nl:DossierExport>"
    (record,) = split(data)
    assert record.data == prefixed
    assert record.context == f'<nl:DossierExport xmlns:nl="{NS}">'.encode()
    assert connector.map(connector.parse(record)) == list(samples[0].facts)


def test_default_namespace_records_without_own_declaration(
    connector: NlXmlConnector, samples: list[SampleRecord]
) -> None:
    plain = re.sub(rb' xmlns="[^"]+"', b"", samples[0].data)
    (record,) = split(HEAD + plain + b"</DossierExport>")
    assert connector.map(connector.parse(record)) == list(samples[0].facts)


def test_empty_exports() -> None:
    assert split(f'<DossierExport xmlns="{NS}"/>'.encode()) == []
    assert split(HEAD + b"\n</DossierExport>\n") == []


def test_self_closing_record_is_cut_and_then_refused(connector: NlXmlConnector) -> None:
    (record,) = split(HEAD + b"<Gebeurtenis/></DossierExport>")
    assert record.data == b"<Gebeurtenis/>"
    with pytest.raises(RecordError, match="Gebeurtenis"):
        connector.translate(record, identity_context(connector))


def test_end_tag_hidden_in_a_comment_cuts_short_but_never_maps(
    connector: NlXmlConnector, samples: list[SampleRecord]
) -> None:
    a = samples[0].data
    sneaky = a.replace(b"</Zaaknummer>", b"</Zaaknummer><!-- </Gebeurtenis> -->", 1)
    records = split(HEAD + sneaky + b"</DossierExport>")
    assert len(records) == 2
    for r in records:
        with pytest.raises(RecordError):
            connector.translate(r, identity_context(connector))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"   \n", "no root element|not an XML export|empty"),
        (b"\xff\xfe<\x00D\x00", "UTF-16"),
        ('<?xml version="1.0" encoding="UTF-16"?>'.encode("utf-16"), "UTF-16"),
        (b'<?xml version="1.0" encoding="Shift_JIS"?><DossierExport/>', "'Shift_JIS' is not supported.*ISO-8859-1"),
        (b'<?xml version="1.0" encoding="bogus"?><DossierExport/>', "'bogus' is not supported"),
        (b'<?xml version="1.1"?><DossierExport/>', "only XML 1.0"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]>" + ROOT, "DOCTYPE"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE DossierExport SYSTEM "http://127.0.0.1:9/x.dtd">' + ROOT, "DOCTYPE"),
        (b"<html><body/></html>", "root element is html"),
        (b'<DossierExport xmlns="urn:other">', "root element is {urn:other}DossierExport"),
        (b"<DossierExport>", "root element is DossierExport"),
        (b"PK\x03\x04binary", "not an XML export"),
        (b"<DossierExport xmlns=urn>", "malformed root start tag"),
        (b"<!-- never closed", "ends inside the comment"),
        (b"\n<?xml version='1.0'?><DossierExport/>", "must open the file"),
    ],
)
def test_unreadable_files_are_one_clear_error(data: bytes, reason: str) -> None:
    records = split(data, chunk=7)
    assert len(records) == 1
    assert records[0].error is not None
    assert re.search(reason, str(records[0].error)), str(records[0].error)
    assert records[0].position == "file 0 at byte 0"


@pytest.mark.parametrize("chunk", range(1, 12))
def test_declared_encoding_is_checked_at_any_chunk_size(chunk: int) -> None:
    (record,) = split(b'<?xml version="1.0" encoding="EBCDIC-US"?>' + ROOT + b"</DossierExport>", chunk=chunk)
    assert "'EBCDIC-US' is not supported" in str(record.error)


@pytest.mark.parametrize(
    ("name", "codec"),
    [("ISO-8859-1", "iso8859-1"), ("latin1", "iso8859-1"), ("windows-1252", "cp1252"), ("ISO-8859-15", "iso8859-15")],
)
def test_a_latin_encoding_declared_is_passed_on(samples: list[SampleRecord], name: str, codec: str) -> None:
    head = f'<?xml version="1.0" encoding="{name}"?>'.encode()
    (record,) = split(head + b"\n" + ROOT + samples[0].data + b"</DossierExport>", chunk=5)
    assert (record.error, record.encoding, record.context) == (None, codec, head + ROOT)


def test_utf8_bom_and_declaration_variants_are_accepted(samples: list[SampleRecord]) -> None:
    a = samples[0].data
    for head in (b"\xef\xbb\xbf", b"<?xml version='1.0' encoding='utf-8' standalone='yes'?>", b'<?xml version="1.0"?>'):
        assert good(split(head + ROOT + a + b"</DossierExport>", chunk=3)) == [a]


def test_content_after_the_root_end_tag(samples: list[SampleRecord]) -> None:
    a = samples[0].data
    records = split(HEAD + a + b"</DossierExport><DossierExport/>")
    assert good(records) == [a]
    assert "after the root end tag" in errors(records)[0]


def test_unterminated_comment_between_records(samples: list[SampleRecord]) -> None:
    a = samples[0].data
    records = split(HEAD + a + b"<!-- open", chunk=4)
    assert good(records) == [a]
    assert "ends inside a comment" in errors(records)[0]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        split(b"", chunk=0)


# ---- property: the splitter returns exactly the records' bytes -----------------------------------------------

SEPARATORS = [b"", b"\n", b"  \n\t", b"\r\n", b"<!-- x -->", b"\n<!-- </Gebeurtenis> -->\n", b"<?pi data?>"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_splitter_returns_exactly_the_records(samples: list[SampleRecord], data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from([s.data for s in samples]), max_size=12), label="records")
    seps = data.draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(chosen) + 1, max_size=len(chosen) + 1))
    chunk = data.draw(st.integers(min_value=1, max_value=2048), label="chunk")
    body = b"".join(sep + rec for sep, rec in zip(seps, chosen, strict=False)) + seps[-1]
    records = split(HEAD + body + b"</DossierExport>\n", chunk=chunk)
    assert [r.data for r in records] == chosen
    assert all(r.error is None for r in records)
