"""Exit-record XML for the EES tests."""

from __future__ import annotations

from xml.sax.saxutils import escape

NS = "urn:eu:returns:gateway:ees-exit:v1"


def record(
    record_id: str = "EES-1",
    *,
    country: str = "MAR",
    number: str = "UZ1234567",
    surname: str = "EL AMRANI",
    forename: str = "YOUSSEF",
    dob: str = "1994-07",
    exited: str = "2026-04-02T10:15:00+02:00",
    bcp: str = "NL-SCHIPHOL",
    decision: str | None = None,
) -> str:
    hint = f"<returnDecisionReference>{escape(decision)}</returnDecisionReference>" if decision else ""
    return (
        f"<ExitRecord><recordId>{escape(record_id)}</recordId>"
        f"<travelDocument><type>PASSPORT</type><number>{escape(number)}</number>"
        f"<issuingCountry>{escape(country)}</issuingCountry></travelDocument>"
        f"<person><surname>{escape(surname)}</surname><forename>{escape(forename)}</forename>"
        f"<dateOfBirth>{escape(dob)}</dateOfBirth><nationality>MAR</nationality><sex>M</sex></person>"
        f"<exit><dateTime>{escape(exited)}</dateTime><borderCrossingPoint>{escape(bcp)}</borderCrossingPoint></exit>"
        f"{hint}</ExitRecord>"
    )


def exit_file(*records: str) -> bytes:
    body = "\n  ".join(records)
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<ExitRecords xmlns="{NS}" schemaVersion="1">'
    return f"{head}\n  {body}\n</ExitRecords>\n".encode()
