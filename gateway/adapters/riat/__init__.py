"""RIAT (Reintegration Assistance Tool): referrals out, case statuses in.

Out (pure): ``riat_step`` turns one canonical event into the subject's new referral state and the messages owed to
RIAT (case creation, Key Moment 1 and its updates), never without the returnee's consent; ``render`` turns a message
into schema-valid JSON or refuses it; ``index_for`` gives the referral index records a step owes.
In: ``route_status`` turns a partner's status report into a ``ReintegrationStatusChanged`` event, a review or a dead
letter; ``gateway.adapters.riat.pull`` runs the feed into Kafka exactly once per page.

``schemas/json/riat-referral-v1.schema.json`` and ``riat-status-v1.schema.json`` are the gateway's own models, not
the Commission's interface.
"""

from gateway.adapters.riat.config import RiatConfig
from gateway.adapters.riat.lifecycle import RiatStep, RiatSubjectState, SkipReason, riat_step
from gateway.adapters.riat.messages import CaseCreation, Km1, RiatMessage
from gateway.adapters.riat.referrals import ReferralIndex, index_for, index_record
from gateway.adapters.riat.render import CONTENT_TYPE, Refused, Rendered, render
from gateway.adapters.riat.status import Inbound, Review, StatusDeadLetter, route_status

__all__ = [
    "CONTENT_TYPE",
    "CaseCreation",
    "Inbound",
    "Km1",
    "ReferralIndex",
    "Refused",
    "Rendered",
    "Review",
    "RiatConfig",
    "RiatMessage",
    "RiatStep",
    "RiatSubjectState",
    "SkipReason",
    "StatusDeadLetter",
    "index_for",
    "index_record",
    "render",
    "riat_step",
    "route_status",
]
