"""The scrollIds of the call-legs and call-records endpoints: each names a position in one
query's results, fixed at its first page, and lives for a while after it was issued."""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .historical_params import HistoricalSettings, InvalidParameter


@dataclass(frozen=True, slots=True)
class Scroll:
    """One position in one query's results (a snapshot taken at its first page)."""

    endpoint: str
    items: Sequence[Any]
    position: int
    zone: ZoneInfo


@dataclass(slots=True)
class _Issued:
    scroll: Scroll
    expires_at: float
    next_ids: dict[int, str]  # position of the page it led to -> that page's scrollId


class ScrollStore:
    """Issued scrollIds: each names a position. Asking the same scrollId again (a retry) gets the
    same page and the same next scrollId, until it expires."""

    def __init__(self, *, seed: int, settings: HistoricalSettings) -> None:
        self._seed = seed
        self._settings = settings
        self._lock = threading.Lock()
        self._issued: OrderedDict[str, _Issued] = OrderedDict()  # oldest first
        self._serial = 0

    def put(self, scroll: Scroll, now: float, previous: str | None = None) -> str:
        """The scrollId of `scroll` (reached from the scrollId `previous`, if any)."""
        with self._lock:
            before = self._issued.get(previous) if previous is not None else None
            known = before.next_ids.get(scroll.position) if before is not None else None
            if known is not None and known in self._issued:
                return known
            self._serial += 1
            raw = f"simulator{self._seed}_{scroll.endpoint.strip('/')}_{self._serial}_{scroll.position}"
            scroll_id = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            self._issued[scroll_id] = _Issued(
                scroll, now + self._settings.scroll_keep_alive_seconds, {}
            )
            if before is not None:
                before.next_ids[scroll.position] = scroll_id
            while self._issued and (
                len(self._issued) > self._settings.max_scrolls
                or next(iter(self._issued.values())).expires_at < now
            ):
                self._issued.popitem(last=False)
            return scroll_id

    def get(self, scroll_id: str, endpoint: str, now: float) -> Scroll:
        with self._lock:
            found = self._issued.get(scroll_id)
        if found is None or found.expires_at < now or found.scroll.endpoint != endpoint:
            raise InvalidParameter(
                "scrollId",
                f"Invalid or expired scrollId [{scroll_id}].",
                "Start again without scrollId.",
            )
        return found.scroll
