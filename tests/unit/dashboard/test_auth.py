from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.dashboard.auth import (
    AuthFailure,
    AuthFailureCode,
    Principal,
    authenticate,
    hash_password,
    principal_from_proxy,
    session_principal,
)
from gateway.dashboard.settings import DashboardSettings, ProxyTrust, Role, UserEntry


@pytest.fixture(scope="module")
def users() -> dict[str, UserEntry]:
    return {
        "ana": UserEntry(role=Role.OPERATOR, password_hash=hash_password("ana-password-1")),
        "ben": UserEntry(role=Role.VIEWER, password_hash=hash_password("ben-password-1")),
    }


def test_hash_is_argon2id_and_salted():
    a, b = hash_password("same password"), hash_password("same password")
    assert a.startswith("$argon2id$")
    assert a != b


def test_right_password_signs_in_with_the_configured_role(users):
    assert authenticate(users, "ana", "ana-password-1") == Principal("ana", Role.OPERATOR)
    ben = authenticate(users, "ben", "ben-password-1")
    assert isinstance(ben, Principal)
    assert not ben.may_replay


@pytest.mark.parametrize(
    ("name", "password", "code"),
    [
        ("ana", "wrong", AuthFailureCode.BAD_PASSWORD),
        ("ana", "ben-password-1", AuthFailureCode.BAD_PASSWORD),
        ("nobody", "ana-password-1", AuthFailureCode.UNKNOWN_USER),
        ("", "x", AuthFailureCode.EMPTY),
        ("ana", "", AuthFailureCode.EMPTY),
    ],
)
def test_refusals_are_values_with_codes(users, name: str, password: str, code: AuthFailureCode):
    assert authenticate(users, name, password) == AuthFailure(code, name)


def test_a_plain_password_in_the_configuration_is_refused():
    with pytest.raises(ValidationError, match="Argon2 hash"):
        UserEntry(role=Role.VIEWER, password_hash="hunter2")


def test_proxy_headers_are_ignored_unless_trusted():
    headers = {"X-Forwarded-User": "eve", "X-Forwarded-Role": "operator"}
    assert principal_from_proxy(ProxyTrust(), headers, "127.0.0.1") is None


def test_proxy_headers_from_an_untrusted_peer_are_ignored():
    proxy = ProxyTrust(trusted=True, trusted_peers=("10.0.0.5",))
    assert principal_from_proxy(proxy, {"X-Forwarded-User": "eve"}, "10.0.0.6") is None
    assert principal_from_proxy(proxy, {"X-Forwarded-User": "eve"}, None) is None


def test_trusted_proxy_names_the_user_and_role():
    proxy = ProxyTrust(trusted=True, trusted_peers=("10.0.0.5",), user_header="X-User", role_header="X-Role")
    assert principal_from_proxy(proxy, {"X-User": "ana", "X-Role": "Operator"}, "10.0.0.5") == Principal(
        "ana", Role.OPERATOR, via="proxy"
    )
    # An unknown or absent role is a viewer, never an operator.
    assert principal_from_proxy(proxy, {"X-User": "ana", "X-Role": "admin"}, "10.0.0.5") == Principal(
        "ana", Role.VIEWER, via="proxy"
    )
    assert principal_from_proxy(proxy, {"X-User": "  "}, "10.0.0.5") is None


def test_session_role_comes_from_the_configuration(users):
    settings = DashboardSettings(users=users)
    assert session_principal(settings, {"user": "ben", "role": "operator"}) == Principal("ben", Role.VIEWER)
    assert session_principal(settings, {"user": "removed"}) is None
    assert session_principal(settings, {}) is None
