"""Rows of the summary endpoints (compsum, rgsum-groups, rgsum-members, extsum), aggregated from
the model's finished calls and legs of one window. Keys and casing are the spec's; durations
are milliseconds; an average is its total divided by its count, rounded to an integer (0 when
the count is 0); a percentage is 100 * part / whole, rounded.

Definitions (the README has the full list):
- compsum counts whole calls (call records). Inbound = calls from outside numbers into queues
  and ring groups (all external); outbound = agents' calls to outside numbers (all external).
  There are no internal (extension to extension) calls, so internal* and totalExtToExt* are 0.
  Missed = not answered (voicemail and abandoned included); an unanswered outbound call is
  abandoned (the agent gave up) and missed. totalCall = inbound + outbound + ext-to-ext,
  totalMissed = inboundMissed + externalOutboundMissed + totalExtToExtMissed (as the spec's
  example adds up).
- rgsum-groups counts a ring group's top-level legs: totalCalls = totalInbound = calls into the
  group, totalMissed = not answered, totalAdvanced = unanswered calls that rang members and went
  on to the no-answer destination (voicemail), totalRgTime = time callers spent in the group
  before the answer, the hang-up or voicemail (the leg's callTime - talk - hold).
- rgsum-members counts the member legs of those same top-level legs, per member.
- extsum counts an extension's own legs: the rings it got from queues and ring groups (inbound)
  and its outbound calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from .calls import OUTGOING, CallLeg, Disposition, FinishedCall, LegKind
from .model import ExtensionInfo, RingGroupInfo

Row = dict[str, int | str]
_Item = TypeVar("_Item", CallLeg, FinishedCall)


def average(total: int, count: int) -> int:
    return round(total / count) if count else 0


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@dataclass(slots=True)
class Tally:
    """Counts by outcome and ms totals over calls or legs."""

    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    voicemail: int = 0
    ring_ms: int = 0
    talk_ms: int = 0
    wait_ms: int = 0
    call_ms: int = 0
    abandoned_ms: int = 0  # the waits of the abandoned ones, until the hang-up

    @classmethod
    def of(cls, items: Iterable[CallLeg | FinishedCall]) -> Tally:
        tally = cls()
        for item in items:
            tally.add(item)
        return tally

    def add(self, item: CallLeg | FinishedCall) -> None:
        outcome = item.outcome
        self.calls += 1
        if outcome == "answered":
            self.answered += 1
        elif outcome == "abandoned":
            self.abandoned += 1
            self.abandoned_ms += item.wait_ms
        elif outcome == "voicemail":
            self.voicemail += 1
        self.ring_ms += item.ring_ms
        self.talk_ms += item.talk_ms
        self.wait_ms += item.wait_ms
        self.call_ms += item.call_ms

    @property
    def missed(self) -> int:
        """Not answered: voicemail and abandoned included."""
        return self.calls - self.answered

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, name) + getattr(other, name) for name in self.__slots__))


def _by_direction(
    items: Iterable[_Item], is_outbound: Callable[[_Item], bool]
) -> tuple[Tally, Tally]:
    inbound, outbound = Tally(), Tally()
    for item in items:
        (outbound if is_outbound(item) else inbound).add(item)
    return inbound, outbound


def company_row(pbx: str, calls: Iterable[FinishedCall]) -> Row:
    """One `/v1/compsum` row: every call of the PBX that ended in the window."""
    inbound, outbound = _by_direction(calls, lambda call: call.direction == OUTGOING)
    both = inbound + outbound
    # An unanswered outbound call is abandoned (the agent gave up), and missed.
    return {
        "pbxId": pbx,
        "inboundTotal": inbound.calls,
        "outboundTotal": outbound.calls,
        "externalInboundTotal": inbound.calls,
        "externalInboundAnswered": inbound.answered,
        "externalInboundAbandoned": inbound.abandoned,
        "percentExternalInboundAnswered": percent(inbound.answered, inbound.calls),
        "externalInboundMissed": inbound.missed,
        "externalOutboundTotal": outbound.calls,
        "externalOutboundAnswered": outbound.answered,
        "percentExternalOutboundAnswered": percent(outbound.answered, outbound.calls),
        "externalOutboundAbandoned": outbound.missed,
        "externalOutboundMissed": outbound.missed,
        "internalInboundTotal": 0,
        "internalInboundAnswered": 0,
        "internalInboundAbandoned": 0,
        "internalInboundMissed": 0,
        "internalOutboundTotal": 0,
        "internalOutboundAnswered": 0,
        "internalOutboundAbandoned": 0,
        "inboundAnswered": inbound.answered,
        "inboundAbandoned": inbound.abandoned,
        "inboundMissed": inbound.missed,
        "outboundAnswered": outbound.answered,
        "outboundAbandoned": outbound.missed,
        "totalAnswered": both.answered,
        "totalAbandoned": both.abandoned,
        "totalMissed": both.missed,
        "totalRingTime": both.ring_ms,
        "totalTalkTime": both.talk_ms,
        "totalCall": both.calls,
        "totalAbandonedTime": both.abandoned_ms,
        "totalCallTime": both.call_ms,
        "avgRingTime": average(both.ring_ms, both.calls),
        "avgTalkTime": average(both.talk_ms, both.answered),
        "avgCallTime": average(both.call_ms, both.calls),
        "avgAbandonedTime": average(both.abandoned_ms, both.abandoned),
        "totalVm": both.voicemail,
        "totalExtToExtAbandoned": 0,
        "totalExtToExtAnswered": 0,
        "totalExtToExt": 0,
        "totalExtToExtMissed": 0,
    }


def _ring_group_totals(tally: Tally, advanced: int, rg_time_ms: int) -> Row:
    return {
        "totalInbound": tally.calls,
        "totalAbandoned": tally.abandoned,
        "totalAnswered": tally.answered,
        "totalMissed": tally.missed,
        "totalCallsToVM": tally.voicemail,
        "totalAdvanced": advanced,
        "totalRgTime": rg_time_ms,
        "totalTalkTime": tally.talk_ms,
        "totalCalls": tally.calls,
        "avgAbandonedTime": average(tally.abandoned_ms, tally.abandoned),
        "avgRgTime": average(rg_time_ms, tally.calls),
        "avgRingTime": average(tally.ring_ms, tally.calls),
        "avgTalkTime": average(tally.talk_ms, tally.answered),
        "totalAbandonedTime": tally.abandoned_ms,
        "totalRingTime": tally.ring_ms,
    }


def ring_group_row(group: RingGroupInfo, legs: list[CallLeg]) -> Row:
    """One `/v2/rgsum-groups` row: the group's top-level legs that ended in the window.
    Advanced: rang members, nobody answered, on to voicemail. RG time: the callers' waits."""
    tally = Tally.of(legs)
    advanced = sum(1 for leg in legs if leg.disposition is Disposition.VOICEMAIL and leg.children)
    return {
        "pbxId": group.pbx,
        "site": group.site,
        "name": group.name,
        "extension": group.extension,
        "totalMembers": len(group.member_extensions),
        **_ring_group_totals(tally, advanced, tally.wait_ms),
    }


def ring_group_member_row(group: RingGroupInfo, member: ExtensionInfo, legs: list[CallLeg]) -> Row:
    """One `/v2/rgsum-members` row: one member's legs of the group's top-level legs that ended in
    the window. Advanced: rang this member, then answered elsewhere or voicemail. RG time: the
    member's time on them, ringing and talking. `name`/`extension` are the member's;
    ringGroupName/ringGroupExtension (not in the spec) say which group the row is about."""
    tally = Tally.of(legs)
    moved_on = (Disposition.ANSWERED_ELSEWHERE, Disposition.VOICEMAIL)
    advanced = sum(1 for leg in legs if leg.disposition in moved_on)
    return {
        "pbxId": group.pbx,
        "site": group.site,
        "name": f"{member.first_name} {member.last_name}",
        "extension": member.extension,
        "totalMembers": len(group.member_extensions),
        **_ring_group_totals(tally, advanced, tally.call_ms),
        "ringGroupName": group.name,
        "ringGroupExtension": group.extension,
    }


def extension_row(extension: ExtensionInfo, legs: Iterable[CallLeg]) -> Row:
    """One `/v2/extsum` row: the extension's member legs (inbound: rung by a queue or a ring
    group) and outbound legs that ended in the window."""
    inbound, outbound = _by_direction(legs, lambda leg: leg.kind is LegKind.OUTBOUND)
    both = inbound + outbound
    return {
        "PbxId": extension.pbx,
        "Extension": extension.extension,
        "ServiceType": extension.service_type,
        "FirstName": extension.first_name,
        "LastName": extension.last_name,
        "Branch": extension.branch,
        "Department": extension.department,
        "External_Inbound_Total": inbound.calls,
        "External_Inbound_Answered": inbound.answered,
        "External_Inbound_Abandoned": inbound.abandoned,
        "Percent_External_Inbound_Answered": percent(inbound.answered, inbound.calls),
        "External_Inbound_Missed": inbound.missed,
        "External_Outbound_Total": outbound.calls,
        "External_Outbound_Answered": outbound.answered,
        "Percent_External_Outbound_Answered": percent(outbound.answered, outbound.calls),
        "External_Outbound_Abandoned": outbound.missed,
        "Internal_Inbound_Total": 0,
        "Internal_Inbound_Answered": 0,
        "Internal_Inbound_Abandoned": 0,
        "Internal_Inbound_Missed": 0,
        "Internal_Outbound_Total": 0,
        "Internal_Outbound_Answered": 0,
        "Internal_Outbound_Abandoned": 0,
        "Inbound_Total": inbound.calls,
        "Inbound_Answered": inbound.answered,
        "Inbound_Abandoned": inbound.abandoned,
        "Inbound_Missed": inbound.missed,
        "Total_Calls_To_VM": inbound.voicemail,
        "Outbound_Total": outbound.calls,
        "Outbound_Answered": outbound.answered,
        "Outbound_Abandoned": outbound.missed,
        "Total_Answered": both.answered,
        "Total_Abandoned": both.abandoned,
        "Total_Missed": inbound.missed,
        "Total_Ring_Time": both.ring_ms,
        "Total_Talk_Time": both.talk_ms,
        "Total_Abandoned_Time": both.abandoned_ms,
        "Total_Call_Time": both.call_ms,
        "Avg_Ring_Time": average(both.ring_ms, both.calls),
        "Avg_Talk_Time": average(both.talk_ms, both.answered),
        "Inbound_Talk_Time": inbound.talk_ms,
        "Outbound_Talk_Time": outbound.talk_ms,
        "Avg_Abandoned_Time": average(both.abandoned_ms, both.abandoned),
        "Email": extension.email,
        "UserName": extension.username,
    }
