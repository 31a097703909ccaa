"""The `AggregatedCall`s of `/v2/pbxes/{pbxId}/calls` (aggregated_calls.py serves them), built
from the live model: one per passage of a call through a call queue or a ring group.

Choices where the vendor's documents are silent (the contract of issue #18, points 1 and 5):
- A passage is one item. A call routed from a queue to another queue or to a ring group makes
  two: the first keeps the call's id, the next one is `{callId}-{n}` (n = 2, ...) with
  `rootCallId` = the call's id (ids stay unique, so they can break ties in the paging).
- `status`: COMPLETED once the passage ended (`stopTime` set); in progress WAITING (in the queue,
  not offered), ALERTING (ringing an agent; a ring group rings every member at once), TALKING,
  ON_HOLD, with `stopTime` 0. `outcome` (FINISHED, the example's word) and `resolution` only
  for completed calls: ANSWERED, ABANDONED (hung up while waiting), OFFER_TIMEOUT (hung up
  after an agent let it ring out), ENDED_IN_VOICEMAIL, TRANSFERRED (routed on).
- `labels`: the states gone through, in the spec example's words (WAITING, ALERTING, MISSED,
  TALKING, ONHOLD, TRANSFERRED, IN_VOICEMAIL, DISCONNECTED, FINISHED).
- Times are epoch ms (`connectedTime` 0 until answered); durations are seconds as doubles
  (whole ms / 1000): waiting = entry to answer or leaving, handling = talking + on hold,
  total = waiting + handling = stop (or now) - start. In-progress ones count up to now.
- `caller`: the outside number (`id` and `address`; no name is known for outside callers);
  `latestCallee`: the agent who answered, else the last one rung (absent when none was);
  `did`: the extension of the work group; `direction`: INBOUND (every modelled passage is an
  outside call coming in).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .calls import CallLeg, Disposition, GroupKind, GroupRef, LegKind, ms
from .directory import Account, Agent
from .model import LiveCall, LiveRingGroupCall, QueueingModel

CALL_QUEUE = "CALL_QUEUE"
RING_GROUP = "RING_GROUP"
COMPLETED = "COMPLETED"
IN_PROGRESS_STATUSES = ("WAITING", "ALERTING", "TALKING", "ON_HOLD")
DIRECTION = "INBOUND"

_ENDINGS: dict[Disposition, tuple[str, tuple[str, ...]]] = {
    Disposition.ANSWERED: ("ANSWERED", ("DISCONNECTED", "FINISHED")),
    Disposition.ABANDONED: ("ABANDONED", ("DISCONNECTED", "FINISHED")),
    Disposition.VOICEMAIL: ("ENDED_IN_VOICEMAIL", ("IN_VOICEMAIL", "DISCONNECTED", "FINISHED")),
    Disposition.TRANSFERRED: ("TRANSFERRED", ("TRANSFERRED", "FINISHED")),
}


@dataclass(frozen=True, slots=True)
class CallView:
    """One AggregatedCall (`body`) and where it belongs, for the filters."""

    site_id: str
    queue_id: str | None  # None for ring group passages
    started_ms: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Group:
    """A call queue or ring group as a view names it."""

    kind: str  # CALL_QUEUE or RING_GROUP
    id: str
    extension: str
    pbx_id: str
    site_id: str


def _seconds(milliseconds: int) -> float:
    return max(milliseconds, 0) / 1000.0


def _passage_id(call_id: str, passage: int) -> tuple[str, str | None]:
    """(callId, rootCallId) of the call's n-th passage through a work group."""
    return (call_id, None) if passage <= 1 else (f"{call_id}-{passage}", call_id)


def _callee(agent: Agent | None) -> dict[str, str] | None:
    return None if agent is None else {"address": agent.extension, "name": agent.name}


def _view(
    group: Group,
    call_id: str,
    passage: int,
    caller_number: str,
    *,
    status: str,
    labels: Iterable[str],
    start_ms: int,
    stop_ms: int,
    connected_ms: int,
    waiting_ms: int,
    talking_ms: int,
    on_hold_ms: int,
    callee: dict[str, str] | None,
    completion: tuple[str, str] | None,  # (outcome, resolution) of completed calls
) -> CallView:
    item_id, root_id = _passage_id(call_id, passage)
    body: dict[str, Any] = {
        "callId": item_id,
        "workGroup": {"id": group.id, "extension": group.extension, "groupType": group.kind},
        "caller": {"id": caller_number, "address": caller_number},
    }
    if callee is not None:
        body["latestCallee"] = callee
    body["status"] = status
    if completion is not None:
        body["outcome"] = completion[0]
    body |= {
        "labels": list(labels),
        "startTime": start_ms,
        "stopTime": stop_ms,
        "connectedTime": connected_ms,
        "handlingDuration": handling_seconds(talking_ms, on_hold_ms),
        "waitingDuration": _seconds(waiting_ms),
        "talkingDuration": _seconds(talking_ms),
        "onHoldDuration": _seconds(on_hold_ms),
        "totalDuration": _seconds(waiting_ms + talking_ms + on_hold_ms),
        "did": group.extension,
        "direction": DIRECTION,
    }
    if completion is not None:
        body["resolution"] = completion[1]
    if root_id is not None:
        body["rootCallId"] = root_id
    return CallView(group.site_id, group.id if group.kind == CALL_QUEUE else None, start_ms, body)


def group_of(account: Account, ref: GroupRef) -> Group | None:
    """The queue or ring group a leg names, as the views place it (None: not in the account)."""
    if ref.kind is GroupKind.QUEUE:
        queue = account.queue(ref.id)
        if queue is None:
            return None
        return Group(CALL_QUEUE, queue.id, queue.extension, queue.pbx_id, queue.site_id)
    group = account.ring_group(ref.id)
    if group is None:
        return None
    return Group(RING_GROUP, group.id, group.extension, group.pbx_id, group.site_id)


def passage_call_id(leg: CallLeg) -> str:
    """The callId of a completed top-level leg's view."""
    return _passage_id(leg.call_id, int(leg.leg_id))[0]


def handling_seconds(talking_ms: int, on_hold_ms: int) -> float:
    """handlingDuration of a view."""
    return _seconds(talking_ms + on_hold_ms)


def completed_view(group: Group, leg: CallLeg) -> CallView:
    """The view of a completed top-level leg of `group`: a function of the leg alone (legs
    never change), so it may be built outside the model's lock."""
    labels = ["WAITING"]
    if leg.kind is LegKind.QUEUE:  # one agent rings at a time
        for child in leg.children:
            labels.append("ALERTING")
            if child.disposition is Disposition.NO_ANSWER:
                labels.append("MISSED")
    elif leg.children:  # a ring group rings every member at once
        labels.append("ALERTING")
        if leg.disposition is Disposition.VOICEMAIL:
            labels.append("MISSED")  # rang out
    answered = leg.disposition is Disposition.ANSWERED
    if answered:
        labels.append("TALKING")
        if leg.hold_ms:
            labels.append("ONHOLD")
    resolution, ending = _ENDINGS.get(leg.disposition, ("FINISHED", ("FINISHED",)))
    if leg.disposition is Disposition.ABANDONED and "MISSED" in labels:
        resolution = "OFFER_TIMEOUT"
    labels.extend(ending)
    callee_agent = leg.agent if answered else (leg.children[-1].agent if leg.children else None)

    return _view(
        group,
        leg.call_id,
        int(leg.leg_id),
        leg.external_number,
        status=COMPLETED,
        labels=labels,
        start_ms=leg.started_ms,
        stop_ms=leg.disconnected_ms,
        connected_ms=leg.connected_ms if answered else 0,
        waiting_ms=leg.wait_ms,
        talking_ms=leg.talk_ms,
        on_hold_ms=leg.hold_ms,
        callee=_callee(callee_agent),
        completion=("FINISHED", resolution),
    )


class AggregatedCallBuilder:
    """Builds the views of one PBX's passages whose start is in a window, at the model's now.
    Call with the model's lock held, so completed and in-progress calls are one instant's."""

    def __init__(self, account: Account, model: QueueingModel, pbx_id: str) -> None:
        self.account = account
        self.model = model
        self.pbx_id = pbx_id

    def _queue(self, queue_id: str) -> Group | None:
        queue = self.account.queue(queue_id)
        if queue is None:
            return None
        return Group(CALL_QUEUE, queue.id, queue.extension, queue.pbx_id, queue.site_id)

    def _ring_group(self, group_id: str) -> Group | None:
        group = self.account.ring_group(group_id)
        if group is None:
            return None
        return Group(RING_GROUP, group.id, group.extension, group.pbx_id, group.site_id)

    def views(self, start_ms: int, end_ms: int | None) -> list[CallView]:
        """Passages started in [start_ms, end_ms) (end None: up to now, included): every
        completed one built again (the reference of CompletedPassageIndex), then the live ones."""
        found: list[CallView] = []
        # A passage ends after it starts: the completed ones started in the window ended in it
        # or later, and none ends after now. A leg's PBX is its call's, and so its group's:
        # compared first, so the other PBXes' legs (most of them) cost a comparison, not a
        # view (at 500k series, 71 PBXes, building every PBX's took 165 ms a request).
        pbx = self.account.pbx(self.pbx_id)
        pbx_name = pbx.name if pbx is not None else None
        for leg in self.model.call_legs(*self.completed_span(start_ms)):
            if (
                leg.pbx == pbx_name
                and leg.parent_call_id is None
                and leg.group is not None
                and start_ms <= leg.started_ms
                and (end_ms is None or leg.started_ms < end_ms)
            ):
                view = self._completed(leg)
                if view is not None:
                    found.append(view)
        return found + self.live_views(start_ms, end_ms)

    def completed_span(self, start_ms: int) -> tuple[float, float]:
        """The disconnect times (epoch seconds) of the legs a window starting at start_ms
        looks at."""
        return start_ms / 1000.0, self.model.now + 1.0

    def live_views(self, start_ms: int, end_ms: int | None) -> list[CallView]:
        """The passages in progress started in [start_ms, end_ms) (end None: up to now): queue
        calls, then ring group calls."""
        now_ms = ms(self.model.now)
        found: list[CallView] = []

        def keep(started_ms: int) -> bool:
            return start_ms <= started_ms and (end_ms is None or started_ms < end_ms)

        for queue_id in self.model.queue_ids():
            group = self._queue(queue_id)
            if group is None or group.pbx_id != self.pbx_id:
                continue
            for call in self.model.live_calls(queue_id):
                if keep(ms(call.entered_at)):
                    found.append(self._live_queue_call(group, call, now_ms))
        for ring_call in self.model.live_ring_group_calls():
            group = self._ring_group(ring_call.ring_group_id)
            if group is not None and group.pbx_id == self.pbx_id:
                if keep(ms(ring_call.entered_at)):
                    found.append(self._live_ring_group_call(group, ring_call, now_ms))
        return found

    def _completed(self, leg: CallLeg) -> CallView | None:
        assert leg.group is not None
        group = group_of(self.account, leg.group)
        if group is None or group.pbx_id != self.pbx_id:
            return None
        return completed_view(group, leg)

    def _live_queue_call(self, group: Group, call: LiveCall, now_ms: int) -> CallView:
        labels = ["WAITING"]
        for index in range(len(call.offered_agent_ids)):
            labels.append("ALERTING")
            if index < call.missed_offers:  # one ring at a time: the missed ones come first
                labels.append("MISSED")
        if call.agent_id is not None:
            status = "ON_HOLD" if call.on_hold else "TALKING"
        else:
            status = "ALERTING" if call.ringing_agent_id is not None else "WAITING"
        callee_id = call.agent_id or call.ringing_agent_id
        if callee_id is None and call.offered_agent_ids:
            callee_id = call.offered_agent_ids[-1]
        return self._live(
            group, call, labels, status, callee_id, call.answered_at, call.hold_seconds, now_ms
        )

    def _live_ring_group_call(self, group: Group, call: LiveRingGroupCall, now_ms: int) -> CallView:
        if call.agent_id is not None:
            status = "ON_HOLD" if call.on_hold else "TALKING"
            callee_id: str | None = call.agent_id
        else:
            status = "ALERTING"
            callee_id = call.ringing_agent_ids[-1] if call.ringing_agent_ids else None
        return self._live(
            group,
            call,
            ["WAITING", "ALERTING"],
            status,
            callee_id,
            call.answered_at,
            call.hold_seconds,
            now_ms,
        )

    def _live(
        self,
        group: Group,
        call: LiveCall | LiveRingGroupCall,
        labels: list[str],
        status: str,
        callee_id: str | None,
        answered_at: float | None,
        hold_seconds: float,
        now_ms: int,
    ) -> CallView:
        start_ms = ms(call.entered_at)
        if answered_at is None:
            connected_ms, waiting_ms, talking_ms, on_hold_ms = 0, now_ms - start_ms, 0, 0
        else:
            labels.append("TALKING")
            connected_ms = ms(answered_at)
            on_hold_ms = ms(hold_seconds)
            if on_hold_ms:
                labels.append("ONHOLD")
            waiting_ms = connected_ms - start_ms
            # Rounded separately, hold may pass now - answer by a millisecond: talk never < 0.
            talking_ms = max(now_ms - connected_ms - on_hold_ms, 0)
            on_hold_ms = now_ms - connected_ms - talking_ms
        return _view(
            group,
            call.call_id,
            call.passage,
            call.caller_number,
            status=status,
            labels=labels,
            start_ms=start_ms,
            stop_ms=0,
            connected_ms=connected_ms,
            waiting_ms=waiting_ms,
            talking_ms=talking_ms,
            on_hold_ms=on_hold_ms,
            callee=_callee(self.account.agent(callee_id) if callee_id is not None else None),
            completion=None,
        )
