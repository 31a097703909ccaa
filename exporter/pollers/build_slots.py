"""How many snapshots the process builds at the same time.

Every collector polls on its own schedule in its own thread. Once a run has its families, it
renders them to bytes (the text and the same deflated), swaps its snapshot in and has the page
assembled again: for that while it holds the families, their rendered copy and the page's
pieces. Runs that do this at the same time add those peaks up: the daemon with default
intervals measured 217-266 bytes per series over 15 minutes against 187-191 with the same runs
back to back (issue #20). So the building step waits for a slot; the API requests and the
waits of a run (a Contact Center report being generated, a retry's backoff) do not, or one
slow run would hold every other collector's data back, and no schedule moves.
"""

from __future__ import annotations

import threading

# One: the step is CPU only (tens of ms per 10k series) and under the GIL two builds at once
# take as long as one after the other, so queueing costs no collector anything but its turn.
DEFAULT_SNAPSHOT_BUILDS = 1


class BuildSlots:
    """A counting semaphore of snapshot builds."""

    def __init__(self, slots: int = DEFAULT_SNAPSHOT_BUILDS) -> None:
        if slots < 1:
            raise ValueError(f"at least one snapshot build at a time, not {slots}")
        self.slots = slots
        self._semaphore = threading.BoundedSemaphore(slots)

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for a slot (never long: builds only compute); False if `timeout` passed."""
        return self._semaphore.acquire(timeout=timeout)

    def release(self) -> None:
        self._semaphore.release()


# The process's one bound: it outlives reloads, so runners a new exporter takes over and the
# ones it makes share it.
SNAPSHOT_BUILDS = BuildSlots()
