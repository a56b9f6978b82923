"""The secondary-movement detector, pure part: subject timelines, rules SM-1..SM-4, alerts and explanations.

``observe`` folds one canonical event into a subject's ``SubjectTimeline`` and returns the alerts it brings new
evidence to; ``explain`` says per rule whether it fires and why. Nothing here does I/O or reads the clock; the
service glue (Kafka, state store) lives beside it. Imports ``gateway.events`` and ``gateway.state`` (codec) only.
"""

from gateway.detect.alerts import Evidence, SecondaryMovementSuspected, alert_codec
from gateway.detect.config import DetectorConfig, load_detector_config
from gateway.detect.explain import RuleExplanation, explain, render_explanation
from gateway.detect.observe import Observation, observe
from gateway.detect.rules import RULES, RuleDef
from gateway.detect.state_codec import timeline_codec
from gateway.detect.timeline import Fact, FactKind, SubjectTimeline

__all__ = [
    "RULES",
    "DetectorConfig",
    "Evidence",
    "Fact",
    "FactKind",
    "Observation",
    "RuleDef",
    "RuleExplanation",
    "SecondaryMovementSuspected",
    "SubjectTimeline",
    "alert_codec",
    "explain",
    "load_detector_config",
    "observe",
    "render_explanation",
    "timeline_codec",
]
