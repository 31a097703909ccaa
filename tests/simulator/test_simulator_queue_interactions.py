"""Simulator: the agent activity endpoints' one pass over a queue's calls (QueueInteractions)
gives every member exactly what the per-member scan (interaction_stats) gives, as the model
runs, for several windows and an intra-day filter."""

from __future__ import annotations

from dataclasses import astuple

from simulator import QueueingModel
from simulator.agent_activity_state import QueueInteractions, interaction_stats
from simulator.directory_generator import build_account

START = 1_709_650_800.0  # Tuesday 2024-03-05 15:00 UTC
HOUR = 3600.0


def afternoon_only(entered_at: float) -> bool:
    return int(entered_at) % 86_400 >= 15 * 3600


def test_one_pass_per_queue_gives_each_members_scan() -> None:
    model = QueueingModel(build_account(3), seed=11, start_time=START, history_seconds=HOUR * 3)
    compared = offers = ongoing = wrap_ups = 0
    for step in range(24):
        model.advance(START + 150.0 * step)
        now = model.now
        with model.lock:
            for queue_id in model.queue_ids():
                queue = model.runtime_queue(queue_id)
                for start, end, entered_filter in (
                    (now - 24 * HOUR, now, None),
                    (now - HOUR, now - 600.0, None),
                    (now - 2 * HOUR, now + HOUR, afternoon_only),
                ):
                    interactions = QueueInteractions(queue, now, start, end, entered_filter)
                    for member in queue.members:
                        expected = interaction_stats(queue, member, now, start, end, entered_filter)
                        assert astuple(interactions.of(member)) == astuple(expected), (
                            step,
                            queue_id,
                            member.agent.agent.id,
                        )
                        compared += 1
                        offers += expected.entered
                        ongoing += expected.ongoing_handling
                        wrap_ups += expected.ongoing_wrap_up
    # The comparisons must have covered members with offers, calls and wrap-ups under way.
    assert compared > 1000 and offers > 1000, (compared, offers)
    assert ongoing > 20 and wrap_ups > 5, (ongoing, wrap_ups)
