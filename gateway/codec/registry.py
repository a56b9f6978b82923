"""Confluent wire-format framing through a schema registry, and the registry's compatibility API.

Encoding goes through confluent-kafka's ``AvroSerializer`` (``00``, 4-byte big-endian schema id, Avro body), so the
bytes are what every Confluent deserializer reads. Decoding reads the 5-byte frame here: confluent's
``AvroDeserializer`` hands back every record of a union as a ``(name, dict)`` tuple, nested ``["null", Record]``
fields included, while the event models want only the payload union named (fastavro's
``return_record_name_override``). Writer schemas come from the registry by id (the client caches them, parsed
ones are cached here) and always resolve to the current canonical schema.

Written against Confluent Schema Registry's REST API; tested against Apicurio Registry's Confluent-compatible one.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import urllib.error
import urllib.parse
import urllib.request
from functools import cache
from typing import Any, Literal, cast

from confluent_kafka.schema_registry import (
    Schema,
    SchemaRegistryClient,
    prefix_schema_id_serializer,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_reader
from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.codec.schemas import canonical_schema
from gateway.errors import ConfigError, DecodeError, GatewayError, TransientError

# confluent-kafka talks HTTP through httpx2, or httpx where httpx2 is missing; an outage raises their TransportError.
try:
    from httpx2 import TransportError as _TransportError
except ImportError:  # pragma: no cover
    from httpx import TransportError as _TransportError  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]

CompatibilityLevel = Literal[
    "NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"
]
_FRAME = struct.Struct(">bI")
_MAGIC = 0
_RETRIABLE_STATUS = frozenset({408, 429})


class RegistrySettings(BaseSettings):
    """How to reach the schema registry; read from ``GATEWAY_REGISTRY_*`` environment variables.

    Attributes:
        url: Base URL of the Confluent-compatible API (Apicurio: ``.../apis/ccompat/v7``); ``mock://`` gives
            confluent's in-process mock for unit tests.
        basic_auth_user: HTTP basic-auth user, if the registry needs one.
        basic_auth_password: Its password.
        auto_register: Let producers register the schema they write with.
        subject_name_strategy: Always ``topic``: the value schema of topic ``t`` lives under subject ``t-value``.
        compatibility: Level set on subjects the gateway manages.
        request_timeout_s: Timeout of one registry request.
    """

    model_config = SettingsConfigDict(env_prefix="GATEWAY_REGISTRY_", frozen=True, extra="forbid")

    url: str
    basic_auth_user: str | None = None
    basic_auth_password: SecretStr | None = None
    # Off in production: schemas are registered by CI, where the compatibility check gates the release; a producer
    # that registered what it happened to be built with would bypass that gate.
    auto_register: bool = False
    # Fixed: confluent-kafka >= 2.14 defaults to ASSOCIATED, which first calls an endpoint only Confluent's registry
    # serves; and one canonical event type per topic makes the topic the natural subject.
    subject_name_strategy: Literal["topic"] = "topic"
    # Canonical events are replayed from the log and read by many independent consumers.
    compatibility: CompatibilityLevel = "FULL_TRANSITIVE"
    request_timeout_s: float = 10.0

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if not url.startswith(("http://", "https://", "mock://")):
            raise ValueError("the registry URL must start with http://, https:// or mock://")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _auth_pair(self) -> RegistrySettings:
        if (self.basic_auth_user is None) != (self.basic_auth_password is None):
            raise ValueError("set both basic_auth_user and basic_auth_password, or neither")
        return self

    @classmethod
    def load(cls, **values: Any) -> RegistrySettings:
        """Build settings from the environment and ``values``; raise ``ConfigError`` if they are invalid."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(f"invalid schema registry settings: {exc}") from exc

    def to_client_conf(self) -> dict[str, Any]:
        """The configuration dict for confluent's ``SchemaRegistryClient``."""
        conf: dict[str, Any] = {
            "url": self.url,
            "timeout": self.request_timeout_s,
            # Fail fast: retries belong to the pipeline's one tenacity policy for TransientError.
            "max.retries": 0,
        }
        if self.basic_auth_user is not None and self.basic_auth_password is not None:
            conf["basic.auth.user.info"] = f"{self.basic_auth_user}:{self.basic_auth_password.get_secret_value()}"
        return conf


def subject_name(topic: str) -> str:
    """The subject holding the value schemas of ``topic`` (topic name strategy)."""
    return f"{topic}-{MessageField.VALUE}"


@cache
def canonical_schema_str() -> str:
    """The current canonical schema as one self-contained JSON document, as registered in the registry."""
    return json.dumps(_strip_hints(canonical_schema()), separators=(",", ":"))


def _strip_hints(node: Any) -> Any:
    # fastavro marks parsed schemas with "__fastavro_parsed" and "__named_schemas"; they are not Avro.
    if isinstance(node, dict):
        return {k: _strip_hints(v) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, list):
        return [_strip_hints(v) for v in node]
    return node


def make_client(settings: RegistrySettings) -> SchemaRegistryClient:
    """A registry client for ``settings`` (confluent's in-process mock for ``mock://`` URLs)."""
    try:
        return SchemaRegistryClient.new_client(settings.to_client_conf())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid schema registry client configuration: {exc}") from exc


class ConfluentFraming:
    """Confluent wire-format framing (``RegistryFraming`` for ``EventCodec``) backed by a schema registry.

    Args:
        client: The registry client; it caches schemas by id.
        auto_register: Register the writer schema on first use instead of looking up its id.
        writer_schema: Schema JSON to write with; defaults to the current canonical schema.
    """

    def __init__(
        self, client: SchemaRegistryClient, *, auto_register: bool = False, writer_schema: str | None = None
    ) -> None:
        self._client = client
        conf = {
            "auto.register.schemas": auto_register,
            # The registry may hold the schema formatted differently (pretty-printed by CI); normalized lookups match.
            "normalize.schemas": True,
            "use.latest.version": False,
            "subject.name.strategy": topic_subject_name_strategy,
            # The classic 5-byte prefix, not the newer schema GUID in a header: every Confluent reader knows it.
            "schema.id.serializer": prefix_schema_id_serializer,
        }
        # A fresh rule registry: confluent's default is a mutable module-level one.
        self._serializer = AvroSerializer(
            client,
            writer_schema or canonical_schema_str(),
            conf=conf,
            rule_registry=RuleRegistry(),  # type: ignore[no-untyped-call]
        )
        self._reader = canonical_schema()
        self._writers: dict[int, dict[str, Any]] = {}

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> ConfluentFraming:
        """Framing on a new client for ``settings``; ``close()`` it when done."""
        return cls(make_client(settings), auto_register=settings.auto_register)

    def close(self) -> None:
        """Close the registry client's HTTP connections."""
        self._client.close()

    def encode(self, record: dict[str, Any], topic: str) -> bytes:
        """Frame an Avro record for ``topic``: ``00``, the schema id under ``<topic>-value``, the Avro body."""
        if not topic:
            raise ConfigError("Confluent framing needs a topic: the schema id is looked up under <topic>-value")
        try:
            data = self._serializer(record, SerializationContext(topic, MessageField.VALUE))
        except SchemaRegistryError as exc:
            raise _registry_error(exc, f"the schema of subject {subject_name(topic)}", ConfigError) from exc
        except _TransportError as exc:
            raise TransientError(f"schema registry unreachable: {exc}") from exc
        return cast(bytes, data)

    def decode(self, data: bytes, topic: str) -> dict[str, Any]:
        """Read Confluent-framed bytes into a record of the current canonical schema."""
        schema_id, body = split_frame(data)
        writer = self._writer_schema(schema_id)
        stream = io.BytesIO(body)
        try:
            record = schemaless_reader(
                stream, writer, self._reader, return_record_name=True, return_record_name_override=True
            )
        except Exception as exc:  # fastavro raises assorted errors on corrupt bodies and unresolvable schemas
            raise DecodeError(f"cannot read Avro body written with schema id {schema_id}: {exc!r}") from exc
        if stream.tell() != len(body):
            raise DecodeError(f"{len(body) - stream.tell()} bytes left after the record (schema id {schema_id})")
        return cast(dict[str, Any], record)

    def _writer_schema(self, schema_id: int) -> dict[str, Any]:
        parsed = self._writers.get(schema_id)
        if parsed is not None:
            return parsed
        try:
            schema = self._client.get_schema(schema_id)
        except SchemaRegistryError as exc:
            raise _registry_error(exc, f"schema id {schema_id}", DecodeError) from exc
        except _TransportError as exc:
            raise TransientError(f"schema registry unreachable: {exc}") from exc
        if schema.schema_type not in (None, "AVRO") or schema.references or schema.schema_str is None:
            raise DecodeError(f"schema id {schema_id} is not a self-contained Avro schema")
        try:
            parsed = cast(dict[str, Any], parse_schema(json.loads(schema.schema_str)))
        except Exception as exc:  # invalid JSON or Avro in the registry
            raise DecodeError(f"schema id {schema_id} does not parse: {exc}") from exc
        self._writers[schema_id] = parsed
        return parsed


def split_frame(data: bytes) -> tuple[int, memoryview]:
    """Split Confluent-framed bytes into schema id and Avro body; raise ``DecodeError`` if they are not framed so."""
    if len(data) <= _FRAME.size:
        raise DecodeError(f"Confluent frame of {len(data)} bytes: expected 00, a 4-byte schema id and a body")
    magic, schema_id = _FRAME.unpack_from(data)
    if magic != _MAGIC:
        raise DecodeError(f"not Confluent framing (magic byte {magic:#04x})")
    return schema_id, memoryview(data)[_FRAME.size :]


def _registry_error(exc: SchemaRegistryError, what: str, not_found: type[GatewayError]) -> GatewayError:
    """Map a registry answer to what the caller should do: retry, fix configuration, or treat as ``not_found``."""
    status = exc.http_status_code
    if status >= 500 or status in _RETRIABLE_STATUS or status < 0:
        return TransientError(f"schema registry failed on {what}: {exc}")
    if status == 404:
        return not_found(f"{what} is not in the schema registry: {exc}")
    return ConfigError(f"schema registry refused {what}: {exc}")


def register_schema(settings: RegistrySettings, subject: str, schema_str: str) -> int:
    """Register an Avro schema under ``subject`` (the CI step); return its schema id."""
    try:
        with make_client(settings) as client:
            return int(client.register_schema(subject, Schema(schema_str, "AVRO"), normalize_schemas=True))
    except SchemaRegistryError as exc:
        raise _registry_error(exc, f"registering under {subject}", ConfigError) from exc
    except _TransportError as exc:
        raise TransientError(f"schema registry unreachable: {exc}") from exc


def set_compatibility(settings: RegistrySettings, subject: str, level: CompatibilityLevel) -> str:
    """Set a subject's compatibility level; return the level the registry reports."""
    try:
        # Typed as str by confluent, but the registry answers {"compatibilityLevel": ...} (Confluent, Apicurio).
        with make_client(settings) as client:
            answer: Any = client.set_compatibility(subject, level)
    except SchemaRegistryError as exc:
        raise _registry_error(exc, f"compatibility of {subject}", ConfigError) from exc
    except _TransportError as exc:
        raise TransientError(f"schema registry unreachable: {exc}") from exc
    if isinstance(answer, dict):
        return str(answer.get("compatibilityLevel") or answer.get("compatibility") or level)
    return str(answer)


def check_compatibility(settings: RegistrySettings, subject: str, schema_str: str) -> list[str]:
    """Ask the registry whether a schema may be registered under ``subject``; return why not (empty: it may).

    The registry checks against the versions its level for the subject names (all of them for ``*_TRANSITIVE``).
    A subject with no versions yet accepts any valid schema. Registries that give no reasons (Apicurio) get
    one generic message.
    """
    path = f"/compatibility/subjects/{urllib.parse.quote(subject, safe='')}/versions?verbose=true"
    status, answer = _post(settings, path, {"schema": schema_str, "schemaType": "AVRO"})
    if status == 404 and answer.get("error_code") == 40401:
        return []
    if status == 422:
        return [f"the registry rejects the schema: {answer.get('message', answer)}"]
    if status != 200:
        raise _registry_error(
            SchemaRegistryError(status, int(answer.get("error_code", -1)), str(answer.get("message", answer))),
            f"the compatibility check of {subject}",
            ConfigError,
        )
    if answer.get("is_compatible") is True:
        return []
    reasons = [str(m) for m in answer.get("messages") or []]
    return reasons or [f"not compatible with {subject} under its compatibility level (the registry gave no reasons)"]


def _post(settings: RegistrySettings, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST JSON to the registry; return status and JSON answer. confluent's client drops the verbose reasons."""
    if not settings.url.startswith(("http://", "https://")):
        raise ConfigError(f"{settings.url} has no HTTP API to ask")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        settings.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json", **_auth_header(settings)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.request_timeout_s) as resp:  # noqa: S310
            return int(resp.status), _json(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _json(exc.read())
    except (urllib.error.URLError, OSError) as exc:
        raise TransientError(f"schema registry unreachable: {exc}") from exc


def _auth_header(settings: RegistrySettings) -> dict[str, str]:
    if settings.basic_auth_user is None or settings.basic_auth_password is None:
        return {}
    token = f"{settings.basic_auth_user}:{settings.basic_auth_password.get_secret_value()}"
    return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return {"message": raw[:200].decode(errors="replace")}
    return answer if isinstance(answer, dict) else {"message": answer}
