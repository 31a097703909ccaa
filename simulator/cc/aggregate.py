"""Sums over the model's logs: one accumulator for realtime windows and report cells alike, so the
two APIs compute every metric with the same definitions (see the README's CC definitions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from .facts import AgentStatus, Completion, Entry, Leave, LeaveOutcome, Offer, OfferResult


@dataclass(slots=True)
class Agg:
    """Counts and whole-millisecond sums of one queue, agent, group or report cell."""

    # Queue side: entries and leaves (each counted at its own time).
    entered: int = 0
    accepted: int = 0
    accepted_in_sla: int = 0
    abandoned: int = 0  # after the short-abandon threshold
    short_abandoned: int = 0
    diverted: int = 0
    accepted_wait_ms: int = 0
    abandoned_wait_ms: int = 0
    diverted_wait_ms: int = 0
    longest_wait_ms: int = 0  # of any interaction that left
    # Offers (counted when they end).
    offers: int = 0
    offers_accepted: int = 0
    offers_rejected: int = 0
    offers_timeout: int = 0
    offers_abandoned: int = 0
    offering_ms: int = 0
    accepted_offering_ms: int = 0  # of the accepted offers: the agents' speed to answer
    longest_offering_ms: int = 0
    # Completions (counted at the end of wrap-up).
    completed: int = 0
    completed_offering_ms: int = 0
    handling_ms: int = 0
    hold_ms: int = 0
    holds: int = 0
    longest_hold_ms: int = 0
    wrap_ms: int = 0
    # Agent status time (seconds, summed exactly, rounded to ms when shown).
    status_seconds: dict[AgentStatus, float] | None = None

    # ----------------------------------------------------------------- adding facts
    def add_entry(self, entry: Entry) -> None:
        self.entered += 1

    def add_leave(self, leave: Leave) -> None:
        outcome, wait = leave.outcome, leave.wait_ms
        if outcome is LeaveOutcome.ACCEPTED:
            self.accepted += 1
            self.accepted_wait_ms += wait
            if leave.in_sla:
                self.accepted_in_sla += 1
        elif outcome is LeaveOutcome.ABANDONED:
            self.abandoned += 1
            self.abandoned_wait_ms += wait
        elif outcome is LeaveOutcome.SHORT_ABANDONED:
            self.short_abandoned += 1
            self.abandoned_wait_ms += wait
        else:
            self.diverted += 1
            self.diverted_wait_ms += wait
        if wait > self.longest_wait_ms:
            self.longest_wait_ms = wait

    def add_offer(self, offer: Offer) -> None:
        self.offers += 1
        result = offer.result
        if result is OfferResult.ACCEPTED:
            self.offers_accepted += 1
            self.accepted_offering_ms += offer.offering_ms
        elif result is OfferResult.REJECTED:
            self.offers_rejected += 1
        elif result is OfferResult.TIMEOUT:
            self.offers_timeout += 1
        else:
            self.offers_abandoned += 1
        self.offering_ms += offer.offering_ms
        if offer.offering_ms > self.longest_offering_ms:
            self.longest_offering_ms = offer.offering_ms

    def add_completion(self, completion: Completion) -> None:
        self.completed += 1
        self.completed_offering_ms += completion.offering_ms
        self.handling_ms += completion.handling_ms
        self.wrap_ms += completion.wrap_ms
        if completion.hold_ms > 0:
            self.holds += 1
            self.hold_ms += completion.hold_ms
            if completion.hold_ms > self.longest_hold_ms:
                self.longest_hold_ms = completion.hold_ms

    def add_status_seconds(self, seconds: dict[AgentStatus, float]) -> None:
        if self.status_seconds is None:
            self.status_seconds = {}
        for status, value in seconds.items():
            self.status_seconds[status] = self.status_seconds.get(status, 0.0) + value

    def merge(self, other: Agg) -> None:
        for item in fields(self):
            name = item.name
            if name == "status_seconds":
                if other.status_seconds is not None:
                    self.add_status_seconds(other.status_seconds)
            elif name.startswith("longest_"):
                setattr(self, name, max(getattr(self, name), getattr(other, name)))
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def merged(cls, parts: Iterable[Agg]) -> Agg:
        total = cls()
        for part in parts:
            total.merge(part)
        return total

    # ----------------------------------------------------------------- derived values
    @property
    def total_abandoned(self) -> int:
        return self.abandoned + self.short_abandoned

    @property
    def left(self) -> int:
        """Interactions that left the queue: the denominator of the queue percentages."""
        return self.accepted + self.abandoned + self.short_abandoned + self.diverted

    @property
    def sla_base(self) -> int:
        """Interactions that count for the service level: short abandons do not."""
        return self.accepted + self.abandoned + self.diverted

    def status_ms(self, *statuses: AgentStatus) -> int:
        if not self.status_seconds:
            return 0
        return round(sum(self.status_seconds.get(status, 0.0) for status in statuses) * 1000.0)

    @property
    def logged_in_ms(self) -> int:
        return self.status_ms(*LOGGED_IN)


LOGGED_IN = (
    AgentStatus.AVAILABLE,
    AgentStatus.OFFERING,
    AgentStatus.BUSY,
    AgentStatus.WRAP_UP,
    AgentStatus.ON_BREAK,
    AgentStatus.WORKING_OFFLINE,
)


def percentage(part: int | float, whole: int | float) -> float:
    """0..100 with two decimals; 0 when there is nothing to divide."""
    return round(100.0 * part / whole, 2) if whole else 0.0


def average(total: int, count: int) -> int | None:
    """A whole-millisecond average; None when there is nothing to average."""
    return round(total / count) if count else None
