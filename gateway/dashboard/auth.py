"""Who is asking, and what they may do: password sign-in against Argon2id hashes, or a trusted proxy's headers.

Errors are values (`AuthFailure` with a code), not exceptions: the web layer turns them into a page or a status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.dashboard.settings import DashboardSettings, ProxyTrust, Role, UserEntry

__all__ = [
    "AuthFailure",
    "AuthFailureCode",
    "Principal",
    "authenticate",
    "hash_password",
    "principal_from_proxy",
    "session_principal",
]

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended cost; stateless
# Verified when the user name is unknown, so that a wrong name costs as long as a wrong password and timing does
# not tell which names exist.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in person.

    Attributes:
        name: User name (from the configuration or the proxy).
        role: Viewer or operator.
        via: ``password`` or ``proxy``: how they were identified, for the audit trail.
    """

    name: str
    role: Role
    via: str = "password"

    @property
    def may_replay(self) -> bool:
        """Whether this person may replay dead letters (operators only)."""
        return self.role is Role.OPERATOR


class AuthFailureCode(StrEnum):
    """Why a sign-in failed; one message for all codes is shown, so a page never tells which names exist."""

    UNKNOWN_USER = "unknown-user"
    BAD_PASSWORD = "bad-password"  # noqa: S105 - a code, not a password
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """A refused sign-in.

    Attributes:
        code: Why (for the log; the person sees one message whatever the code).
        user: The name given.
    """

    code: AuthFailureCode
    user: str


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` in PHC format, for a ``[users.NAME]`` table."""
    return _HASHER.hash(password)


def authenticate(users: Mapping[str, UserEntry], name: str, password: str) -> Principal | AuthFailure:
    """Check a user name and password against the configured hashes.

    Args:
        users: The configured users.
        name: User name given.
        password: Password given.

    Returns:
        The principal, or why the sign-in is refused.
    """
    if not name or not password:
        _verify(_DUMMY_HASH, password or "-")
        return AuthFailure(AuthFailureCode.EMPTY, name)
    entry = users.get(name)
    if entry is None:
        _verify(_DUMMY_HASH, password)
        return AuthFailure(AuthFailureCode.UNKNOWN_USER, name)
    if not _verify(entry.password_hash.get_secret_value(), password):
        return AuthFailure(AuthFailureCode.BAD_PASSWORD, name)
    return Principal(name, entry.role)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def principal_from_proxy(proxy: ProxyTrust, headers: Mapping[str, str], peer: str | None) -> Principal | None:
    """The person a trusted reverse proxy names, or None when its headers are not to be believed.

    The headers count only when ``proxy.trusted`` is on and the request comes from one of ``proxy.trusted_peers``;
    a role header that is absent or not a known role gives a viewer, never an operator.

    Args:
        proxy: The trust setting.
        headers: Request headers (case-insensitive mapping, as Starlette's).
        peer: The client address of the connection.
    """
    if not proxy.trusted or peer is None or peer not in proxy.trusted_peers:
        return None
    user = headers.get(proxy.user_header, "").strip()
    if not user:
        return None
    role_text = headers.get(proxy.role_header, "").strip().lower()
    role = Role(role_text) if role_text in {r.value for r in Role} else Role.VIEWER
    return Principal(user, role, via="proxy")


def session_principal(settings: DashboardSettings, session: Mapping[str, object]) -> Principal | None:
    """The person a session names, re-checked against the configuration (a removed user is signed out at once).

    The role is taken from the configuration, not the cookie, so demoting an operator takes effect on their next
    request.
    """
    name = session.get("user")
    if not isinstance(name, str):
        return None
    entry = settings.users.get(name)
    return None if entry is None else Principal(name, entry.role)
