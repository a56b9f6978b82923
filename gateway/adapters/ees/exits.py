"""Reading EES exit-record files (``schemas/xsd/ees-exit-v1.xsd``) into `ExitRecord`s, pure and never raising on data.

A file is validated whole; when it is not valid, its envelope and each record are validated on their own, so one
bad record costs only itself. What cannot be read is an `ExitError` value carrying a code and the original bytes:
the whole file when the file is at fault, the record's element (serialised) when a record is.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from lxml import etree
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.adapters._xml import compile_xsd, describe, safe_parser

NS = "urn:eu:returns:gateway:ees-exit:v1"
XSD_NAME = "ees-exit-v1.xsd"
_Q = f"{{{NS}}}"
_FILE_TAG = _Q + "ExitRecords"
_RECORD_TAG = _Q + "ExitRecord"

ErrorCode = Literal["forbidden-dtd", "not-well-formed", "not-exit-records", "xsd-invalid", "invalid-value"]


class ExitRecord(BaseModel):
    """One exit of a traveller, as EES reported it.

    The identity fields are read because the file holds them (and a reviewer may need them); they are left out of
    ``repr`` so that logs do not carry them, and `gateway.adapters.ees.convert` passes none of them on.

    Attributes:
        record_id: EES's stable id of the record.
        document_type: Travel document type (``TravelDocumentType`` symbol).
        document_number: Document number as printed.
        issuing_country: Three-letter code of the issuing state.
        surnames: Surnames (Art. 16(1)).
        forenames: Forenames.
        date_of_birth: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
        nationalities: Three-letter codes.
        sex: ``M``, ``F`` or ``X``.
        exited_at: Date and time of exit with its offset (Art. 16(3), unverified).
        border_crossing_point: Border crossing point of exit.
        decision_reference: The return decision named by a SIS hit at exit, if any.
        source: File name or topic coordinates the record came from.
        index: Position of the record in its file, from 0.
        xml: The record's element, serialised: what a review or dead letter keeps.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str
    document_type: str
    document_number: str = Field(repr=False)
    issuing_country: str
    surnames: tuple[str, ...] = Field(repr=False)
    forenames: tuple[str, ...] = Field(repr=False)
    date_of_birth: str = Field(repr=False)
    nationalities: tuple[str, ...] = Field(repr=False)
    sex: str = Field(repr=False)
    exited_at: AwareDatetime
    border_crossing_point: str
    decision_reference: str | None = None
    source: str
    index: int
    xml: bytes = Field(repr=False)


@dataclass(frozen=True, slots=True)
class ExitError:
    """A file or record that cannot be read.

    Attributes:
        code: What is wrong: ``forbidden-dtd``, ``not-well-formed``, ``not-exit-records`` (another root element),
            ``xsd-invalid`` or ``invalid-value`` (valid under the XSD but not representable, e.g. a year 0001-BC).
        message: Details for an operator.
        data: The original bytes: the whole file, or the record's element.
        source: File name or topic coordinates.
        index: Position of the record in its file; None when the whole file is at fault.
    """

    code: ErrorCode
    message: str
    data: bytes
    source: str
    index: int | None = None

    @property
    def position(self) -> str:
        """Where the error sits, for dead-letter headers."""
        return "file" if self.index is None else f"record {self.index}"


@functools.cache
def schema() -> etree.XMLSchema:
    """The compiled XSD (compiled once per process)."""
    return compile_xsd(XSD_NAME)


def parse_exit_file(data: bytes, source_name: str) -> list[ExitRecord | ExitError]:
    """Read one exit-record file.

    Args:
        data: The file's bytes.
        source_name: File name or topic coordinates, carried by every record and error.

    Returns:
        One item per record in file order, each a record or the error that record has; a file that cannot be read
        as a whole is a single `ExitError` with ``index`` None and the whole file as its bytes. Records in =
        the length of the list, always.
    """
    if b"<!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        return [ExitError("forbidden-dtd", "DOCTYPE and entity declarations are not allowed", data, source_name)]
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        return [ExitError("not-well-formed", f"not well-formed XML: {exc}", data, source_name)]
    if root.tag != _FILE_TAG:
        return [ExitError("not-exit-records", f"the root element is {root.tag}, not {_FILE_TAG}", data, source_name)]
    xsd = schema()
    if xsd.validate(root):
        return [_record(child, source_name, i) for i, child in enumerate(root)]
    envelope = _envelope(root)
    if not xsd.validate(envelope):
        return [ExitError("xsd-invalid", describe(xsd.error_log, NS), data, source_name)]
    return [_checked(child, envelope, source_name, i) for i, child in enumerate(root)]


def _envelope(root: etree._Element) -> etree._Element:
    """The file's root without its records, to validate the envelope and each record on its own."""
    # lxml-stubs type nsmap keys as str, but the default namespace's key is None, as lxml itself returns it.
    envelope = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)  # type: ignore[arg-type,misc]
    envelope.text = root.text
    return envelope


def _checked(child: etree._Element, envelope: etree._Element, source: str, index: int) -> ExitRecord | ExitError:
    single = _envelope(envelope)
    copy = etree.fromstring(etree.tostring(child))
    copy.tail = None
    single.append(copy)
    xsd = schema()
    if not xsd.validate(single):
        return ExitError("xsd-invalid", describe(xsd.error_log, NS), _bytes(child), source, index)
    return _record(child, source, index)


def _record(element: etree._Element, source: str, index: int) -> ExitRecord | ExitError:
    text = functools.partial(_text, element)
    try:
        exited_at = dt.datetime.fromisoformat(text("exit/dateTime"))
    except ValueError as exc:
        # xs:dateTime allows what Python cannot hold (year 0, 24:00:00, more than 6 decimals).
        return ExitError("invalid-value", f"exit dateTime: {exc}", _bytes(element), source, index)
    return ExitRecord(
        record_id=text("recordId"),
        document_type=text("travelDocument/type"),
        document_number=text("travelDocument/number"),
        issuing_country=text("travelDocument/issuingCountry"),
        surnames=_all(element, "person/surname"),
        forenames=_all(element, "person/forename"),
        date_of_birth=text("person/dateOfBirth"),
        nationalities=_all(element, "person/nationality"),
        sex=text("person/sex"),
        exited_at=exited_at,
        border_crossing_point=text("exit/borderCrossingPoint"),
        decision_reference=element.findtext(_path("returnDecisionReference")),
        source=source,
        index=index,
        xml=_bytes(element),
    )


def _path(path: str) -> str:
    return "/".join(_Q + step for step in path.split("/"))


def _text(element: etree._Element, path: str) -> str:
    # The XSD made every required element present and non-empty; "" only for a schema change that forgot this.
    return element.findtext(_path(path)) or ""


def _all(element: etree._Element, path: str) -> tuple[str, ...]:
    return tuple(e.text or "" for e in element.iterfind(_path(path)))


def _bytes(element: etree._Element) -> bytes:
    # with_tail=False: the whitespace after the element belongs to the file, not to the record.
    return etree.tostring(element, with_tail=False)
