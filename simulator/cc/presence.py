"""Agent presence in a Contact Center tenant: how long an idle agent stays Available, On Break,
Working Offline or Logged Out, and which status comes next; and what the agent's phone line
shows. The draws use the model's random generator, in a fixed order."""

from __future__ import annotations

import random
from typing import NamedTuple

from .facts import AgentStatus
from .tenants import PHONE

BREAK_CODES = ("Lunch", "Coffee Break", "Meeting", "Training")
OFFLINE_CODES = ("Admin Work", "Email Follow-up", "Callback")


# The statuses an agent leaves on its own, after a random time (the others end with their work).
IDLE_STATUSES = frozenset(
    {
        AgentStatus.AVAILABLE,
        AgentStatus.ON_BREAK,
        AgentStatus.WORKING_OFFLINE,
        AgentStatus.LOGGED_OUT,
    }
)


class StatusChange(NamedTuple):
    delay: float  # seconds from now
    target: AgentStatus
    code: str | None  # the break or offline reason code


def draw_status_change(
    rng: random.Random, status: AgentStatus, staffing: float
) -> StatusChange | None:
    """The next status of an idle agent and when; None for a status that ends with its work."""
    # Exit rates per second from each idle status; fewer agents stay logged in off-peak.
    rates: tuple[tuple[AgentStatus, float], ...]
    if status is AgentStatus.AVAILABLE:
        rates = (
            (AgentStatus.ON_BREAK, 1 / 3600),
            (AgentStatus.WORKING_OFFLINE, 1 / 9000),
            (AgentStatus.LOGGED_OUT, 1 / (25_200 * staffing)),
        )
    elif status is AgentStatus.ON_BREAK:
        rates = ((AgentStatus.AVAILABLE, 1 / 600),)
    elif status is AgentStatus.WORKING_OFFLINE:
        rates = ((AgentStatus.AVAILABLE, 1 / 900),)
    elif status is AgentStatus.LOGGED_OUT:
        rates = ((AgentStatus.AVAILABLE, staffing * staffing / 1800),)
    else:
        return None
    total = sum(rate for _, rate in rates)
    delay = rng.expovariate(total)
    draw = rng.random() * total
    target = rates[-1][0]
    for candidate, rate in rates:
        if draw < rate:
            target = candidate
            break
        draw -= rate
    code = None
    if target is AgentStatus.ON_BREAK:
        code = rng.choice(BREAK_CODES)
    elif target is AgentStatus.WORKING_OFFLINE:
        code = rng.choice(OFFLINE_CODES)
    return StatusChange(delay, target, code)


def line_status(status: AgentStatus, media: str | None) -> str:
    """Line 1 of the agent's phone: ringing or busy with a phone interaction, else idle."""
    if media != PHONE:
        return "Idle"
    if status is AgentStatus.OFFERING:
        return "Ringing"
    if status is AgentStatus.BUSY:
        return "Busy"
    return "Idle"
