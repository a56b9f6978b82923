"""Only whitelisted fields leave: sentinels in every other field never reach a body; the gates refuse what slips."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.adapters.riat import Km1, Refused, Rendered, RiatConfig, render
from gateway.adapters.riat.config import CASE_CREATION_FIELDS, DEFAULT_FIELDS, KM1_FIELDS
from gateway.adapters.riat.messages import RiatIdentity
from gateway.events import models as m
from tests.unit.adapters.builders import decision
from tests.unit.adapters.riat.support import T0, event, referral, run

SENTINELS = {
    "surname": "ZZSURNAMEZZ",
    "forename": "ZZFORENAMEZZ",
    "alias": "ZZALIASZZ",
    "place": "ZZPLACEZZ",
    "document": "ZZDOC4711ZZ",
    "case": "ZZCASEREFZZ",
    "decision": "ZZDECISIONZZ",
    "authority": "ZZAUTHORITYZZ",
    "subject": "f" * 31 + "e",
    "dob": "1987-11-23",
}


def identity() -> m.Identity:
    return m.Identity(
        surnames=(SENTINELS["surname"],),
        forenames=(SENTINELS["forename"],),
        aliases=(SENTINELS["alias"],),
        date_of_birth=m.PartialDate(year=1987, month=11, day=23, precision=m.DatePrecision.DAY),
        place_of_birth=SENTINELS["place"],
        sex=m.Sex.FEMALE,
        nationalities=("GEO",),
        travel_document=m.TravelDocument(
            type=m.TravelDocumentType.PASSPORT, number=SENTINELS["document"], issuing_country="GEO"
        ),
    )


def story(config: RiatConfig) -> list[tuple[str, dict]]:
    kw = {"case": SENTINELS["case"], "subject": SENTINELS["subject"]}
    d = decision(SENTINELS["decision"]).model_copy(
        update={"identity": identity(), "issuing_authority": SENTINELS["authority"]}
    )
    _, out = run([event(d, **kw), event(referral(identity=identity()), **kw)], config)
    return out


def test_no_sentinel_leaves_under_the_default_whitelist():
    out = story(RiatConfig())
    assert [k for k, _ in out] == ["CASE_CREATION", "KM1_APPLICATION"]
    text = "".join(str(doc) for _, doc in out)
    for name, value in SENTINELS.items():
        assert value not in text, name
    assert "identity" not in out[1][1]["km1"]


def test_a_whitelisted_date_of_birth_leaves_and_nothing_else_of_the_identity():
    fields = {**DEFAULT_FIELDS, "KM1_APPLICATION": (*DEFAULT_FIELDS["KM1_APPLICATION"], "identity.date_of_birth")}
    out = story(RiatConfig(fields=fields))
    assert out[1][1]["km1"]["identity"] == {"date_of_birth": SENTINELS["dob"]}
    text = str(out)
    for name in ("surname", "forename", "document", "case", "place"):
        assert SENTINELS[name] not in text


@pytest.mark.parametrize("dropped", CASE_CREATION_FIELDS)
def test_a_creation_field_off_the_whitelist_is_left_out(dropped: str):
    fields = {**DEFAULT_FIELDS, "CASE_CREATION": tuple(f for f in CASE_CREATION_FIELDS if f != dropped)}
    out = story(RiatConfig(fields=fields))
    assert dropped not in out[0][1]["case"]


@pytest.mark.parametrize(
    "dropped", [f for f in KM1_FIELDS if not f.startswith("identity.") and f != "consent_obtained"]
)
def test_a_km1_field_off_the_whitelist_is_left_out(dropped: str):
    km1 = tuple(f for f in DEFAULT_FIELDS["KM1_APPLICATION"] if f != dropped)
    out = story(RiatConfig(fields={**DEFAULT_FIELDS, "KM1_APPLICATION": km1}))
    assert dropped not in out[1][1]["km1"]
    assert out[1][1]["km1"]["consent_obtained"] is True


def test_configuration_rejects_unknown_fields_and_km1_without_consent():
    with pytest.raises(ValueError, match="unknown fields"):
        RiatConfig(fields={**DEFAULT_FIELDS, "CASE_CREATION": ("name",)})
    with pytest.raises(ValueError, match="consent_obtained"):
        RiatConfig(fields={**DEFAULT_FIELDS, "KM1_UPDATE": ("family_size",)})
    with pytest.raises(ValueError, match="no whitelist"):
        RiatConfig(fields={"CASE_CREATION": CASE_CREATION_FIELDS})


def km1(**extra: object) -> Km1:
    base: dict[str, object] = {
        "kind": "KM1_APPLICATION",
        "referral_id": "R-1",
        "member_state": "NL",
        "created_at": T0,
        "legal_basis": "consent",
    }
    return Km1(**{**base, **extra})  # type: ignore[arg-type]


def test_render_refuses_a_field_outside_the_whitelist():
    refused = render(km1(identity=RiatIdentity(surnames=(SENTINELS["surname"],))))
    assert isinstance(refused, Refused)
    assert "identity.surnames" in refused.reason
    assert SENTINELS["surname"] not in refused.reason


def test_render_refuses_schema_violations_without_quoting_values():
    refused = render(km1(family_size=0, departure_date=dt.date(2026, 1, 1), administrative_status="ZZBADZZ" * 20))
    assert isinstance(refused, Refused)
    assert "riat-referral-v1" in refused.reason
    assert "minimum at /km1/family_size" in refused.reason
    assert "maxLength at /km1/administrative_status" in refused.reason
    assert "ZZBADZZ" not in refused.reason
    ok = render(km1(family_size=3))
    assert isinstance(ok, Rendered)


def test_render_refuses_text_utf8_cannot_carry():
    refused = render(km1(type_of_return="bad \ud800 text"))
    assert isinstance(refused, Refused)
    assert "UTF-8" in refused.reason


def test_amounts_are_decimal_strings():
    from gateway.adapters.riat.messages import Assistance

    rendered = render(km1(assistance_granted=(Assistance(type="TRAVEL", form="CASH", amount_eur="12.50"),)))
    assert isinstance(rendered, Rendered)
    assert b'"amount_eur":"12.50"' in rendered.body


def test_every_identity_field_whitelisted_still_never_sends_documents_or_the_case():
    from gateway.adapters.riat.config import IDENTITY_FIELDS

    km1 = (*DEFAULT_FIELDS["KM1_APPLICATION"], *IDENTITY_FIELDS)
    out = story(RiatConfig(fields={**DEFAULT_FIELDS, "KM1_APPLICATION": km1}))
    assert out[1][1]["km1"]["identity"] == {
        "surnames": [SENTINELS["surname"]],
        "forenames": [SENTINELS["forename"]],
        "date_of_birth": SENTINELS["dob"],
        "sex": "FEMALE",
        "nationalities": ["GEO"],
    }
    text = str(out)
    for name in ("alias", "place", "document", "case", "decision", "authority", "subject"):
        assert SENTINELS[name] not in text, name
