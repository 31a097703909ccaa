"""Calls per call queue and ring group from `/v2/call-legs`, polled incrementally like the call
records (see call_details): the top-level leg into a group is counted once, by outcome.

    eightbyeight_group_calls_total{extension="110081",group="Test Queue",group_type="queue",outcome="abandoned",pbx="acmecorp"} 3.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from exporter.metrics.spec import MetricSpec
from exporter.pollers.base import label_text
from exporter.pollers.call_counting import (
    OTHER,
    PENDING,
    RecordKey,
    call_detail_specs,
    milliseconds,
)
from exporter.pollers.call_details import CallDetailPoller
from exporter.pollers.discovery import DirectorySource
from exporter.pollers.ring_group_sources import RingGroupSource

LEG_SPECS = call_detail_specs(
    "call_legs",
    "/v2/call-legs",
    ("pbx", "group_type", "group", "extension"),
    "Calls that ended in a call queue or ring group, by outcome (the group's top-level call leg).",
    "How long callers waited in the call queue or ring group before an answer or giving up "
    "(callTime - talkTimeMS - calleeHoldDurationMS of the group's leg).",
    "Talk time of calls answered in the call queue or ring group (talkTimeMS of its leg).",
)


class GroupLookup(Protocol):
    """Where a leg's group is looked up: (PBX name, extension) -> (group type, name)."""

    def __call__(self, pbx: str, extension: str) -> tuple[str, str] | None: ...

    def index(self) -> Mapping[tuple[str, str], tuple[str, str]]: ...

    def known_until(self) -> float | None:
        """The API's time before which every group that took a call is in the index (None:
        not yet): a leg to an unknown extension that ended before then is not a group's."""
        ...


class GroupIndex:
    """(PBX name, extension) -> (group type, name) for call legs: queues from discovery, ring
    groups from the ring group summary. Rebuilt only when either source changes."""

    def __init__(self, directory: DirectorySource, ring_groups: RingGroupSource) -> None:
        self._directory = directory
        self._ring_groups = ring_groups
        self._sources: tuple[object, object] | None = None
        self._index: dict[tuple[str, str], tuple[str, str]] = {}

    def __call__(self, pbx: str, extension: str) -> tuple[str, str] | None:
        return self.index().get((pbx, extension))

    def known_until(self) -> float | None:
        # Queue legs name themselves (callee "CallQueue"); ring group legs look like calls to
        # a user, so only the ring group summary can tell them apart.
        if self._directory.directory is None:
            return None
        return self._ring_groups.listed_until

    def index(self) -> Mapping[tuple[str, str], tuple[str, str]]:
        """(PBX name, extension) -> (group type, name) of every group known now."""
        directory, ring_groups = self._directory.directory, self._ring_groups.listed
        if (
            self._sources is None
            or self._sources[0] is not directory
            or self._sources[1] is not ring_groups
        ):
            index: dict[tuple[str, str], tuple[str, str]] = {}
            for key, group in ring_groups.items():
                index[key] = ("ring_group", group.name)
            if directory is not None:
                names = {p.id: p.name for p in directory.pbxes}
                for queue in directory.queues.values():
                    if queue.extension and queue.pbx_id in names:
                        index[(names[queue.pbx_id], queue.extension)] = ("queue", queue.name)
            self._index, self._sources = index, (directory, ring_groups)
        return self._index


class CallLegPoller(CallDetailPoller):
    """Top-level legs into call queues and ring groups: calls per group and outcome."""

    name = "call_legs"
    endpoint = "/v2/call-legs"
    specs = LEG_SPECS
    disposition_key = "propsLastPartyDisp"
    duration_keys = ("callTime", "talkTimeMS", "calleeHoldDurationMS")

    def __init__(self, *args: Any, groups: GroupLookup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = groups

    def extra_params(self) -> dict[str, str]:
        # Child legs (the rings to each member) are not counted: asking without them is cheaper.
        return {"isSimplified": "true", "isConnectTime": "false"}

    def record_id(self, row: Mapping[str, Any]) -> str | None:
        call_id, leg_id = label_text(row.get("callId")), label_text(row.get("legId"))
        if not (call_id and leg_id):
            return None
        # One string, not a tuple of two: a day's ids are kept (SeenIds), and a tuple and a
        # second string cost about 100 bytes more per leg. The length prefix keeps it
        # unambiguous whatever the ids hold.
        return f"{len(call_id)}:{call_id}{leg_id}"

    def record_key(self, row: Mapping[str, Any]) -> RecordKey:
        if row.get("parentCallId") not in (None, ""):
            return None  # a ring to one member, not the caller's leg in the group
        pbx, lra = label_text(row.get("pbxId")), label_text(row.get("lra"))
        found = self.groups(pbx, lra)
        if found is None and label_text(row.get("callee")) == "CallQueue":
            found = ("queue", label_text(row.get("calleeName")))
        if found is None:
            # A ring group the summary has not listed yet (it failed, or the group is newer
            # than its last answer), or no group at all (a call to a user): the leg alone does
            # not say which. Pending until the summary has listed the groups of its time, it is
            # read again (the poller asks from the oldest pending leg) and counted once.
            known_until = self.groups.known_until()
            ended = milliseconds(row, "disconnectedTimeUTC") or 0.0
            if known_until is None or ended >= known_until * 1000.0:
                return PENDING
            return None
        group_type, name = found
        # The name the leg carries: the group's name when the call ended. A group renamed
        # during the day keeps its earlier calls under the earlier name, so a full read (a
        # restart, a replica) gives the same series as the poller that saw the calls.
        name = label_text(row.get("calleeName")) or name
        if not self.select.keeps(name, lra):
            return None
        return (pbx, group_type, name, lra)

    def wait_ms(self, row: Mapping[str, Any]) -> float | None:
        call_time = milliseconds(row, "callTime")
        if call_time is None:
            return None
        parts = 0.0
        for name in ("talkTimeMS", "calleeHoldDurationMS"):
            if row.get(name) is None:
                continue  # absent or null: no talk or hold time
            part = milliseconds(row, name)
            if part is None:
                # Present but unusable (counted as such): taking it as 0 would record the
                # whole call as waiting, so the wait is not known.
                return None
            parts += part
        return max(0.0, call_time - parts)

    def fold(self, key: tuple[str, ...]) -> tuple[str, ...]:
        # Groups beyond the ceiling, per type: per PBX, thousands of PBXes would make thousands
        # of `_other` keys and the ceiling no ceiling.
        return (OTHER, key[1], OTHER, OTHER)

    def known_keys(self) -> Iterable[tuple[str, ...]]:
        for (pbx, extension), (group_type, name) in sorted(self.groups.index().items()):
            if self.select.keeps(name, extension):
                yield (pbx, group_type, name, extension)


SPECS: tuple[MetricSpec, ...] = tuple(LEG_SPECS)
