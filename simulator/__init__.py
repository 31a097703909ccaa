"""Embedded simulator of the 8x8 analytics APIs (Work Analytics, and Contact Center realtime and
historical reports) with live models of queues, ring groups and agents. Imports nothing from
`exporter` beyond `exporter.core`."""

from .call_records import CallOutcome, CallRecord
from .calls import CallLeg, Disposition, FinishedCall, GroupKind, GroupRef, LegKind
from .cc import (
    CcAgent,
    CcAgentStatus,
    CcGroup,
    CcQueue,
    CcRef,
    CcTenant,
    ContactCenter,
    TenantModel,
)
from .directory import Account, Agent, CallQueue, Pbx, QueueMember, QueueRole, RingGroup, Site
from .faults import FaultInjector, FaultRule
from .metrics import CALL_QUEUE_METRIC_NAMES, REALTIME_METRIC_NAMES, DurationUnit
from .model import ExtensionInfo, LiveCall, QueueingModel, RingGroupInfo
from .model_state import AgentStatus
from .requestlog import RecordedRequest, RequestLog
from .simulator import Simulator

__all__ = [
    "CALL_QUEUE_METRIC_NAMES",
    "REALTIME_METRIC_NAMES",
    "Account",
    "Agent",
    "AgentStatus",
    "CallLeg",
    "CallOutcome",
    "CallQueue",
    "CallRecord",
    "CcAgent",
    "CcAgentStatus",
    "CcGroup",
    "CcQueue",
    "CcRef",
    "CcTenant",
    "ContactCenter",
    "Disposition",
    "DurationUnit",
    "ExtensionInfo",
    "FaultInjector",
    "FaultRule",
    "FinishedCall",
    "GroupKind",
    "GroupRef",
    "LegKind",
    "LiveCall",
    "Pbx",
    "QueueMember",
    "QueueRole",
    "QueueingModel",
    "RecordedRequest",
    "RequestLog",
    "RingGroup",
    "RingGroupInfo",
    "Simulator",
    "Site",
    "TenantModel",
]
