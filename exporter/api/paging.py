"""The loop guard every paged read shares: a page, scrollId or link seen twice stops the read,
counted, instead of asking the same pages until the request budget is gone."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any, NoReturn

from exporter.api.http import HttpClient
from exporter.core.errors import PagingLoopError


class PageLoopGuard:
    """What identifies each page of one paged read (an id, a link, a fingerprint of its rows),
    with a label for the message; one read, one guard."""

    def __init__(self, http: HttpClient, endpoint: str) -> None:
        self._http = http
        self._endpoint = endpoint
        self._seen: dict[Hashable, str] = {}
        self._times: dict[Hashable, int] = {}

    def first_seen(self, key: Hashable, label: str) -> str | None:
        """The label `key` was first seen under, or None (and it is remembered under `label`)."""
        self._times[key] = self._times.get(key, 0) + 1
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = label
        return first

    def times_seen(self, key: Hashable) -> int:
        """How often `first_seen` was asked about `key` in this read."""
        return self._times.get(key, 0)

    def stop(self, why: str) -> NoReturn:
        self._http.stats.paging_loop(self._http.api, self._endpoint)
        raise PagingLoopError(self._endpoint, f"paging loops: {why}")


def page_identity(rows: list[Mapping[str, Any]]) -> Hashable:
    """What a page of live items is, to tell a repeat: its items' ids in order (their metrics
    change from one request to the next, so the same page asked twice differs in its values),
    or its whole text when an item has no id."""
    ids = [row.get("id") for row in rows]
    if all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
        return ("ids", *map(str, ids))
    return ("text", json.dumps(rows, sort_keys=True, default=str))
