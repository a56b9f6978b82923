"""The departure-deadline monitor: a timer per open return decision at the end of its voluntary-departure period.

Pure parts only (deadlines, clocks, the per-decision state machine); ``gateway.outbound`` runs them on the state
runtime, where the timers are durable and fire exactly once.
"""

from gateway.monitor.clock import Clock, EventTimeClock, FileClock, ManualClock, WallClock, clock_from_spec
from gateway.monitor.config import DEFAULT_ZONES, MonitorConfig
from gateway.monitor.deadline import deadline_ms
from gateway.monitor.monitor import (
    MonitorDecision,
    MonitorStep,
    MonitorSubjectState,
    TimerChange,
    fire,
    monitor_step,
    timer_name,
)

__all__ = [
    "DEFAULT_ZONES",
    "Clock",
    "EventTimeClock",
    "FileClock",
    "ManualClock",
    "MonitorConfig",
    "MonitorDecision",
    "MonitorStep",
    "MonitorSubjectState",
    "TimerChange",
    "WallClock",
    "clock_from_spec",
    "deadline_ms",
    "fire",
    "monitor_step",
    "timer_name",
]
