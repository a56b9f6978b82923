"""Settings of the RRAI usage export: the small-count threshold and the amount bands ("levels").

The programme catalogue is not here: it is the deployment's validation configuration
(``ValidationConfig.programme_catalogue``), read once and shared with the validation rules.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError

UNKNOWN_LEVEL = "unknown"
"""Level of a component without an amount (counselling, travel booked in kind, ...)."""


class RraiConfig(BaseModel):
    """How usage is counted and protected.

    Attributes:
        threshold: A count ``c`` with ``0 < c < threshold`` is replaced by null and flagged (default 5: counts of
            1 to 4 are suppressed). 1 turns suppression off, for internal checks only.
        band_edges_eur: Edges of the amount bands, strictly increasing and positive. Edges ``(500, 2000)`` give the
            levels ``<500``, ``500-1999.99`` and ``>=2000``; a component without an amount has level ``unknown``.
        include_unlisted: Count programmes that the catalogue does not list (their rows say so and carry no
            catalogue data); False drops them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: int = Field(5, ge=1)
    band_edges_eur: tuple[Decimal, ...] = (Decimal("500"), Decimal("2000"))
    include_unlisted: bool = True

    @field_validator("band_edges_eur")
    @classmethod
    def _increasing(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if any(not e.is_finite() or e <= 0 or e != e.quantize(Decimal("0.01")) for e in value):
            raise ValueError("band edges must be positive EUR amounts with at most two decimals")
        if any(a >= b for a, b in itertools.pairwise(value)):
            raise ValueError("band edges must be strictly increasing")
        return value

    def levels(self) -> tuple[str, ...]:
        """Every level label, lowest band first, then ``unknown``."""
        return (*(_label(lo, hi) for lo, hi in self._bands()), UNKNOWN_LEVEL)

    def level_of(self, amount_eur: Decimal | None) -> str:
        """The level (band label) of an amount; ``unknown`` for None."""
        if amount_eur is None:
            return UNKNOWN_LEVEL
        for lo, hi in self._bands():
            if hi is None or amount_eur < hi:
                return _label(lo, hi)
        raise AssertionError("the last band is open")  # pragma: no cover

    def _bands(self) -> list[tuple[Decimal | None, Decimal | None]]:
        edges: list[Decimal | None] = [None, *self.band_edges_eur, None]
        return list(itertools.pairwise(edges))


def _fmt(amount: Decimal) -> str:
    # 500 and 500.00 must give the same label, and 1999.99 must not become 2.0E+3.
    return format(amount.normalize(), "f")


def _label(lo: Decimal | None, hi: Decimal | None) -> str:
    if lo is None and hi is None:
        return "any"
    if lo is None:
        assert hi is not None
        return f"<{_fmt(hi)}"
    if hi is None:
        return f">={_fmt(lo)}"
    return f"{_fmt(lo)}-{_fmt(hi - Decimal('0.01'))}"


def load_rrai_config(source: Path | str | dict[str, Any] | None = None) -> RraiConfig:
    """Load the export settings from a TOML, JSON or YAML file or a dict; defaults when ``source`` is None.

    Raises:
        ConfigError: The file cannot be read or a value is invalid.
    """
    from gateway.validation.config import read_structured_file

    data: Any = {} if source is None else source
    if isinstance(source, str | Path):
        data = read_structured_file(Path(source))
    try:
        return RraiConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid RRAI configuration: {exc}") from exc


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """A calendar quarter, the reporting period.

    Attributes:
        year: The year.
        number: 1 to 4.
    """

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4 or not 1 <= self.year <= 9999:
            raise ValueError(f"no such quarter: {self.year}-Q{self.number}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read ``2026-Q1``.

        Raises:
            ValueError: The text is not a quarter.
        """
        match = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a quarter such as 2026-Q1")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        """The quarter a day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> dt.date:
        """First day of the quarter."""
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        """Last day of the quarter."""
        if self.number == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.number + 1, 1) - dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"
