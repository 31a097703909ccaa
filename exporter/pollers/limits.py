"""Cardinality ceilings: a poller exports what fits, and says what it left out."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.core.logs import get_logger

log = get_logger(__name__)


class SeriesBudget:
    """Counts series against `limit` during one run; `take(n)` says whether n more fit."""

    def __init__(self, poller: str, limit: int) -> None:
        self.poller = poller
        self.limit = limit
        self.used = 0
        self.dropped = 0

    def take(self, count: int) -> bool:
        if self.used + count > self.limit:
            self.dropped += count
            return False
        self.used += count
        return True

    def finish(self, previous: SeriesCount | None) -> SeriesCount:
        """This run's count; logs when series start or stop being dropped, or their number changes."""
        before = previous.dropped if previous else 0
        if self.dropped != before:
            if self.dropped:
                log.warning(
                    "series_limit_reached",
                    collector=self.poller,
                    limit=self.limit,
                    exported=self.used,
                    dropped=self.dropped,
                )
            else:
                log.info(
                    "series_limit_cleared",
                    collector=self.poller,
                    limit=self.limit,
                    exported=self.used,
                )
        return SeriesCount(self.used, self.limit, self.dropped)


@dataclass(frozen=True)
class SeriesCount:
    exported: int
    limit: int
    dropped: int
