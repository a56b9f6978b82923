"""Rendering canonical facts as export rows: the inverse of the mapper, for sample data.

National codes come from ``CodeTables.reverse``, so a code table edit changes mapping and rendering together.
Where the format allows more than one spelling (times with or without seconds, amounts with or without
thousands dots, an empty or an ``N`` default flag) the renderer picks one at random, so the samples exercise
every spelling the parser accepts. A value the format cannot carry raises ``ValueError`` rather than render
as something that would map back differently.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from gateway.connectors.base import Fact
from gateway.events import models as m
from gw_connector_de_csv.builders import precision
from gw_connector_de_csv.columns import HEADER, DeRow, empty_row
from gw_connector_de_csv.tables import Tables, national
from gw_connector_de_csv.values import (
    escape,
    format_amount,
    format_date,
    format_flag,
    format_local_datetime,
    format_partial_date,
    join_list,
)

_NEEDS_QUOTES = re.compile('[;"\r\n]')


@dataclass(frozen=True, slots=True)
class Style:
    """The spelling choices of one rendered row.

    Attributes:
        zone: Zone of local times.
        seconds: Write times with seconds.
        thousands: Write amounts with thousands dots.
        blank_false: Leave optional flags that are N empty.
    """

    zone: ZoneInfo
    seconds: bool = True
    thousands: bool = True
    blank_false: bool = False

    @classmethod
    def pick(cls, zone: ZoneInfo, rng: random.Random) -> Style:
        """A random style."""
        return cls(zone, rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.5)


def money_total(payload: m.Payload) -> Decimal | None:
    """The sum of a payload's money amounts, or None for a payload type that has none (``Betrag_EUR``)."""
    if isinstance(payload, (m.AssistanceApplied, m.AssistanceGranted)):
        return sum((c.amount_eur for c in payload.components if c.amount_eur is not None), Decimal("0.00"))
    if isinstance(payload, (m.ReintegrationReferral, m.ReintegrationStatusChanged)):
        return sum((b.amount_eur for b in payload.budget_lines), Decimal("0.00"))
    return None


def render_row(fact: Fact, t: Tables, style: Style) -> DeRow:
    """The row that maps back to ``fact``.

    Raises:
        ValueError: The fact holds a value the export cannot express.
    """
    payload = fact.payload
    total = money_total(payload)
    values = empty_row()
    values.update(
        aktenzeichen=_text(fact.case_reference),
        personenkennung=_text(fact.person_ref),
        ereignisart=national(t, "event_type", m.EVENT_TYPE_OF[type(payload)]),
        zeitpunkt=_time(fact.occurred_at, style),
        betrag_eur="" if total is None else format_amount(total, thousands=style.thousands),
    )
    values.update(_RENDERERS[type(payload)](payload, t, style))
    return DeRow(**values)


def encode_row(values: Sequence[str], encoding: str) -> bytes:
    """A row's bytes: fields joined with ``;``, quoted (RFC 4180) where they hold ``;``, ``"`` or a line break."""
    return ";".join(_quote(v) for v in values).encode(encoding)


def header_line(encoding: str) -> bytes:
    """The header line in canonical column order."""
    return encode_row(HEADER, encoding)


def _quote(value: str) -> str:
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if _NEEDS_QUOTES.search(value) else value


# ---- value spellings ----------------------------------------------------------------------------------------


def _text(value: str) -> str:
    if not value:
        raise ValueError("a mandatory text is empty")
    return value


def _optional_text(value: str | None) -> str:
    if value == "":
        raise ValueError("an empty optional text cannot be told apart from a missing one")
    return value or ""


def _time(value: dt.datetime, style: Style) -> str:
    return format_local_datetime(value, style.zone, seconds=style.seconds or bool(value.second))


def _optional_time(value: dt.datetime | None, style: Style) -> str:
    return "" if value is None else _time(value, style)


def _flag(value: bool, style: Style) -> str:
    return "" if style.blank_false and not value else format_flag(value)


def _int(value: int | None) -> str:
    if value is not None and not 0 <= value <= 999_999:
        raise ValueError(f"{value} is not a whole number of at most six digits")
    return "" if value is None else str(value)


def _amount(value: Decimal, style: Style) -> str:
    return format_amount(value, thousands=style.thousands)


def _names(values: Iterable[str]) -> str:
    return join_list(escape(_text(v)) for v in values)


def _codes(t: Tables, table: str, symbols: Iterable[str]) -> str:
    return join_list(national(t, table, s) for s in symbols)


def _code(t: Tables, table: str, symbol: str | None) -> str:
    return "" if symbol is None else national(t, table, symbol)


def _identity(i: m.Identity | None, t: Tables) -> dict[str, str]:
    if i is None:
        return {}
    dob = i.date_of_birth
    if dob.precision != precision(dob.year, dob.month, dob.day):
        raise ValueError(f"date of birth {dob} has a precision its known parts do not show")
    out = {
        "familienname": _names(i.surnames),
        "vornamen": _names(i.forenames),
        "geburtsname": _names(i.names_at_birth),
        "aliasnamen": _names(i.aliases),
        "geburtsdatum": format_partial_date(dob.year, dob.month, dob.day),
        "geburtsort": _optional_text(i.place_of_birth),
        "geschlecht": national(t, "sex", i.sex),
        "staatsangehoerigkeit": join_list(i.nationalities),
    }
    doc = i.travel_document
    if doc is not None:
        out.update(
            dokumentart=national(t, "document_type", doc.type),
            dokumentnummer=_text(doc.number),
            ausstellungsstaat=doc.issuing_country,
            ausstellungsdatum=format_date(doc.issue_date),
            gueltig_bis=format_date(doc.expiry_date),
        )
    return out


def _components(components: Iterable[m.AssistanceComponent], t: Tables, style: Style) -> str:
    items = []
    for c in components:
        parts = [national(t, "assistance_type", c.type), national(t, "assistance_form", c.form)]
        if c.amount_eur is not None:
            parts.append(_amount(c.amount_eur, style))
        items.append(":".join(parts))
    return join_list(items)


def _budget(lines: Iterable[m.BudgetLine], style: Style) -> str:
    return join_list(f"{escape(_text(b.description))}:{_amount(b.amount_eur, style)}" for b in lines)


# ---- one renderer per event type ---------------------------------------------------------------------------


def _return_decision(p: m.ReturnDecisionIssued, t: Tables, s: Style) -> dict[str, str]:
    vd, ban = p.voluntary_departure, p.entry_ban
    return {
        **_identity(p.identity, t),
        "entscheidungsnummer": _text(p.decision_reference),
        "entscheidungsdatum": format_date(p.decision_date),
        "behoerde": _text(p.issuing_authority),
        "rechtsgrundlage": national(t, "legal_ground", p.legal_ground),
        "zielstaat": _optional_text(p.country_of_return),
        "ausreisefrist": format_flag(vd.granted),
        "fristbeginn": format_date(vd.first_day),
        "fristende": format_date(vd.last_day),
        "fristdauer_tage": _int(vd.length_days),
        "verkuerzungsgrund": _code(t, "short_period_ground", vd.shortened_ground),
        "einreisesperre": format_flag(ban.imposed),
        "sperrdauer_tage": _int(ban.duration_days),
        "ausgesetzt": _flag(p.suspended, s),
        "vollzug_aufgeschoben": _flag(p.enforcement_postponed, s),
        "sicherheitsgefahr": _flag(p.public_security_threat, s),
        "warnhinweise": _codes(t, "warning_marker", p.warning_markers),
    }


def _period_extended(p: m.VoluntaryDepartureExtended, t: Tables, s: Style) -> dict[str, str]:
    return {
        "entscheidungsnummer": _text(p.decision_reference),
        "fristende_neu": format_date(p.new_last_day),
        "fristende": format_date(p.previous_last_day),
        "verlaengerungsgrund": national(t, "extension_reason", p.reason),
        "begruendung": _optional_text(p.reason_text),
    }


def _status_changed(p: m.ReturnDecisionStatusChanged, t: Tables, s: Style) -> dict[str, str]:
    return {
        "entscheidungsnummer": _text(p.decision_reference),
        "entscheidungsstatus": national(t, "decision_status", p.status),
        "wirksam_ab": format_date(p.effective_date),
        "rechtsbehelf": _flag(p.appeal_lodged, s),
        "begruendung": _optional_text(p.reason_text),
    }


def _assistance_applied(p: m.AssistanceApplied, t: Tables, s: Style) -> dict[str, str]:
    return {
        "programm": _text(p.programme_reference),
        "antragsdatum": format_date(p.application_date),
        "verfahrensstand": national(t, "procedure_stage", p.stage),
        "leistungen": _components(p.components, t, s),
    }


def _assistance_granted(p: m.AssistanceGranted, t: Tables, s: Style) -> dict[str, str]:
    return {
        "programm": _text(p.programme_reference),
        "verfahrensstand": national(t, "procedure_stage", p.stage),
        "leistungen": _components(p.components, t, s),
        "bewilligender_staat": p.granting_member_state,
        "bewilligungsdatum": format_date(p.grant_date),
        "antragsdatum": format_date(p.application_date),
    }


def _assistance_refused(p: m.AssistanceRefused, t: Tables, s: Style) -> dict[str, str]:
    return {
        "programm": _text(p.programme_reference),
        "verfahrensstand": national(t, "procedure_stage", p.stage),
        "ablehnungsdatum": format_date(p.refusal_date),
        "ablehnungsgrund": national(t, "refusal_reason", p.reason),
        "begruendung": _optional_text(p.reason_text),
    }


def _referral(p: m.ReintegrationReferral, t: Tables, s: Style) -> dict[str, str]:
    return {
        **_identity(p.identity, t),
        "reintegrationsfall": _text(p.referral_id),
        "partner": _text(p.partner),
        "zielstaat": p.country_of_return,
        "einwilligung": format_flag(p.consent_obtained),
        "vulnerabel": format_flag(p.vulnerability),
        "familiengroesse": _int(p.family_size),
        "unterstuetzungsarten": _codes(t, "support_type", p.support_types),
        "reintegrationsphase": national(t, "reintegration_stage", p.stage),
        "programm": _optional_text(p.programme_reference),
        "ausreisedatum_geplant": format_date(p.expected_departure_date),
        "ankunftsdatum": format_date(p.arrival_date),
        "budget": _budget(p.budget_lines, s),
    }


def _reintegration_status(p: m.ReintegrationStatusChanged, t: Tables, s: Style) -> dict[str, str]:
    return {
        "reintegrationsfall": _text(p.referral_id),
        "reintegrationsphase": national(t, "reintegration_stage", p.stage),
        "ankunftsdatum": format_date(p.arrival_date),
        "budget": _budget(p.budget_lines, s),
        "bemerkung": _optional_text(p.note),
    }


def _departure(p: m.DepartureConfirmed, t: Tables, s: Style) -> dict[str, str]:
    return {
        "grenzuebertritt": _time(p.departed_at, s),
        "grenzuebergang": _optional_text(p.border_crossing_point),
        "nachweise": _codes(t, "departure_evidence", p.evidence),
        "rueckkehrart": national(t, "return_type", p.return_type),
        "gefoerdert": format_flag(p.assisted),
        "zielstaat": _optional_text(p.destination_country),
        "entscheidungsnummer": _optional_text(p.decision_reference),
    }


def _non_return(p: m.NonReturnRecorded, t: Tables, s: Style) -> dict[str, str]:
    return {
        "entscheidungsnummer": _text(p.decision_reference),
        "fristende": format_date(p.period_last_day),
        "feststellung": national(t, "non_return_source", p.source),
    }


def _eurodac_hit(p: m.EurodacHitReceived, t: Tables, s: Style) -> dict[str, str]:
    out = {
        "trefferstaat": p.hit_member_state,
        "eurodac_kategorie": national(t, "eurodac_category", p.category),
        "artikel": _text(p.article),
        "trefferkennung": _text(p.hit_reference),
    }
    if p.avrr is not None:
        out.update(
            foerderung_bewilligt=format_flag(p.avrr.granted),
            bewilligender_staat=p.avrr.granting_member_state,
            bewilligungsdatum=format_date(p.avrr.granted_on),
            foerderung_status="" if p.avrr.status is None else national(t, "avrr_status", p.avrr.status),
        )
    return out


def _entry(p: m.EntryRecorded, t: Tables, s: Style) -> dict[str, str]:
    return {
        "grenzuebertritt": _time(p.entered_at, s),
        "grenzuebergang": _text(p.border_crossing_point),
        "ees_kennung": _optional_text(p.ees_record_reference),
    }


def _biometrics(p: m.BiometricsCaptured, t: Tables, s: Style) -> dict[str, str]:
    return {
        **_identity(p.identity, t),
        "eurodac_kategorie": national(t, "eurodac_category", p.category),
        "artikel": _text(p.article),
        "registrierungszeitpunkt": _time(p.registered_at, s),
        "ed_datum": format_date(p.biometrics_taken_on),
        "uebermittlungszeitpunkt": _optional_time(p.transmitted_at, s),
        "sicherheitsgruende": _codes(t, "security_ground", p.security_grounds),
    }


_RENDERERS: dict[type[Any], Callable[[Any, Tables, Style], dict[str, str]]] = {
    m.ReturnDecisionIssued: _return_decision,
    m.VoluntaryDepartureExtended: _period_extended,
    m.ReturnDecisionStatusChanged: _status_changed,
    m.AssistanceApplied: _assistance_applied,
    m.AssistanceGranted: _assistance_granted,
    m.AssistanceRefused: _assistance_refused,
    m.ReintegrationReferral: _referral,
    m.ReintegrationStatusChanged: _reintegration_status,
    m.DepartureConfirmed: _departure,
    m.NonReturnRecorded: _non_return,
    m.EurodacHitReceived: _eurodac_hit,
    m.EntryRecorded: _entry,
    m.BiometricsCaptured: _biometrics,
}
