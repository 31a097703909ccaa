"""One build of the exporter under way: the scheduler it fills and the parts it may take over
from the running exporter on a reload (see `exporter.core.parts`)."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.api.budget import RequestBudget
from exporter.core.parts import Parts
from exporter.pollers.base import Poller, PollerRunner, Scheduler


@dataclass
class Assembly:
    """One build under way: the scheduler it fills, and the parts it may take over from the
    running exporter (every client, poller and runner is made through `parts`)."""

    scheduler: Scheduler
    parts: Parts

    def add(self, poller: Poller, depends_on: PollerRunner | None = None) -> PollerRunner:
        """The poller's runner: the running one, with its state and thread, when the poller
        and what it waits for were taken over; else a new one."""
        runner = self.parts.make(
            PollerRunner, poller, wall_clock=self.scheduler.wall_clock, depends_on=depends_on
        )
        self.scheduler.add_runner(runner)
        return runner


def api_budget(build: Assembly, api: str, per_minute: float) -> RequestBudget:
    """The API's budget, taken over whatever its rate (`Exporter.take_over` retunes it): a
    new budget would make the API's clients, and so all its pollers, new."""
    return build.parts.keyed(("budget", api), lambda: RequestBudget(api, per_minute))
