"""Embedded simulator of the 8x8 analytics APIs (Work Analytics) with a live queueing model.
Independent of the rest of `exporter`: standard library only."""

from .directory import Account, Agent, CallQueue, Pbx, QueueMember, QueueRole, Site
from .faults import FaultInjector, FaultRule
from .metrics import CALL_QUEUE_METRIC_NAMES, REALTIME_METRIC_NAMES, DurationUnit
from .model import AgentStatus, CallOutcome, CallRecord, LiveCall, QueueingModel
from .requestlog import RecordedRequest, RequestLog
from .simulator import Simulator

__all__ = [
    "Account",
    "Agent",
    "AgentStatus",
    "CALL_QUEUE_METRIC_NAMES",
    "CallOutcome",
    "CallQueue",
    "CallRecord",
    "DurationUnit",
    "FaultInjector",
    "FaultRule",
    "LiveCall",
    "Pbx",
    "QueueMember",
    "QueueRole",
    "QueueingModel",
    "REALTIME_METRIC_NAMES",
    "RecordedRequest",
    "RequestLog",
    "Simulator",
    "Site",
]
