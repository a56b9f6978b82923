from __future__ import annotations

from gateway.dashboard.preview import hex_dump, preview


def test_clean_text_is_shown_as_text():
    p = preview(b"DE-1;HADDAD;LINA\n")
    assert (p.kind, p.body, p.truncated, p.total) == ("text", "DE-1;HADDAD;LINA\n", False, 17)


def test_source_encoding_is_used_to_decode():
    p = preview("Staatsangehörigkeit".encode("cp1252"), "cp1252")
    assert (p.kind, p.body) == ("text", "Staatsangehörigkeit")


def test_unknown_encoding_falls_back_to_utf8():
    assert preview(b"abc", "no-such-codec").encoding == "utf-8"


def test_bytes_that_do_not_decode_become_a_hex_dump():
    p = preview(b"\xff\xfe\x00bad", "utf-8")
    assert p.kind == "hex"
    assert p.body == "00000000  ff fe 00 62 61 64" + " " * 32 + "...bad"
    assert "not valid utf-8" in p.reason


def test_mostly_control_characters_become_a_hex_dump():
    assert preview(b"\x01\x02\x03\x04abc").kind == "hex"


def test_invisible_and_bidi_characters_are_made_visible():
    p = preview("DE-1;Rechnung_invoice\u202egnp.exe\u200b;note\x07\r\n".encode())
    assert p.kind == "text"
    assert p.body == "DE-1;Rechnung_invoice\\u202egnp.exe\\u200b;note\\u0007\\r\n"


def test_long_text_is_cut_and_says_so():
    p = preview(b"x" * 10_000, text_limit=100)
    assert (len(p.body), p.truncated, p.shown, p.total) == (100, True, 100, 10_000)


def test_a_multibyte_character_cut_by_the_limit_is_not_an_error():
    p = preview("é".encode() * 3000, text_limit=10)
    assert (p.kind, p.body, p.truncated) == ("text", "é" * 10, True)


def test_long_binary_is_cut_in_the_hex_dump():
    p = preview(b"\xff" * 5000, hex_limit=32)
    assert (p.kind, p.shown, p.truncated) == ("hex", 32, True)
    assert len(p.body.splitlines()) == 2


def test_hex_dump_lines():
    dump = hex_dump(bytes(range(0x41, 0x41 + 18)))
    first, second = dump.splitlines()
    assert first.startswith("00000000  41 42 43")
    assert first.endswith("ABCDEFGHIJKLMNOP")
    assert second.startswith("00000010  51 52")
    assert second.endswith("QR")
