"""Write the hostile-input corpus (``tests/hostile/*``); ``tests/hostile/cases.toml`` says what each must do.

Run: ``.venv/bin/python connectors/de-csv/tools/make_hostile_corpus.py``. The files are deterministic, so
re-running it changes nothing unless this script changes.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import cast

from gw_connector_de_csv import DeCsvConfig, DeCsvConnector
from gw_connector_de_csv.columns import HEADER, DeRow
from gw_connector_de_csv.renderer import Style, encode_row, render_row

from gateway.connectors.base import Fact
from gateway.events import models as m
from gateway.testing.examples import payloads

OUT = Path(__file__).resolve().parent.parent / "tests" / "hostile"
BOM = b"\xef\xbb\xbf"
CRLF = b"\r\n"
_CONNECTOR = DeCsvConnector(DeCsvConfig(member_state=m.MemberState.DE))
_AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
# German quotes, an en dash and the euro sign: all C1 bytes in Windows-1252, which ISO-8859-1 files must not hold.
_WINDOWS_TEXT = "\u201eZu sp\u00e4t\u201c \u2013 5 \u20ac"


def row(event: m.EventType, **changes: str) -> DeRow:
    """A valid row of the example payload of ``event``, with fields changed."""
    fact = Fact("DE-2026-0000123", "4319900279", _AT, cast(m.Payload, payloads()[event]))
    return render_row(fact, _CONNECTOR._tables, Style(_CONNECTOR._zone))._replace(**changes)


def line(values: DeRow | list[str], encoding: str = "iso-8859-1") -> bytes:
    """A row's bytes."""
    return encode_row(list(values), encoding)


def export(rows: list[bytes], encoding: str = "iso-8859-1", *, bom: bool = False, end: bytes = CRLF) -> bytes:
    """A file: header and rows."""
    return (BOM if bom else b"") + CRLF.join([line(list(HEADER), encoding), *rows]) + end


def files() -> dict[str, bytes]:
    """Every corpus file by name."""
    ok = line(row(m.EventType.ENTRY_RECORDED))
    ok_utf8 = line(row(m.EventType.ENTRY_RECORDED), "utf-8")
    named = row(m.EventType.RETURN_DECISION_ISSUED, familienname="MÜLLER", geburtsort="Köln")
    too_many = [*row(m.EventType.ENTRY_RECORDED), "extra"]
    return {
        "invalid_utf8_after_bom.csv": export(
            [
                ok_utf8,
                ok_utf8.replace(b"DE-2026", b"DE\xff2026"),  # a byte UTF-8 never uses
                ok_utf8.replace(b"ES-MAD", b"ES\xc3-MAD"),  # a sequence cut short
                ok_utf8.replace(b"ES-MAD", b"ES\xc0\xafMAD"),  # an overlong "/"
                ok_utf8.replace(b"ES-MAD", b"ES\xed\xa0\x80MAD"),  # a surrogate
            ],
            "utf-8",
            bom=True,
        ),
        "nul_bytes.csv": export([ok, ok.replace(b"DE-2026", b"DE\x002026"), b"\x00" * 300, ok]),
        "control_characters.csv": export(
            [ok.replace(b"ES-MAD", b"ES\x1b[31mMAD"), ok.replace(b"ES-MAD", b"ES\x07MAD"), ok + b"\x0c"]
        ),
        "oversized_field.csv": export([line(row(m.EventType.ENTRY_RECORDED, grenzuebergang="X" * 5000)), ok]),
        "oversized_record.csv": export([ok, line(row(m.EventType.ENTRY_RECORDED, bemerkung="y" * 10_000)), ok]),
        "wrong_column_count.csv": export([ok, line(too_many), line(list(row(m.EventType.ENTRY_RECORDED))[:-1]), b"x"]),
        "truncated_quote.csv": export([ok, b'DE-2026-0000124;4319900279;"EINREISE'], end=b""),
        "stray_quote.csv": export([ok, ok.replace(b"ES-MAD", b'ES"MAD'), ok, ok]),
        "binary_garbage.bin": random.Random(20260601).randbytes(65_536),  # noqa: S311 - reproducible, not secret
        "binary_after_header.csv": export([ok, random.Random(7).randbytes(20_000), ok]),  # noqa: S311
        "utf16.csv": export([ok]).decode("latin-1").encode("utf-16"),
        "utf8_without_bom.csv": export([line(named, "utf-8")], "utf-8"),
        "utf8_rows_without_bom.csv": export([ok, line(named, "utf-8"), ok]),
        "windows1252.csv": export(
            [
                ok,
                line(
                    row(m.EventType.ASSISTANCE_REFUSED, begruendung=_WINDOWS_TEXT),
                    "cp1252",
                ),
            ]
        ),
        "header_missing_column.csv": CRLF.join([line([h for h in HEADER if h != "Zielstaat"]), ok[: ok.rindex(b";")]])
        + CRLF,
        "header_unknown_column.csv": CRLF.join([line([*HEADER, "Intern"]), ok + b";x"]) + CRLF,
        "no_header.csv": CRLF.join([ok, ok]) + CRLF,
        "cr_only_line_ends.csv": export([ok, ok]).replace(CRLF, b"\r"),
        # One row ends with a bare CR: it still ends the row, so the next one is not glued onto it.
        "bare_cr_line_end.csv": CRLF.join([line(list(HEADER)), ok + b"\r" + ok, ok]) + CRLF,
        # Inside quotes a bare CR is data, like CR LF.
        "bare_cr_in_quoted_field.csv": export(
            [line(row(m.EventType.ASSISTANCE_REFUSED, begruendung="Zeile 1\rZeile 2\r")), ok]
        ),
        "quotes_only.csv": b'"' * 100_001 + b"\n" + b'"' * 99_999 + b"\n",
        "quoted_line_breaks.csv": export([line(row(m.EventType.ASSISTANCE_REFUSED, begruendung="\n" * 50_000)), ok]),
        "daylight_saving_gap.csv": export([ok, line(row(m.EventType.ENTRY_RECORDED, zeitpunkt="30.03.2025 02:30"))]),
        "empty.csv": b"",
        "bom_only.csv": BOM,
        "header_only.csv": export([]),
    }


def main() -> None:
    """Write the corpus."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (OUT / name).write_bytes(data)
        print(f"{name:32} {len(data):>8} bytes")


if __name__ == "__main__":
    main()
