"""The columns of the export: one typed row, the header labels, and which columns each event type uses.

The row is a ``NamedTuple`` so that the mapper reads ``row.fristende`` (checked by mypy, a C-level attribute
access) instead of looking names up in a dict. Its field order is the canonical column order, the order in
which ``write_export`` writes the header; a file may order its columns differently (the header decides).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

from gateway.events import models as m


class DeRow(NamedTuple):
    """One data row of the export, in canonical column order; every value is the field's decoded text."""

    # Common to every event
    aktenzeichen: str
    personenkennung: str
    ereignisart: str
    zeitpunkt: str
    betrag_eur: str
    # Identity block
    familienname: str
    vornamen: str
    geburtsname: str
    aliasnamen: str
    geburtsdatum: str
    geburtsort: str
    geschlecht: str
    staatsangehoerigkeit: str
    dokumentart: str
    dokumentnummer: str
    ausstellungsstaat: str
    ausstellungsdatum: str
    gueltig_bis: str
    # Return decision, its period and its status
    entscheidungsnummer: str
    entscheidungsdatum: str
    behoerde: str
    rechtsgrundlage: str
    zielstaat: str
    ausreisefrist: str
    fristbeginn: str
    fristende: str
    fristdauer_tage: str
    verkuerzungsgrund: str
    einreisesperre: str
    sperrdauer_tage: str
    ausgesetzt: str
    vollzug_aufgeschoben: str
    sicherheitsgefahr: str
    warnhinweise: str
    fristende_neu: str
    verlaengerungsgrund: str
    entscheidungsstatus: str
    wirksam_ab: str
    rechtsbehelf: str
    begruendung: str
    # Return assistance (Förderung)
    programm: str
    verfahrensstand: str
    antragsdatum: str
    leistungen: str
    bewilligender_staat: str
    bewilligungsdatum: str
    ablehnungsdatum: str
    ablehnungsgrund: str
    # Reintegration
    reintegrationsfall: str
    partner: str
    einwilligung: str
    vulnerabel: str
    familiengroesse: str
    unterstuetzungsarten: str
    reintegrationsphase: str
    ausreisedatum_geplant: str
    ankunftsdatum: str
    budget: str
    bemerkung: str
    # Border crossings
    grenzuebertritt: str
    grenzuebergang: str
    nachweise: str
    rueckkehrart: str
    gefoerdert: str
    feststellung: str
    ees_kennung: str
    # Eurodac
    eurodac_kategorie: str
    artikel: str
    trefferstaat: str
    trefferkennung: str
    foerderung_bewilligt: str
    foerderung_status: str
    registrierungszeitpunkt: str
    ed_datum: str
    uebermittlungszeitpunkt: str
    sicherheitsgruende: str


FIELDS: tuple[str, ...] = DeRow._fields

_LABEL_EXCEPTIONS = {
    "betrag_eur": "Betrag_EUR",
    "staatsangehoerigkeit": "Staatsangehörigkeit",
    "gueltig_bis": "Gültig_bis",
    "behoerde": "Behörde",
    "fristdauer_tage": "Fristdauer_Tage",
    "verkuerzungsgrund": "Verkürzungsgrund",
    "sperrdauer_tage": "Sperrdauer_Tage",
    "vollzug_aufgeschoben": "Vollzug_aufgeschoben",
    "fristende_neu": "Fristende_neu",
    "verlaengerungsgrund": "Verlängerungsgrund",
    "wirksam_ab": "Wirksam_ab",
    "begruendung": "Begründung",
    "bewilligender_staat": "Bewilligender_Staat",
    "familiengroesse": "Familiengröße",
    "unterstuetzungsarten": "Unterstützungsarten",
    "ausreisedatum_geplant": "Ausreisedatum_geplant",
    "grenzuebertritt": "Grenzübertritt",
    "grenzuebergang": "Grenzübergang",
    "rueckkehrart": "Rückkehrart",
    "gefoerdert": "Gefördert",
    "ees_kennung": "EES_Kennung",
    "eurodac_kategorie": "Eurodac_Kategorie",
    "foerderung_bewilligt": "Förderung_bewilligt",
    "foerderung_status": "Förderung_Status",
    "ed_datum": "ED_Datum",
    "uebermittlungszeitpunkt": "Übermittlungszeitpunkt",
    "sicherheitsgruende": "Sicherheitsgründe",
}

#: Field name -> header label as it appears in the file (German, with umlauts).
LABELS: MappingProxyType[str, str] = MappingProxyType({f: _LABEL_EXCEPTIONS.get(f, f.capitalize()) for f in FIELDS})
#: Header labels in canonical order.
HEADER: tuple[str, ...] = tuple(LABELS[f] for f in FIELDS)

#: Columns added to the format after its first version, oldest first. Each version's layout is the canonical
#: order without the columns added after it, so a row without a header line (a raw-topic message) is read in
#: the layout its field count names; a new column is appended here, never inserted.
ADDED: tuple[str, ...] = ("foerderung_status",)
#: Columns a header may leave out (``ADDED``), so that exports written before they existed stay readable. A
#: left-out column reads as empty in every row.
OPTIONAL = frozenset(ADDED)
#: Header labels of ``OPTIONAL``.
OPTIONAL_LABELS: frozenset[str] = frozenset(LABELS[f] for f in OPTIONAL)

#: Columns every row fills, whatever its event type (``betrag_eur`` is empty for events without amounts).
COMMON = frozenset({"aktenzeichen", "personenkennung", "ereignisart", "zeitpunkt", "betrag_eur"})

#: The identity block (Eurodac Art. 17(1)(c)-(i), SIS Art. 4(1)(a)-(h)).
IDENTITY = (
    "familienname",
    "vornamen",
    "geburtsname",
    "aliasnamen",
    "geburtsdatum",
    "geburtsort",
    "geschlecht",
    "staatsangehoerigkeit",
    "dokumentart",
    "dokumentnummer",
    "ausstellungsstaat",
    "ausstellungsdatum",
    "gueltig_bis",
)
DOCUMENT = ("dokumentart", "dokumentnummer", "ausstellungsstaat", "ausstellungsdatum", "gueltig_bis")

_E = m.EventType
#: Columns each event type may fill besides ``COMMON``; every other column must be empty.
EVENT_COLUMNS: MappingProxyType[m.EventType, frozenset[str]] = MappingProxyType(
    {
        _E.RETURN_DECISION_ISSUED: frozenset(
            (
                *IDENTITY,
                "entscheidungsnummer",
                "entscheidungsdatum",
                "behoerde",
                "rechtsgrundlage",
                "zielstaat",
                "ausreisefrist",
                "fristbeginn",
                "fristende",
                "fristdauer_tage",
                "verkuerzungsgrund",
                "einreisesperre",
                "sperrdauer_tage",
                "ausgesetzt",
                "vollzug_aufgeschoben",
                "sicherheitsgefahr",
                "warnhinweise",
            )
        ),
        _E.VOLUNTARY_DEPARTURE_EXTENDED: frozenset(
            ("entscheidungsnummer", "fristende_neu", "fristende", "verlaengerungsgrund", "begruendung")
        ),
        _E.RETURN_DECISION_STATUS_CHANGED: frozenset(
            ("entscheidungsnummer", "entscheidungsstatus", "wirksam_ab", "rechtsbehelf", "begruendung")
        ),
        _E.ASSISTANCE_APPLIED: frozenset(("programm", "antragsdatum", "verfahrensstand", "leistungen")),
        _E.ASSISTANCE_GRANTED: frozenset(
            ("programm", "verfahrensstand", "leistungen", "bewilligender_staat", "bewilligungsdatum", "antragsdatum")
        ),
        _E.ASSISTANCE_REFUSED: frozenset(
            ("programm", "verfahrensstand", "ablehnungsdatum", "ablehnungsgrund", "begruendung")
        ),
        _E.REINTEGRATION_REFERRAL: frozenset(
            (
                *IDENTITY,
                "reintegrationsfall",
                "partner",
                "zielstaat",
                "einwilligung",
                "vulnerabel",
                "familiengroesse",
                "unterstuetzungsarten",
                "reintegrationsphase",
                "programm",
                "ausreisedatum_geplant",
                "ankunftsdatum",
                "budget",
            )
        ),
        _E.REINTEGRATION_STATUS_CHANGED: frozenset(
            ("reintegrationsfall", "reintegrationsphase", "ankunftsdatum", "budget", "bemerkung")
        ),
        _E.DEPARTURE_CONFIRMED: frozenset(
            (
                "grenzuebertritt",
                "grenzuebergang",
                "nachweise",
                "rueckkehrart",
                "gefoerdert",
                "zielstaat",
                "entscheidungsnummer",
            )
        ),
        _E.NON_RETURN_RECORDED: frozenset(("entscheidungsnummer", "fristende", "feststellung")),
        _E.EURODAC_HIT_RECEIVED: frozenset(
            (
                "trefferstaat",
                "eurodac_kategorie",
                "artikel",
                "trefferkennung",
                "foerderung_bewilligt",
                "bewilligender_staat",
                "bewilligungsdatum",
                "foerderung_status",
            )
        ),
        _E.ENTRY_RECORDED: frozenset(("grenzuebertritt", "grenzuebergang", "ees_kennung")),
        _E.BIOMETRICS_CAPTURED: frozenset(
            (
                *IDENTITY,
                "eurodac_kategorie",
                "artikel",
                "registrierungszeitpunkt",
                "ed_datum",
                "uebermittlungszeitpunkt",
                "sicherheitsgruende",
            )
        ),
    }
)


def index_of(field: str) -> int:
    """Position of a column in canonical order."""
    return FIELDS.index(field)


def empty_row() -> dict[str, str]:
    """A row with every column empty, keyed by field name (the renderer fills it)."""
    return dict.fromkeys(FIELDS, "")
