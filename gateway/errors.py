"""The gateway's error tree, named by what the caller should do.

``RecordError`` and its subclasses belong to one record: it goes to the dead-letter queue and is never retried.
``TransientError`` is an outage that may pass (broker, registry): retry it. ``FatalError`` stops the pipeline.
``ConfigError`` is raised at start-up. Errors carry structured fields, not only a message.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is invalid; raised at start-up."""


class RecordError(GatewayError):
    """One record cannot become an event; it goes to the dead-letter queue.

    Attributes:
        stage: Pipeline stage that rejected the record (``read``, ``parse``, ``map``, ``validate``, ``encode``).
        rule_ids: Ids of the validation rules that failed, if any.
        legal_references: Legal references of those rules.
        position: Where the record sits in its source (line, element index), if known.
    """

    stage = "parse"

    def __init__(
        self,
        message: str,
        *,
        rule_ids: tuple[str, ...] = (),
        legal_references: tuple[str, ...] = (),
        position: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.rule_ids = rule_ids
        self.legal_references = legal_references
        self.position = position


class ParseError(RecordError):
    """The raw record is not well-formed in its format (XML, CSV, JSON)."""

    stage = "parse"


class XsdValidationError(RecordError):
    """An XML record does not conform to its XSD."""

    stage = "parse"


class MappingError(RecordError):
    """A well-formed record cannot be mapped to canonical events (unknown code, missing field)."""

    stage = "map"


class SchemaValidationError(RecordError):
    """A mapped event does not conform to the canonical Avro schema."""

    stage = "encode"


class RuleViolationError(RecordError):
    """A mapped event breaks validation rules of severity ERROR."""

    stage = "validate"


class DecodeError(GatewayError):
    """Bytes on a topic are not a canonical event this gateway can read."""


class TransientError(GatewayError):
    """An outage that may pass (broker or registry unreachable); retried with back-off."""


class FatalError(GatewayError):
    """The pipeline cannot go on (fenced producer, broken configuration found at run time)."""
