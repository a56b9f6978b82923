"""Building a record processor from settings: codec, pseudonymiser, validation stage, envelope context."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.codec.codec import EventCodec, event_codec
from gateway.config import GatewaySettings
from gateway.connectors.base import Connector, MappingContext
from gateway.pipeline.processor import RecordProcessor, ValidationStage
from gateway.pipeline.pseudonym import pseudonymiser
from gateway.validation.stage import RuleStage
from gateway.validation.state import CaseStates


def build_codec(settings: GatewaySettings) -> EventCodec:
    """The event codec: single-object encoding, or Confluent framing when a registry URL is configured."""
    return event_codec(settings.registry_url)


def build_validation(settings: GatewaySettings, now: dt.datetime | None = None) -> ValidationStage | None:
    """The validation stage from the rule configuration; None means Avro schema validity only.

    Args:
        settings: Gateway settings (``rules_enabled``, ``rules_config``).
        now: Validate as of this instant instead of the clock (re-validating an old export).
    """
    if not settings.rules_enabled:
        return None
    if now is None:
        return RuleStage.from_config_file(settings.rules_config)
    return RuleStage.from_config_file(settings.rules_config, clock=lambda: now)


def build_processor(
    connector: Connector[Any],
    settings: GatewaySettings,
    *,
    correlation_id: str,
    codec: EventCodec | None = None,
    recorded_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    states: CaseStates | None = None,
) -> RecordProcessor:
    """A record processor for one connector and one run (one correlation id).

    Args:
        connector: The connector whose records it processes.
        settings: Gateway settings (codec, pseudonym secret, rules, canonical topic).
        correlation_id: The run's correlation id.
        codec: The event codec; None builds one from the settings.
        recorded_at: The events' ``recorded_at``; None for now, to the second.
        now: Validate as of this instant instead of the clock.
        states: The case states used when a call names none; None for the processor's own, in memory.
    """
    member_state = connector.config.member_state
    context = MappingContext(
        connector=connector.name,
        version=connector.version,
        member_state=member_state,
        correlation_id=correlation_id,
        recorded_at=recorded_at or dt.datetime.now(dt.UTC).replace(microsecond=0),
        pseudonymise=pseudonymiser(settings.subject_key_secret.get_secret_value().encode(), str(member_state)),
    )
    return RecordProcessor(
        connector,
        context,
        codec or build_codec(settings),
        build_validation(settings, now),
        topic=settings.topics.canonical,
        states=states,
    )
