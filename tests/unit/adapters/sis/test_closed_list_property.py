"""Properties over generated canonical events and sequences of them (gateway.testing.strategies).

Whatever the canonical events carry:
1. every rendered message validates against the XSD (and, for plausible data, every message renders);
2. the element names of every message are within the Art. 4(1) whitelist of its target plus the envelope: checked
   against a table written here, independently of the adapter's own;
3. sentinel values planted in every canonical field that is NOT on the whitelist never appear in any rendered byte,
   nor in any refusal reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.adapters.sis import Refused, Rendered, SisConfig, SisStep, SisSubjectState, render, sis_step
from gateway.adapters.sis.messages import SisMessage
from gateway.events import models as m
from gateway.testing.strategies import case_events, partial_dates
from gateway.validation.rules.sis import DEFAULT_ART4_POINTS, ClosedList
from tests.unit.adapters.sis.support import _SCHEMA

T = m.EventType
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the oracle: written here, not imported from the adapter -------------------------------------------------------

ELEMENT_OF_PATH = {
    "identity.surnames": "Surname",
    "identity.forenames": "Forename",
    "identity.names_at_birth": "NameAtBirth",
    "identity.aliases": "Alias",
    "identity.place_of_birth": "PlaceOfBirth",
    "identity.date_of_birth": "DateOfBirth",
    "identity.sex": "Gender",
    "identity.nationalities": "Nationality",
    "warning_markers": "WarningMarker",
    "legal_ground": "ReasonForAlert",
    "decision_reference": "DecisionReference",
    "public_security_threat": "PublicSecurityThreat",
    "identity.travel_document.type": "DocumentCategory",
    "identity.travel_document.issuing_country": "DocumentCountryOfIssue",
    "identity.travel_document.number": "DocumentNumber",
    "identity.travel_document.issue_date": "DocumentDateOfIssue",
    "voluntary_departure.last_day": "VoluntaryDepartureLastDay",
    "suspended": "Suspended",
    "enforcement_postponed": "EnforcementPostponed",
    "entry_ban.imposed": "EntryBan",
    "entry_ban.duration_days": "EntryBanDurationDays",
}
ENVELOPE = {"IssuingMemberState", "AlertReference", "DecisionReference", "CreatedAt"}
# Elements filled from configuration or fixed by the kind, never from an event (k, m; ground codes; the ban's end).
FIXED = {
    "CREATE": {"ReturnAlertCreate", "CreatingAuthority", "ActionOnHit"},
    "UPDATE": {"ReturnAlertUpdate", "CreatingAuthority", "ActionOnHit"},
    "CONFIRMATION_OF_RETURN": {"ConfirmationOfReturn"},
    "DELETE": {"ReturnAlertDelete", "DeletionGround"},
    "NON_RETURN": {"NonReturn"},
    "ENTRY_BAN_ALERT": {
        "RefusalOfEntryAlert",
        "RefusalGround",
        "CreatingAuthority",
        "ActionOnHit",
        "EntryBanExpiryDate",
    },
}
IDENTITY_PATHS = [p for p in ELEMENT_OF_PATH if p.startswith("identity.")]


def allowed_elements(kind: str, art4_paths: set[str], entry_ban_paths: set[str]) -> set[str]:
    if kind == "ENTRY_BAN_ALERT":
        data = {ELEMENT_OF_PATH[p] for p in entry_ban_paths}
    elif kind in ("CREATE", "UPDATE"):
        data = {ELEMENT_OF_PATH[p] for p in art4_paths}
    elif kind == "NON_RETURN":
        data = {"VoluntaryDepartureLastDay"} & {ELEMENT_OF_PATH[p] for p in art4_paths}
    else:
        data = set()
    return FIXED[kind] | ENVELOPE | data


# --- sentinels in every field outside the whitelist ---------------------------------------------------------------

# '#' is outside the alphabet of plausible names below, so no generated value can contain a sentinel by chance.
S = {
    name: f"#SENTINEL#{name}#"
    for name in (
        "case_reference",
        "correlation_id",
        "subject_key",
        "connector",
        "version",
        "rule_id",
        "finding_path",
        "finding_message",
        "finding_legal",
        "issuing_authority",
        "country_of_return",
        "extension_reason_text",
        "status_reason_text",
        "border_crossing_point",
        "destination_country",
    )
}
D = {
    "decision_date": dt.date(1903, 7, 11),
    "first_day": dt.date(1905, 5, 5),
    "document_expiry": dt.date(1907, 9, 13),
    "previous_last_day": dt.date(1909, 1, 19),
    "effective_date": dt.date(1911, 11, 11),
}
LENGTH_DAYS = 987_123_456
SENTINEL_BYTES = [s.encode() for s in S.values()] + [d.isoformat().encode() for d in D.values()] + [b"987123456"]

POOL = ("RD-1", "RD-2")
SIS_TYPES = [
    T.RETURN_DECISION_ISSUED,
    T.RETURN_DECISION_ISSUED,
    T.RETURN_DECISION_ISSUED,
    T.VOLUNTARY_DEPARTURE_EXTENDED,
    T.RETURN_DECISION_STATUS_CHANGED,
    T.RETURN_DECISION_STATUS_CHANGED,
    T.DEPARTURE_CONFIRMED,
    T.NON_RETURN_RECORDED,
]
OTHER_TYPES = [t for t in T if t is not T.UNKNOWN and t not in SIS_TYPES]

_name = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz '-", min_size=1, max_size=30).filter(
    lambda s: bool(s.strip())
)
_code = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)


@st.composite
def plausible_identity(draw: st.DrawFn) -> m.Identity:
    """An identity whose values the XSD accepts: the data a validated connector delivers."""
    names = st.lists(_name, max_size=3).map(tuple)
    doc = draw(
        st.none()
        | st.builds(
            m.TravelDocument,
            type=st.sampled_from(m.TravelDocumentType),
            number=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=12),
            issuing_country=_code,
            issue_date=st.none() | st.dates(),
            expiry_date=st.just(D["document_expiry"]),
        )
    )
    return m.Identity(
        surnames=draw(names),
        forenames=draw(names),
        names_at_birth=draw(names),
        aliases=draw(names),
        date_of_birth=m.PartialDate.model_validate(draw(partial_dates())),
        place_of_birth=draw(st.none() | _name),
        sex=draw(st.sampled_from(m.Sex)),
        nationalities=tuple(draw(st.lists(_code, max_size=3))),
        travel_document=doc,
    )


@st.composite
def story_event(draw: st.DrawFn, plausible: bool, event_type: m.EventType | None = None) -> m.CaseEvent:
    """A generated event aimed at a small pool of decisions, with sentinels in every field outside the whitelist."""
    if event_type is None:
        event_type = draw(
            st.one_of(st.sampled_from(SIS_TYPES), st.sampled_from(SIS_TYPES), st.sampled_from(OTHER_TYPES))
        )
    e = draw(case_events(event_type))
    p: Any = e.payload
    ref = draw(st.sampled_from(POOL))
    if isinstance(p, m.ReturnDecisionIssued):
        ident = draw(plausible_identity()) if plausible else _expire(p.identity)
        ban = p.entry_ban
        if plausible and ban.duration_days is not None:
            ban = ban.model_copy(update={"duration_days": draw(st.integers(1, 36_500))})
        p = p.model_copy(
            update={
                "decision_reference": ref,
                "decision_date": D["decision_date"],
                "issuing_authority": S["issuing_authority"],
                "country_of_return": S["country_of_return"],
                "voluntary_departure": p.voluntary_departure.model_copy(
                    update={"first_day": D["first_day"], "length_days": LENGTH_DAYS, **_period(draw, plausible)}
                ),
                "entry_ban": ban,
                "identity": ident,
                # mostly an alert is due, so that stories go on past the creation
                "alert_exemption": draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from(m.AlertExemption))),
            }
        )
    elif isinstance(p, m.VoluntaryDepartureExtended):
        p = p.model_copy(
            update={
                "decision_reference": ref,
                "reason_text": S["extension_reason_text"],
                "previous_last_day": D["previous_last_day"],
            }
        )
    elif isinstance(p, m.ReturnDecisionStatusChanged):
        p = p.model_copy(
            update={
                "decision_reference": ref,
                "reason_text": S["status_reason_text"],
                "effective_date": D["effective_date"],
            }
        )
    elif isinstance(p, m.DepartureConfirmed):
        p = p.model_copy(
            update={
                "decision_reference": draw(st.sampled_from((*POOL, None))),
                "border_crossing_point": S["border_crossing_point"],
                "destination_country": S["destination_country"],
            }
        )
    elif isinstance(p, m.NonReturnRecorded):
        # mostly a non-return the gateway sends (from its monitor, for the period's current end or later)
        source = draw(st.sampled_from([*[m.NonReturnSource.MONITOR] * 3, *m.NonReturnSource]))
        last_day = draw(st.sampled_from([dt.date.max] * 3 + [dt.date.min]))
        p = p.model_copy(update={"decision_reference": ref, "source": source, "period_last_day": last_day})
    return e.model_copy(
        update={
            "payload": p,
            "member_state": draw(st.sampled_from([m.MemberState.NL] * 8 + [m.MemberState.BE, m.MemberState.UNKNOWN])),
            "case_reference": S["case_reference"],
            "correlation_id": S["correlation_id"],
            "subject_key": S["subject_key"],
            "source": m.Source(connector=S["connector"], version=S["version"]),
            "validation_warnings": (
                m.ValidationFinding(
                    rule_id=S["rule_id"],
                    severity=m.Severity.WARNING,
                    path=S["finding_path"],
                    message=S["finding_message"],
                    legal_reference=S["finding_legal"],
                ),
            ),
        }
    )


def _period(draw: st.DrawFn, plausible: bool) -> dict[str, Any]:
    # Plausible decisions mostly grant a period, so that extensions and non-returns have something to act on.
    if not plausible or not draw(st.booleans() | st.just(True)):
        return {}
    return {"granted": True, "last_day": draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))}


def _expire(identity: m.Identity) -> m.Identity:
    doc = identity.travel_document
    if doc is None:
        return identity
    return identity.model_copy(update={"travel_document": doc.model_copy(update={"expiry_date": D["document_expiry"]})})


def stories(plausible: bool) -> st.SearchStrategy[list[m.CaseEvent]]:
    """A decision, then up to 12 events of any kind (decisions of the pool among them)."""
    first = story_event(plausible, T.RETURN_DECISION_ISSUED)
    return st.tuples(first, st.lists(story_event(plausible), max_size=12)).map(lambda t: [t[0], *t[1]])


@st.composite
def full_story(draw: st.DrawFn, plausible: bool) -> list[m.CaseEvent]:
    """Every kind of message in one story: generated contents, fixed course (create, extend, suspend, resume,
    non-return, depart with an entry ban)."""

    def aimed(event_type: m.EventType, **changes: Any) -> m.CaseEvent:
        e = draw(story_event(plausible, event_type))
        payload = e.payload.model_copy(update={"decision_reference": "RD-1", **changes})
        return e.model_copy(update={"member_state": m.MemberState.NL, "payload": payload})

    first = aimed(T.RETURN_DECISION_ISSUED, alert_exemption=None)
    p: Any = first.payload
    first = first.model_copy(
        update={
            "payload": p.model_copy(
                update={
                    "voluntary_departure": p.voluntary_departure.model_copy(
                        update={"granted": True, "last_day": dt.date(2026, 4, 1)}
                    ),
                    "entry_ban": m.EntryBan(imposed=True, duration_days=draw(st.none() | st.integers(1, 3650))),
                    "suspended": False,
                    "enforcement_postponed": False,
                }
            )
        }
    )
    return [
        first,
        aimed(T.VOLUNTARY_DEPARTURE_EXTENDED, new_last_day=dt.date(2026, 5, 1)),
        aimed(T.RETURN_DECISION_STATUS_CHANGED, status=m.DecisionStatus.SUSPENDED),
        aimed(T.RETURN_DECISION_STATUS_CHANGED, status=m.DecisionStatus.RESUMED),
        aimed(T.NON_RETURN_RECORDED, source=m.NonReturnSource.MONITOR, period_last_day=dt.date(2026, 5, 1)),
        aimed(T.DEPARTURE_CONFIRMED, evidence=(m.DepartureEvidence.EES_EXIT_RECORD,)),
    ]


def play(events: list[m.CaseEvent], config: SisConfig) -> list[tuple[SisMessage, Rendered | Refused]]:
    """Run a story; check the invariants of every step on the way; return every message with its rendering."""
    state: SisSubjectState | None = None
    out = []
    for e in events:
        step: SisStep = sis_step(state, e, config)
        assert bool(step.messages) != bool(step.skipped), step  # either something is sent, or it says why not
        if step.state is not None:
            assert SisSubjectState.model_validate_json(step.state.model_dump_json()) == step.state
            assert len({(a.member_state, a.decision_reference) for a in step.state.alerts}) == len(step.state.alerts)
        out.extend((message, render(message, config)) for message in step.messages)
        state = step.state
    return out


def check(
    rendered: list[tuple[SisMessage, Rendered | Refused]], art4_paths: set[str], entry_ban_paths: set[str]
) -> None:
    for message, result in rendered:
        if isinstance(result, Refused):
            for sentinel in SENTINEL_BYTES:
                assert sentinel.decode() not in result.reason
            continue
        # (1) valid, read back from the bytes with a schema loaded independently of the renderer
        doc = etree.fromstring(result.xml)
        _SCHEMA.assertValid(doc)
        # (2) only whitelisted elements, checked against this file's own table
        names = {etree.QName(e).localname for e in doc.iter()}
        assert names <= allowed_elements(message.kind, art4_paths, entry_ban_paths), (message.kind, names)
        assert set(doc.attrib) == {"legalBasis"}
        # (3) nothing from outside the whitelist
        for sentinel in SENTINEL_BYTES:
            assert sentinel not in result.xml, (message.kind, sentinel)


DEFAULT = SisConfig(creating_authority="NL-IND")
DEFAULT_ENTRY_BAN = set(IDENTITY_PATHS) | {"entry_ban.duration_days"}


@SETTINGS
@given(stories(plausible=False))
def test_wild_events_never_leak_and_whatever_renders_is_valid(events):
    check(play(events, DEFAULT), set(DEFAULT_ART4_POINTS), DEFAULT_ENTRY_BAN)


@SETTINGS
@given(stories(plausible=True))
def test_plausible_events_always_render_valid_and_never_leak(events):
    rendered = play(events, DEFAULT)
    refusals = [(msg.kind, r.reason) for msg, r in rendered if isinstance(r, Refused)]
    assert refusals == []
    check(rendered, set(DEFAULT_ART4_POINTS), DEFAULT_ENTRY_BAN)


@SETTINGS
@given(
    stories(plausible=True),
    st.sets(st.sampled_from(sorted(set(DEFAULT_ART4_POINTS) - {"decision_reference"}))),
    st.sets(st.sampled_from([*IDENTITY_PATHS, "entry_ban.duration_days"])),
)
def test_a_narrower_whitelist_narrows_every_message(events, art4_kept, entry_ban_kept):
    art4 = {p: DEFAULT_ART4_POINTS[p] for p in (*art4_kept, "decision_reference")}
    withheld = tuple(p for p in ClosedList().withheld)
    config = SisConfig(
        creating_authority="NL-IND",
        closed_list=ClosedList(art4_points=art4, withheld=withheld),
        entry_ban_fields=tuple(sorted(entry_ban_kept)),
    )
    rendered = play(events, config)
    assert [r for _, r in rendered if isinstance(r, Refused)] == []
    check(rendered, set(art4), entry_ban_kept)


@settings(SETTINGS, max_examples=50)
@given(stories(plausible=True))
def test_steps_are_pure(events):
    first = [(msg, r) for msg, r in play(events, DEFAULT)]
    assert play(events, DEFAULT) == first


def test_the_oracle_covers_the_closed_list():
    # If the closed list gains a field, this file's table must learn its element before the properties mean anything.
    assert set(DEFAULT_ART4_POINTS) <= set(ELEMENT_OF_PATH)


@SETTINGS
@given(full_story(plausible=True))
def test_every_kind_renders_valid_and_leaks_nothing_in_a_full_story(events):
    rendered = play(events, DEFAULT)
    assert [msg.kind for msg, _ in rendered] == [
        "CREATE",
        "UPDATE",
        "UPDATE",
        "UPDATE",
        "NON_RETURN",
        "CONFIRMATION_OF_RETURN",
        "DELETE",
        "ENTRY_BAN_ALERT",
    ]
    assert [r for _, r in rendered if isinstance(r, Refused)] == []
    check(rendered, set(DEFAULT_ART4_POINTS), DEFAULT_ENTRY_BAN)


@SETTINGS
@given(full_story(plausible=False))
def test_every_kind_with_wild_contents_never_leaks(events):
    check(play(events, DEFAULT), set(DEFAULT_ART4_POINTS), DEFAULT_ENTRY_BAN)
