"""The completed passages of `/v2/pbxes/{pbxId}/calls`, kept by PBX from one request to the
next, and the page chosen from them without building every view.

At 500k series a page built every view of the PBX's last 24 hours again (the legs of every
PBX scanned, the PBX's thousands of views built and sorted) to return 200 of them: ~450 ms of
the simulator's CPU a page, under the model's lock, ~90 pages a round. A completed leg never
changes and neither does the directory, so its place (PBX, group) and its sort keys are found
once; a request takes the PBX's legs in the window, adds the few live passages, and builds
views only for the page it returns.

Exactness: the legs looked at are the book's positions `leg_span` gives for the window, the
same positions `call_legs` reads for the reference (AggregatedCallBuilder.views), so whatever
the book holds (appends, pruning, a compaction) the same legs are taken; the sort keys are the
views' own values, and every key is unique (callIds are), so the smallest `limit` keys after
the cursor are the first `limit` of the sorted list.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from .aggregated_call_views import (
    CALL_QUEUE,
    CallView,
    Group,
    completed_view,
    group_of,
    handling_seconds,
    passage_call_id,
)
from .call_book import CallBook
from .calls import CallLeg, GroupRef
from .directory import Account

SortValue = str | int | float
SortKey = tuple[SortValue, str]


@dataclass(frozen=True, slots=True)
class CompletedPassage:
    """A completed passage whose view is built only if a page returns it; what every request
    reads of it (its start, its callId) found once."""

    group: Group
    leg: CallLeg
    call_id: str
    started_ms: int

    @classmethod
    def of(cls, group: Group, leg: CallLeg) -> CompletedPassage:
        return cls(group, leg, passage_call_id(leg), leg.started_ms)

    @property
    def site_id(self) -> str:
        return self.group.site_id

    @property
    def queue_id(self) -> str | None:
        return self.group.id if self.group.kind == CALL_QUEUE else None

    def body(self) -> dict[str, Any]:
        return completed_view(self.group, self.leg).body


Passage = CompletedPassage | CallView


def _keyed(passages: Sequence[Passage], sorting_field: str) -> list[tuple[SortKey, Passage]]:
    """Each passage with its (sorting value, callId): the values its view's body holds."""
    completed = [item for item in passages if isinstance(item, CompletedPassage)]
    keyed: list[tuple[SortKey, Passage]]
    if sorting_field == "startTime":
        keyed = [((item.started_ms, item.call_id), item) for item in completed]
    elif sorting_field == "stopTime":
        keyed = [((item.leg.disconnected_ms, item.call_id), item) for item in completed]
    elif sorting_field == "handlingDuration":
        keyed = [
            ((handling_seconds(item.leg.talk_ms, item.leg.hold_ms), item.call_id), item)
            for item in completed
        ]
    else:
        keyed = [((item.call_id, item.call_id), item) for item in completed]
    for item in passages:
        if isinstance(item, CallView):
            value: SortValue = item.body[sorting_field]
            keyed.append(((value, item.body["callId"]), item))
    return keyed


def choose_page(
    passages: Sequence[Passage],
    sorting_field: str,
    descending: bool,
    cursor: SortKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The bodies of the first `limit` passages after the cursor in the order asked: what
    sorting all the views, dropping those up to the cursor and cutting gives (every key is
    unique, so the order of the input does not matter)."""
    keyed = _keyed(passages, sorting_field)
    if cursor is not None:
        if descending:
            keyed = [pair for pair in keyed if pair[0] < cursor]
        else:
            keyed = [pair for pair in keyed if pair[0] > cursor]
    # The index's passages come in disconnect order, nearly their start order: timsort runs
    # through them in about linear time, where a heap of the best `limit` replaced its top at
    # nearly every item.
    keyed.sort(key=itemgetter(0), reverse=descending)
    return [
        item.body() if isinstance(item, CompletedPassage) else item.body
        for _, item in keyed[:limit]
    ]


@dataclass(slots=True)
class _PbxPassages:
    positions: list[int] = field(default_factory=list)  # in the book's legs, ascending
    passages: list[CompletedPassage] = field(default_factory=list)


class CompletedPassageIndex:
    """The completed passages (top-level queue and ring group legs) of the book's positions
    [first, last) for one PBX. It covers a span of positions, extended by the legs the book
    gained since, and is built again when a window starts before it or the book's positions
    moved (`legs_generation`: a compaction). Use it, and the lists it returns, only under the
    lock the book is kept under."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self._generation = -1
        self._from = 0  # the span of positions covered: [_from, _to)
        self._to = 0
        self._by_pbx: dict[str, _PbxPassages] = {}
        self._groups: dict[GroupRef, Group | None] = {}
        # Passages before a window's start are dropped once this many positions (and half of
        # the span) lie before it; a later window starting earlier builds them again.
        self.forget_after = 4096

    def passages(
        self, book: CallBook, pbx_id: str, start_ms: int, end_ms: int
    ) -> list[CompletedPassage]:
        """The PBX's completed passages that disconnected in [start_ms, end_ms), in book order
        (the reference's legs, before its filter on the start)."""
        first, last = book.leg_span(start_ms, end_ms)
        if book.legs_generation != self._generation or first < self._from:
            self._generation = book.legs_generation
            self._from = self._to = first
            self._by_pbx.clear()
        elif first - self._from > max(self.forget_after, (self._to - self._from) // 2):
            self._forget_before(first)  # the window moved on: amortised, like the book's
        if last > self._to:
            self._add(book.legs, self._to, last)
            self._to = last
        kept = self._by_pbx.get(pbx_id)
        if kept is None:
            return []
        low = bisect_left(kept.positions, first)
        return kept.passages[low : bisect_left(kept.positions, last, lo=low)]

    def _add(self, legs: list[CallLeg], start: int, stop: int) -> None:
        for position in range(start, stop):
            leg = legs[position]
            ref = leg.group
            if leg.parent_call_id is not None or ref is None:
                continue
            if ref in self._groups:
                group = self._groups[ref]
            else:
                group = self._groups[ref] = group_of(self.account, ref)
            if group is None:
                continue
            pbx = self.account.pbx(group.pbx_id)
            # The reference asks both the leg's PBX name and its group's PBX id.
            if pbx is None or pbx.name != leg.pbx:
                continue
            kept = self._by_pbx.get(group.pbx_id)
            if kept is None:
                kept = self._by_pbx[group.pbx_id] = _PbxPassages()
            kept.positions.append(position)
            kept.passages.append(CompletedPassage.of(group, leg))

    def _forget_before(self, first: int) -> None:
        for kept in self._by_pbx.values():
            cut = bisect_left(kept.positions, first)
            del kept.positions[:cut]
            del kept.passages[:cut]
        self._from = first
        self._to = max(self._to, first)
