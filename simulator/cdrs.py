"""Call legs and call records as `/v2/call-legs` and `/v2/call-records` serve them (the spec's
camelCase keys, epoch-ms times with local copies in the request's time zone, ms durations).

Who is who on a leg:

| leg | caller | callee | lra | lraType | calleeSvcName |
|---|---|---|---|---|---|
| queue (top-level) | outside number | "CallQueue" (calleeName: queue name) | queue extension | 4 | ACDOperatorService |
| ring group (top-level) | outside number | group extension (calleeName: group name) | group extension | 2 | HuntGroupService |
| member (child) | outside number | agent extension (calleeName: agent name) | agent extension | 1 | "" |
| outbound (top-level) | agent extension | number dialled | number dialled | 0 | "" |
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from .calls import CallLeg, Disposition, FinishedCall, GroupRef, LegKind

RING_GROUP_LRA_TYPE = 2
RING_GROUP_SERVICE = "HuntGroupService"
QUEUE_LRA_TYPE = 4
QUEUE_SERVICE = "ACDOperatorService"
SIP_HOST = "192.0.2.10"  # TEST-NET-1: a documentation address


class Parties(NamedTuple):
    caller: str
    caller_name: str
    callee: str
    callee_name: str
    lra: str
    lra_type: int
    callee_service: str


class Strings(NamedTuple):
    """The outcome strings of a leg or record, read by the exporter in this order: answered ==
    "Answered", else the last disposition == "Voicemail", else abandoned == "Abandoned", else
    missed == "Missed"."""

    answered: str
    missed: str
    abandoned: str
    disposition: str  # propsLastPartyDisp (legs) / lastLegDisposition (records)
    cause: str


_STRINGS = {
    Disposition.ANSWERED: Strings("Answered", "-", "-", "Answered", "Normal"),
    Disposition.VOICEMAIL: Strings("-", "Missed", "-", "Voicemail", "Ring No Answer"),
    Disposition.ABANDONED: Strings("-", "Missed", "Abandoned", "Abandoned", "Caller Hangup"),
    Disposition.NO_ANSWER: Strings("-", "Missed", "-", "Missed", "Ring No Answer"),
    Disposition.ANSWERED_ELSEWHERE: Strings("-", "Missed", "-", "Missed", "Answered Elsewhere"),
    Disposition.TRANSFERRED: Strings("-", "Missed", "-", "Transferred", "Normal"),
}
# An outbound call nobody picked up: the agent gave up; nobody missed a call.
_OUTBOUND_UNANSWERED = Strings("-", "-", "Abandoned", "Abandoned", "Normal")


def strings(disposition: Disposition, outbound: bool) -> Strings:
    if outbound and disposition is Disposition.ABANDONED:
        return _OUTBOUND_UNANSWERED
    return _STRINGS[disposition]


def digits(number: str) -> str:
    return number.lstrip("+")


def group_dnis(group: GroupRef) -> str:
    """The number callers dialled to reach a group (a made-up DID ending in its extension)."""
    return f"1555{int(group.extension):07d}"


def leg_parties(leg: CallLeg) -> Parties:
    kind, group, agent = leg.kind, leg.group, leg.agent
    if kind is LegKind.OUTBOUND:
        assert agent is not None
        number = digits(leg.external_number)
        return Parties(agent.extension, agent.name, leg.external_number, number, number, 0, "")
    caller, caller_name = leg.external_number, digits(leg.external_number)
    if kind is LegKind.MEMBER:
        assert agent is not None
        return Parties(caller, caller_name, agent.extension, agent.name, agent.extension, 1, "")
    assert group is not None
    if kind is LegKind.QUEUE:
        return Parties(
            caller,
            caller_name,
            "CallQueue",
            group.name,
            group.extension,
            QUEUE_LRA_TYPE,
            QUEUE_SERVICE,
        )
    return Parties(
        caller,
        caller_name,
        group.extension,
        group.name,
        group.extension,
        RING_GROUP_LRA_TYPE,
        RING_GROUP_SERVICE,
    )


def record_parties(call: FinishedCall) -> Parties:
    """A record's caller and callee: the outside number and the first group (its extension),
    or the dialling agent and the number dialled."""
    first = call.top_legs[0]
    parties = leg_parties(first)
    if first.kind is LegKind.QUEUE:
        return parties._replace(callee=parties.lra)
    return parties


def local_time(epoch_ms: int, zone: ZoneInfo) -> str:
    """2022-02-03T09:27:27.499-0500"""
    moment = datetime.fromtimestamp(epoch_ms // 1000, zone)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}{moment:%z}"


def clock_time(duration_ms: int) -> str:
    """00:01:05"""
    seconds = duration_ms // 1000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _people(leg: CallLeg) -> tuple[list[str], list[str]]:
    """(departments, branches) of the agent on the leg; else the group's site as branch."""
    if leg.agent is not None:
        return [leg.agent.department], [leg.agent.branch]
    return [], [leg.group.site] if leg.group is not None else []


def leg_json(leg: CallLeg, zone: ZoneInfo) -> dict[str, Any]:
    parties = leg_parties(leg)
    text = strings(leg.disposition, leg.kind is LegKind.OUTBOUND)
    departments, branches = _people(leg)
    dnis = group_dnis(leg.group) if leg.group is not None else digits(leg.external_number)
    return {
        "callId": leg.call_id,
        "legId": leg.leg_id,
        "startTimeUTC": leg.started_ms,
        "startTime": local_time(leg.started_ms, zone),
        "connectTimeUTC": leg.connected_ms,
        "connectTime": local_time(leg.connected_ms, zone),
        "disconnectedTimeUTC": leg.disconnected_ms,
        "disconnectedTime": local_time(leg.disconnected_ms, zone),
        "talkTimeMS": leg.talk_ms,
        "talkTime": clock_time(leg.talk_ms),
        "caller": parties.caller,
        "callerName": parties.caller_name,
        "callee": parties.callee,
        "calleeName": parties.callee_name,
        "lra": parties.lra,
        "direction": leg.direction,
        "parentCallId": leg.parent_call_id,
        "transferToCallId": None,
        "dnis": dnis,
        "status": "Completed",
        "callerDeviceId": None,
        "calleeDeviceId": None,
        "callerDeviceModel": "",
        "calleeDeviceModel": "",
        "callerId": f"{parties.caller_name},{parties.caller}",
        "missed": text.missed,
        "abandoned": text.abandoned,
        "answered": text.answered,
        "cause": text.cause,
        "callerSvcName": None,
        "callerSvcType": None,
        "calleeSvcName": parties.callee_service,
        "calleeSvcType": "Custom" if parties.callee_service else "",
        "lraType": parties.lra_type,
        "calleeHoldDurationMS": leg.hold_ms,
        "calleeHoldDuration": clock_time(leg.hold_ms),
        "calleeDisconnectOnHold": "",
        "callerDisconnectOnHold": "",
        "pbxId": leg.pbx,
        "sipCallId": f"{leg.call_id}_{leg.leg_id}@{SIP_HOST}",
        "departments": departments,
        "branches": branches,
        "recordServiceOn": "",
        "bargeServiceOn": "",
        "masterSlaveExts": "",
        "propsLastPartyDisp": text.disposition,
        "accountCode": "",
        "aaPath": "",
        "callTime": leg.call_ms,
    }


def record_json(call: FinishedCall, zone: ZoneInfo) -> dict[str, Any]:
    parties = record_parties(call)
    outbound = call.direction == "Outgoing"
    text = strings(call.last_disposition, outbound)
    last = call.top_legs[-1]
    departments, branches = _people(last)
    first_group = call.group
    answered = call.outcome == "answered"
    return {
        "dnis": group_dnis(first_group)
        if first_group is not None
        else digits(call.external_number),
        "aaDestination": "",
        "callId": call.call_id,
        "startTimeUTC": call.started_ms,
        "startTime": local_time(call.started_ms, zone),
        "connectTimeUTC": call.connected_ms,
        "connectTime": local_time(call.connected_ms, zone),
        "disconnectedTimeUTC": call.ended_ms,
        "disconnectedTime": local_time(call.ended_ms, zone),
        "talkTimeMS": call.talk_ms,
        "talkTime": clock_time(call.talk_ms),
        "caller": parties.caller,
        "callerName": parties.caller_name,
        "callee": parties.callee,
        "calleeName": parties.callee_name,
        "direction": call.direction,
        "callerId": f"{parties.caller_name},{parties.caller}",
        "missed": text.missed,
        "abandoned": text.abandoned,
        "answered": text.answered,
        "answeredTime": call.wait_ms if answered else 0,  # ms from the start to the answer
        "calleeDisconnectOnHold": "",
        "callerDisconnectOnHold": "",
        "pbxId": call.pbx,
        "sipCallId": f"{call.call_id}@{SIP_HOST}",
        "lastLegDisposition": text.disposition,
        "callLegCount": len(call.legs),
        "callTime": call.call_ms,
        "ringDuration": call.ring_ms,
        "abandonedTime": call.wait_ms if call.outcome == "abandoned" else 0,
        "calleeHoldDurationMS": call.hold_ms,
        "calleeHoldDuration": clock_time(call.hold_ms),
        "waitTimeMS": call.wait_ms,
        "waitTime": clock_time(call.wait_ms),
        "departments": departments,
        "branches": branches,
    }
