"""Raw per-queue statistics (counts, integer-ms durations); summaries merge these before
rendering, so averages and percentages are recomputed from totals, never averaged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TypeVar

_StatsT = TypeVar("_StatsT", "LiveQueueStats", "CallWindowStats")


def _merge(cls: type[_StatsT], parts: Iterable[_StatsT]) -> _StatsT:
    merged = cls()
    for part in parts:
        for f in fields(cls):
            current = getattr(merged, f.name)
            value = getattr(part, f.name)
            # "longest" is the only non-additive kind of raw value.
            setattr(
                merged,
                f.name,
                max(current, value) if f.name.endswith("_longest_ms") else current + value,
            )
    return merged


@dataclass(slots=True)
class LiveQueueStats:
    """What is going on in one queue right now (the `ongoing*` metrics)."""

    waiting_calls: int = 0
    waiting_total_ms: int = 0
    waiting_longest_ms: int = 0
    talking_calls: int = 0
    talking_total_ms: int = 0
    talking_longest_ms: int = 0
    on_hold_calls: int = 0
    on_hold_total_ms: int = 0
    on_hold_longest_ms: int = 0
    handling_calls: int = 0  # answered and not finished: talking_calls + on_hold_calls
    handling_total_ms: int = 0
    handling_longest_ms: int = 0
    primary_agents: int = 0  # members, whatever their status or enabled flag
    overflow_agents: int = 0
    enabled_primary_agents: int = 0
    enabled_overflow_agents: int = 0
    # The status counts below only cover enabled members, so that for each role
    # eligible + wrapping up + logged out/DND == enabled.
    eligible_primary_agents: int = 0
    eligible_overflow_agents: int = 0
    available_agents: int = 0
    wrapping_up_primary_agents: int = 0
    wrapping_up_overflow_agents: int = 0
    logged_out_dnd_primary_agents: int = 0
    logged_out_dnd_overflow_agents: int = 0

    @classmethod
    def merge(cls, parts: Iterable[LiveQueueStats]) -> LiveQueueStats:
        return _merge(cls, parts)


@dataclass(slots=True)
class CallWindowStats:
    """Aggregates over the calls that entered one queue within a time window.

    entered == completed + active, and
    entered == accepted + abandoned + voicemail + transferred_* + (active and not yet answered).
    """

    entered: int = 0
    accepted: int = 0  # answered by an agent before the window end, finished or not
    abandoned: int = 0
    voicemail: int = 0
    transferred_to_call_queue: int = 0
    transferred_to_ring_group: int = 0
    transferred_to_external_number: int = 0
    diverted: int = 0  # routed away (voicemail or transfer) without ever ringing an agent
    missed: int = 0  # rang an agent who did not answer, and the caller was never answered
    active: int = 0  # still in progress (waiting or being handled) at the window end
    completed: int = 0
    waited_calls: int = 0  # calls whose waiting phase ended before the window end
    waiting_total_ms: int = 0
    waiting_longest_ms: int = 0
    answer_total_ms: int = 0  # queue entry -> answer, over accepted calls
    alerting_total_ms: int = 0  # ringing of the answering agent, over accepted calls
    handled_calls: int = 0  # answered calls that finished before the window end
    talk_total_ms: int = 0
    talk_longest_ms: int = 0
    hold_total_ms: int = 0
    hold_longest_ms: int = 0
    handling_total_ms: int = 0
    handling_longest_ms: int = 0

    @classmethod
    def merge(cls, parts: Iterable[CallWindowStats]) -> CallWindowStats:
        return _merge(cls, parts)
