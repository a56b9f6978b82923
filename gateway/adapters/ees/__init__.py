"""EES exit records in: departures of the subjects who left, matched to their return decisions.

Parsed (``exits``), placed with a subject by travel document (``documents``, ``convert``), routed to the inbound,
review and dead-letter topics (``ingest``), and matched to a return decision (``match``).

``schemas/xsd/ees-exit-v1.xsd`` is the gateway's own model of the exit data, not eu-LISA's interface control document.
"""

from gateway.adapters.ees.convert import Inbound, Review, exit_event_id, to_inbound
from gateway.adapters.ees.documents import DOCUMENT_INDEX_TOPIC, DocumentIndex, document_key, index_record
from gateway.adapters.ees.exits import ExitError, ExitRecord, parse_exit_file
from gateway.adapters.ees.match import Duplicate, EesSubjectState, Matched, match_exit, observe

__all__ = [
    "DOCUMENT_INDEX_TOPIC",
    "DocumentIndex",
    "Duplicate",
    "EesSubjectState",
    "ExitError",
    "ExitRecord",
    "Inbound",
    "Matched",
    "Review",
    "document_key",
    "exit_event_id",
    "index_record",
    "match_exit",
    "observe",
    "parse_exit_file",
    "to_inbound",
]
