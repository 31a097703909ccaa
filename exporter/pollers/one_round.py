"""Every collector once, each in its own thread as the schedule runs them (`--once`, and the
benchmark of a cycle's wall time): one round takes as long as its slowest chain of
dependencies, not the sum of every collector's run."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from exporter.pollers.base import PollerRunner


def run_concurrently(runners: Sequence[PollerRunner]) -> bool:
    """Run every runner once, all at once; a runner whose `depends_on` is among them starts
    when that one's run of this round has ended (discovery before the pollers that read its
    directory, the ring group summary before the members), whatever its outcome, as the
    schedule lets a dependant run after a failed first run. True when every run succeeded.

    Each run ends within its HTTP timeouts and retries (a run's own bounds): no wait here is
    longer than the runs it waits for."""
    ended = {id(runner): threading.Event() for runner in runners}
    results: dict[int, bool] = {}

    def run(runner: PollerRunner) -> None:
        try:
            before = runner.depends_on
            if before is not None and id(before) in ended:
                ended[id(before)].wait()
            results[id(runner)] = runner.run_once()
        finally:
            ended[id(runner)].set()

    threads = [
        threading.Thread(target=run, args=(runner,), name=f"once-{runner.name}", daemon=True)
        for runner in runners
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return all(results.get(id(runner), False) for runner in runners)
