"""The dead-letter queue: original bytes plus Kafka Connect-style error headers; inspection and replay.

`DeadLetter` lives here, below the pipeline that makes dead letters, so that the header scheme (``headers``) and
the tools read it without importing the pipeline: dependencies point one way (see ``[tool.importlinter]``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.connectors.base import RawRecord

__all__ = ["DeadLetter"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why one record could not become events.

    Attributes:
        record: The record, with its original bytes.
        stage: Pipeline stage that rejected it (``read``, ``parse``, ``map``, ``validate``, ``encode``).
        error_class: Fully qualified class name of the error.
        message: What is wrong, for an operator.
        stacktrace: Short trace, for a developer.
        rule_ids: Ids of the failed validation rules.
        legal_references: Their legal references.
    """

    record: RawRecord
    stage: str
    error_class: str
    message: str
    stacktrace: str = ""
    rule_ids: tuple[str, ...] = ()
    legal_references: tuple[str, ...] = ()
