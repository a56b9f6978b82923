"""Typed settings of the dead-letter dashboard: users and roles, the reverse-proxy trust setting, topics, cookies.

A TOML file of its own (``--dashboard-config``, ``GATEWAY_DASHBOARD_CONFIG``) and ``GATEWAY_DASHBOARD_*`` environment
variables, the environment winning, as for the gateway's own settings. Passwords are never stored: each user has an
Argon2id hash (``gateway dashboard hash-password`` makes one). Example::

    connectors = ["de-csv", "nl-xml"]
    audit_topic = "gateway.audit.dlq-replay.v1"
    # session_secret: set GATEWAY_DASHBOARD_SESSION_SECRET in the environment, not here
    [users.ana]
    role = "operator"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."
    [users.ben]
    role = "viewer"
    password_hash = "$argon2id$v=19$..."
    [proxy]
    trusted = false           # true only behind a reverse proxy that authenticates and strips these headers
    [sign_in]
    max_failures = 5          # failed sign-ins per user name or address within window_s, then locked
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.config import source_order
from gateway.errors import ConfigError

__all__ = ["DashboardSettings", "ProxyTrust", "Role", "SignInLimit", "UserEntry", "load_dashboard_settings"]


class Role(StrEnum):
    """What a signed-in person may do: viewers look, operators also replay."""

    VIEWER = "viewer"
    OPERATOR = "operator"


class UserEntry(BaseModel):
    """One dashboard user.

    Attributes:
        role: Viewer or operator.
        password_hash: Argon2id hash in PHC format (``$argon2id$...``); the password itself is never configured.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    password_hash: SecretStr

    @field_validator("password_hash")
    @classmethod
    def _is_argon2(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("$argon2"):
            raise ValueError("must be an Argon2 hash ($argon2id$...); make one with `gateway dashboard hash-password`")
        return value


class ProxyTrust(BaseModel):
    """Identity from a reverse proxy's headers, off by default.

    Turn it on only when the dashboard is reachable solely through a proxy that authenticates every request and
    overwrites these headers (a client could otherwise send them itself); ``trusted_peers`` names the proxy's
    addresses, so a request from anywhere else never has its headers believed.

    Attributes:
        trusted: Believe the headers at all.
        user_header: Header carrying the authenticated user name.
        role_header: Header carrying the role (``viewer`` or ``operator``); absent or unknown means viewer.
        trusted_peers: Client addresses (the proxy's) whose headers are believed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    trusted: bool = False
    user_header: str = "X-Forwarded-User"
    role_header: str = "X-Forwarded-Role"
    trusted_peers: tuple[str, ...] = ("127.0.0.1", "::1")


class SignInLimit(BaseModel):
    """The sign-in rate limit (`gateway.dashboard.ratelimit`), per user name and per client address.

    Attributes:
        max_failures: Failed attempts within ``window_s`` that lock a user name or an address.
        window_s: How long a failure counts.
        lockout_s: The first lock; each further failure while locked-out doubles it.
        max_lockout_s: The longest lock.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_failures: int = Field(5, ge=1, le=1000)
    window_s: float = Field(15 * 60, gt=0)
    lockout_s: float = Field(30, gt=0)
    max_lockout_s: float = Field(3600, gt=0)


class DashboardSettings(BaseSettings):
    """Everything the dashboard needs besides the gateway's own settings (Kafka, topic names).

    Attributes:
        connectors: Connectors whose dead-letter topics are shown; empty means every installed connector.
        users: User name -> role and password hash.
        proxy: Identity from a reverse proxy's headers (off by default).
        session_secret: Signs the session cookie (and so the CSRF token in it); None makes a random one per
            process, which signs everyone out on restart.
        audit_topic: Kafka topic of the replay audit trail (who, when, which offsets, why).
        audit_partitions: Partitions of the audit topic when the dashboard creates it.
        recent_limit: Most dead letters listed on a page (the newest); a page reads at most this many offsets of
            each partition, and the "older" link pages on by offset. The counts and the chart cover them all.
        bucket_minutes: Width of a time bucket of the chart.
        session_max_age_s: Lifetime of a sign-in.
        cookie_secure: Send the session cookie over HTTPS only; turn off only for a plain-HTTP loopback run.
        read_timeout_s: Longest silence while reading a dead-letter topic.
        sign_in: The sign-in rate limit.
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_DASHBOARD_", env_nested_delimiter="__", frozen=True, extra="forbid", toml_file=None
    )

    connectors: tuple[str, ...] = ()
    users: dict[str, UserEntry] = Field(default_factory=dict)
    proxy: ProxyTrust = Field(default_factory=ProxyTrust)
    session_secret: SecretStr | None = None
    audit_topic: str = "gateway.audit.dlq-replay.v1"
    audit_partitions: int = Field(1, ge=1)
    recent_limit: int = Field(200, ge=1, le=5000)
    bucket_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    session_max_age_s: int = Field(8 * 3600, ge=60)
    cookie_secure: bool = True
    read_timeout_s: float = Field(30.0, gt=0)
    sign_in: SignInLimit = Field(default_factory=SignInLimit)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments > environment > ``.env`` > TOML file > defaults, as for the gateway's settings."""
        return source_order(settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings)


def load_dashboard_settings(path: Path | None = None, **overrides: Any) -> DashboardSettings:
    """Load the dashboard settings: keyword overrides, ``GATEWAY_DASHBOARD_*`` variables, the TOML file, defaults.

    Raises:
        ConfigError: The file cannot be read or a value is invalid (the message names the setting).
    """
    if path is not None and not path.is_file():
        raise ConfigError(f"cannot read dashboard configuration {path}: no such file")

    class _FromFile(DashboardSettings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return _FromFile(**{k: v for k, v in overrides.items() if v is not None})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read dashboard configuration {path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid dashboard configuration: {problems}") from exc
