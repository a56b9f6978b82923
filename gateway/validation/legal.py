"""Legal references of validation rules: instrument, provision and, where the text was not checked, a caveat.

A reference whose provision was not verified against the Official Journal carries a caveat such as
``"to be confirmed"``; it is rendered in brackets after the provision so that operators and DLQ readers see it.
"""

from __future__ import annotations

from dataclasses import dataclass

RETURN_DIRECTIVE = "Directive 2008/115/EC"
SIS_RETURN = "Reg. 2018/1860"
EURODAC = "Reg. 2024/1358"
EES = "Reg. 2017/2226"
MIGRATION_STATISTICS = "Reg. 862/2007 as amended by Reg. 2020/851"
TO_BE_CONFIRMED = "to be confirmed"
POINT_TO_BE_CONFIRMED = "point to be confirmed"


@dataclass(frozen=True, slots=True)
class LegalReference:
    """Where a rule comes from.

    Attributes:
        instrument: The act, e.g. ``"Directive 2008/115/EC"``, or a non-legal source such as ``"ICAO Doc 9303"``.
        provision: Article, paragraph and point, e.g. ``"Art. 7(1)"``; empty when the source has none.
        caveat: Why the reference is uncertain (``"to be confirmed"``); None when it was verified.
    """

    instrument: str
    provision: str = ""
    caveat: str | None = None

    @property
    def verified(self) -> bool:
        """Whether the provision was checked against the text."""
        return self.caveat is None

    def __str__(self) -> str:
        text = f"{self.instrument} {self.provision}".strip()
        return f"{text} ({self.caveat})" if self.caveat else text


AVRR_ELEMENT = LegalReference(EURODAC, "Art. 16-17", POINT_TO_BE_CONFIRMED)
"""The Eurodac element recording return and reintegration assistance: the point letter was not found in the text."""
