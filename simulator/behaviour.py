"""How callers and agents behave: the daily rhythm and the random draws that the event model and
the history synthesizer share, so both produce the same kind of calls."""

from __future__ import annotations

import math
import random
from typing import NamedTuple

from .calls import Disposition
from .directory import RingGroupTraffic

DAY_SECONDS = 86_400.0

# Relative call demand by local hour of day (1.0 = the queue's peak rate); weekends are quieter.
# Nights keep some traffic on purpose: a demo or a test started at any hour still sees callers
# (fewer agents are logged in then, so queues still form).
HOURLY_DEMAND: tuple[float, ...] = (
    0.15,
    0.15,
    0.15,
    0.15,
    0.15,
    0.18,
    0.25,
    0.45,
    0.75,
    0.95,
    1.00,
    0.95,
    0.70,
    0.80,
    0.95,
    1.00,
    0.85,
    0.60,
    0.40,
    0.28,
    0.22,
    0.18,
    0.16,
    0.15,
)
WEEKEND_DEMAND_FACTOR = 0.5

# Ring group members are at their desks, not waiting for calls: they pick up less often.
RING_GROUP_ANSWER_FACTOR = 0.55

# Outbound calls: per agent at the peak hour; the far end answers, or the agent gives up.
OUTBOUND_PEAK_PER_AGENT_PER_HOUR = 0.8
OUTBOUND_ANSWER_PROBABILITY = 0.7
OUTBOUND_MEAN_TALK_SECONDS = 150.0
OUTBOUND_HOLD_PROBABILITY = 0.08
OUTBOUND_MEAN_HOLD_SECONDS = 30.0
OUTBOUND_MEAN_WRAP_UP_SECONDS = 8.0


def demand_factor(epoch_seconds: float, utc_offset_hours: int) -> float:
    """Share of the peak call rate at this moment for a site at this UTC offset."""
    local = epoch_seconds + utc_offset_hours * 3600
    hour = int(local // 3600) % 24
    weekday = (int(local // DAY_SECONDS) + 3) % 7  # 1970-01-01 was a Thursday; Monday == 0
    factor = HOURLY_DEMAND[hour]
    return factor * WEEKEND_DEMAND_FACTOR if weekday >= 5 else factor


def staffing_level(epoch_seconds: float, utc_offset_hours: int) -> float:
    """How many agents want to be logged in, 0.25 (night) .. 1.0 (peak)."""
    return 0.25 + 0.75 * demand_factor(epoch_seconds, utc_offset_hours)


def next_arrival(
    rng: random.Random, now: float, peak_per_hour: float, utc_offset_hours: int
) -> tuple[float, bool]:
    """(when, is_arrival) of a Poisson process with the daily rhythm. The rate is constant
    within a clock hour, so an exponential gap is exact up to the next hour boundary; past it
    the answer is (boundary, False): draw again from there (memorylessness)."""
    boundary = (math.floor(now / 3600.0) + 1.0) * 3600.0
    rate = peak_per_hour / 3600.0 * demand_factor(now, utc_offset_hours)
    gap = rng.expovariate(rate) if rate > 0 else math.inf
    return (now + gap, True) if now + gap < boundary else (boundary, False)


class Talk(NamedTuple):
    talk_seconds: float
    hold_seconds: float  # 0 without a hold
    hold_after: float  # seconds of talk before the hold starts


def draw_talk(
    rng: random.Random, mean_talk_seconds: float, hold_probability: float, mean_hold_seconds: float
) -> Talk:
    """A conversation: lognormal talk with that mean (8 s .. 90 min), sometimes one hold."""
    sigma = 0.7
    mu = math.log(mean_talk_seconds) - sigma * sigma / 2
    talk = min(max(rng.lognormvariate(mu, sigma), 8.0), 5400.0)
    if rng.random() >= hold_probability:
        return Talk(talk, 0.0, 0.0)
    hold = min(5.0 + rng.expovariate(1.0 / mean_hold_seconds), 900.0)
    return Talk(talk, hold, talk * rng.uniform(0.2, 0.7))


def draw_wrap_up(rng: random.Random, mean_wrap_up_seconds: float) -> float:
    return 3.0 + rng.expovariate(1.0 / mean_wrap_up_seconds)


def draw_ring(rng: random.Random, answer_probability: float, timeout: float) -> tuple[bool, float]:
    """(answers, ring seconds) of one agent's phone: picked up after a few seconds, or rings out."""
    if rng.random() < answer_probability:
        return True, min(timeout - 0.5, 1.5 + rng.expovariate(1.0 / 4.0))
    return False, timeout


class RingGroupDecision(NamedTuple):
    after: float  # seconds after the caller entered
    disposition: Disposition  # ANSWERED, ABANDONED or VOICEMAIL
    answerer: int | None  # index of the member who answered


def decide_ring_group(
    rng: random.Random, answer_probabilities: list[float], traffic: RingGroupTraffic
) -> RingGroupDecision:
    """Every ringing member may pick up; the first one wins, unless the caller hung up first or
    nobody answered within the ring timeout (then: voicemail)."""
    timeout = traffic.ring_timeout_seconds
    first: tuple[float, int] | None = None
    for index, probability in enumerate(answer_probabilities):
        answers, ring = draw_ring(rng, probability * RING_GROUP_ANSWER_FACTOR, timeout)
        if answers and (first is None or ring < first[0]):
            first = (ring, index)
    patience = 3.0 + rng.expovariate(1.0 / traffic.mean_patience_seconds)
    if first is not None and first[0] <= patience:
        return RingGroupDecision(first[0], Disposition.ANSWERED, first[1])
    if patience < timeout:
        return RingGroupDecision(patience, Disposition.ABANDONED, None)
    return RingGroupDecision(timeout, Disposition.VOICEMAIL, None)


class OutboundPlan(NamedTuple):
    ring_seconds: float  # until the far end answered, or until the agent gave up
    answered: bool
    talk: Talk


def draw_outbound(rng: random.Random) -> OutboundPlan:
    if rng.random() < OUTBOUND_ANSWER_PROBABILITY:
        ring = min(3.0 + rng.expovariate(1.0 / 7.0), 40.0)
        talk = draw_talk(
            rng, OUTBOUND_MEAN_TALK_SECONDS, OUTBOUND_HOLD_PROBABILITY, OUTBOUND_MEAN_HOLD_SECONDS
        )
        return OutboundPlan(ring, True, talk)
    return OutboundPlan(rng.uniform(12.0, 40.0), False, Talk(0.0, 0.0, 0.0))


def external_number(rng: random.Random) -> str:
    """A North American number, +1 and ten digits."""
    return f"+1{2_002_000_000 + int(rng.random() * 7_898_000_000)}"
