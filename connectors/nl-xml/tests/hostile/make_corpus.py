"""Write the hostile corpus next to this file: ``python make_corpus.py``.

Each file is small and attacks one thing. Files named ``ok_*`` look suspicious but are harmless and must be read
normally (and without network access); every other file must yield at least one record error.
"""

from __future__ import annotations

from pathlib import Path

NS = "urn:nl:ind:terugkeer:dossier:v1"
DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT = f'<DossierExport xmlns="{NS}" versie="1">\n'.encode()
END = b"</DossierExport>\n"
REC = (
    f'<Gebeurtenis xmlns="{NS}"><Zaaknummer>NL-2025-0000001</Zaaknummer><VNummer>1234567890</VNummer>'
    "<Tijdstip>2025-03-04T10:15:00</Tijdstip><NietVertrokken><Besluitnummer>RD-NL-0000001</Besluitnummer>"
    "<LaatsteDagTermijn>2025-03-04</LaatsteDagTermijn><Bron>SIS_ART7_MELDING</Bron></NietVertrokken></Gebeurtenis>"
).encode()


# A record with free text, where a national system writes accented names.
STATUS = (
    f'<Gebeurtenis xmlns="{NS}"><Zaaknummer>NL-2025-0000001</Zaaknummer><VNummer>1234567890</VNummer>'
    "<Tijdstip>2025-03-05T10:15:00</Tijdstip><Statuswijziging><Besluitnummer>RD-NL-0000001</Besluitnummer>"
    "<Status>GESCHORST</Status><Ingangsdatum>2025-03-05</Ingangsdatum>"
    "<Toelichting>Beroep van de heer José Müller</Toelichting></Statuswijziging></Gebeurtenis>"
)


def doc(*records: bytes, prolog: bytes = b"", decl: bytes = DECL) -> bytes:
    return decl + prolog + ROOT + b"".join(b"  " + r + b"\n" for r in records) + END


def with_ref(ref: bytes) -> bytes:
    return REC.replace(b"</Besluitnummer>", ref + b"</Besluitnummer>")


LAUGHS = (
    b'<!DOCTYPE DossierExport [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10)
    )
    + b"]>\n"
)

CORPUS: dict[str, bytes] = {
    "billion_laughs.xml": doc(with_ref(b"&lol9;"), prolog=LAUGHS),
    "quadratic_blowup.xml": doc(
        with_ref(b"&a;" * 200), prolog=b'<!DOCTYPE DossierExport [<!ENTITY a "' + b"A" * 2000 + b'">]>\n'
    ),
    "xxe_file.xml": doc(with_ref(b"&xxe;"), prolog=b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'),
    "xxe_http.xml": doc(with_ref(b"&xxe;"), prolog=b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/s">]>\n'),
    "external_dtd.xml": doc(REC, prolog=b'<!DOCTYPE DossierExport SYSTEM "http://127.0.0.1:9/evil.dtd">\n'),
    "parameter_entity.xml": doc(REC, prolog=b'<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>\n'),
    "doctype_after_comment.xml": doc(REC, prolog=b"<!-- hello -->\n<!DOCTYPE d []>\n"),
    "undeclared_entity.xml": doc(REC, with_ref(b"&xxe;"), REC),
    "invalid_char_ref.xml": doc(with_ref(b"&#1;")),
    "xinclude.xml": doc(
        REC.replace(
            b"</Tijdstip>",
            b'</Tijdstip><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
            b'parse="text"/>',
        )
    ),
    "deep_nesting.xml": doc(REC.replace(b"</Tijdstip>", b"</Tijdstip>" + b"<a>" * 1000 + b"</a>" * 1000)),
    "oversized_record.xml": doc(REC, REC.replace(b"</Tijdstip>", b"</Tijdstip><!--" + b"x" * 20_000 + b"-->"), REC),
    "oversized_field.xml": doc(REC.replace(b"RD-NL-0000001", b"RD" + b"9" * 5000)),
    "invalid_utf8.xml": doc(REC, with_ref(b"\xc3\x28\xff"), REC),
    "latin1_in_utf8.xml": doc(REC, STATUS.encode("latin-1"), REC),
    "latin1_undeclared.xml": doc(STATUS.encode("latin-1"), decl=b""),
    "ok_latin1_declared.xml": doc(STATUS.encode("latin-1"), decl=b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'),
    "ok_cp1252_declared.xml": doc(
        STATUS.replace("heer", "heer \N{EURO SIGN}").encode("cp1252"),
        decl=b"<?xml version='1.0' encoding='windows-1252'?>\n",
    ),
    "utf16.xml": doc(REC).decode().encode("utf-16"),
    "utf32.xml": doc(REC).decode().encode("utf-32"),
    "truncated.xml": doc(REC, REC)[: len(DECL + ROOT) + len(REC) + 3 + 150],
    "truncated_in_prolog.xml": DECL[:20],
    "garbage_between_records.xml": doc(REC, b"<Onbekend>x</Onbekend> tekst &amp; meer", REC),
    "not_xml.bin": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2,
    "empty.xml": b"",
    "whitespace_only.xml": b" \n\t\n",
    "wrong_root.xml": b"<html><body>" + REC + b"</body></html>",
    "wrong_namespace.xml": doc(REC.replace(NS.encode(), b"urn:evil")),
    "end_tag_in_comment.xml": doc(REC.replace(b"</Zaaknummer>", b"</Zaaknummer><!-- </Gebeurtenis> -->")),
    "end_tag_in_cdata.xml": doc(REC.replace(b"</Bron>", b"<![CDATA[</Gebeurtenis>]]></Bron>")),
    "nested_records.xml": doc(REC.replace(b"</Tijdstip>", b"</Tijdstip>" + REC)),
    "null_byte.xml": doc(with_ref(b"\x00")),
    "huge_attribute.xml": doc(REC.replace(b"<Gebeurtenis ", b'<Gebeurtenis a="' + b"x" * 8000 + b'" ')),
    "duplicate_attribute.xml": doc(REC.replace(b"<Gebeurtenis ", b'<Gebeurtenis a="1" a="2" ')),
    "unterminated_comment.xml": DECL + ROOT + REC + b"\n<!-- never closed",
    "content_after_root.xml": doc(REC) + b"<DossierExport/>\n",
    "ok_xsi_schema_location.xml": doc(
        REC.replace(
            b"<Gebeurtenis ",
            b'<Gebeurtenis xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            b'xsi:schemaLocation="urn:nl:ind:terugkeer:dossier:v1 http://127.0.0.1:9/evil.xsd" ',
        )
    ),
    "ok_stylesheet_pi.xml": doc(REC, prolog=b'<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>\n'),
}


def main() -> None:
    """Write every file of the corpus."""
    here = Path(__file__).parent
    for name, data in CORPUS.items():
        (here / name).write_bytes(data)


if __name__ == "__main__":
    main()
