"""Mapping a parsed row to its canonical fact: one row, one event.

``Ereignisart`` picks the payload builder. A row may fill only the columns its event type uses (plus the
common ones): a value in any other column would be silently lost, so it is an error instead. ``Betrag_EUR``
is a control total: the sum of the row's money amounts (``Leistungen`` or ``Budget``), empty for events that
have none; a mismatch means a truncated or garbled repeating group.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import ValidationError

from gateway.connectors.base import Fact
from gateway.connectors.values import AmbiguousLocalTime
from gateway.errors import MappingError
from gateway.events import models as m
from gw_connector_de_csv.builders import BUILDERS, MONEY, Builder
from gw_connector_de_csv.columns import COMMON, EVENT_COLUMNS, FIELDS, LABELS, DeRow
from gw_connector_de_csv.parser import ParsedRow
from gw_connector_de_csv.tables import Tables, code
from gw_connector_de_csv.values import Clock, parse_amount, required


class Mapper:
    """Maps parsed rows to facts with the connector's code tables, time zone and ambiguous-time policy."""

    def __init__(self, tables: Tables, zone: ZoneInfo, policy: AmbiguousLocalTime = "earlier") -> None:
        self._tables = tables
        self._zone = zone
        self._policy = policy
        self._events = {
            event_type: _Event(model, build, COMMON | EVENT_COLUMNS[event_type])
            for event_type, (model, build) in BUILDERS.items()
        }

    def map(self, parsed: ParsedRow) -> list[Fact]:
        """The fact a row records.

        Raises:
            MappingError: An unknown code, a missing or malformed value, a column the event does not use, or a
                control total that does not add up.
        """
        row = parsed.row
        try:
            event = self._events[code(self._tables.event_type, row.ereignisart, "Ereignisart")]
            for start, stop, blank in event.unused:
                if row[start:stop] != blank:
                    _reject_unused(row, event.used)
            case_reference = required(row.aktenzeichen, "Aktenzeichen")
            person_ref = required(row.personenkennung, "Personenkennung")
            clock = Clock(self._zone, self._policy)
            occurred_at = clock.utc(row.zeitpunkt, "Zeitpunkt")
            # One strict validation of the nested fields: faster than a constructor per nested model, and
            # strict, so a value of the wrong type is an error instead of being coerced.
            payload = event.model.model_validate(event.build(row, self._tables, clock), strict=True)
            if row.betrag_eur and not event.money:
                parse_amount(row.betrag_eur, "Betrag_EUR")
                raise MappingError("Betrag_EUR has a value, but the event has no amounts")
        except MappingError as exc:
            raise MappingError(exc.message, position=parsed.position) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise MappingError(f"{row.ereignisart}: {where}: {first['msg']}", position=parsed.position) from None
        return [Fact(case_reference, person_ref, occurred_at, payload, warnings=tuple(clock.warnings))]


class _Event:
    """How rows of one event type are mapped."""

    __slots__ = ("build", "model", "money", "unused", "used")

    def __init__(self, model: type[m.Payload], build: Builder, used: frozenset[str]) -> None:
        self.model = model
        self.build = build
        self.used = used
        # The columns the event must leave empty, as runs (start, stop, blank tuple) of adjacent columns: a
        # tuple slice compared with a tuple of empty strings is a C loop, a handful of runs per event.
        runs: list[list[int]] = []
        for i, name in enumerate(FIELDS):
            if name in used:
                continue
            if runs and runs[-1][1] == i:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1])
        self.unused = tuple((start, stop, ("",) * (stop - start)) for start, stop in runs)
        self.money = model in MONEY


def _reject_unused(row: DeRow, used: frozenset[str]) -> None:
    for field, value in zip(FIELDS, row, strict=True):
        if value and field not in used:
            raise MappingError(f"{LABELS[field]} has a value, but {row.ereignisart} rows do not use that column")
