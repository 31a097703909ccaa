"""A bounded, thread-safe log of the API requests the simulator received, for tests to inspect."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple, overload

from .routing import Headers


class RecordedRequest(NamedTuple):
    """One received request; unpacks as (method, path, query, headers)."""

    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: Headers  # case-insensitive lookups


class RequestLog:
    """Behaves like a read-only list (len, index, slice, iterate) over a snapshot-safe deque.

    Bounded to `limit` entries (the oldest are dropped) so long benchmarks do not grow memory.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[RecordedRequest] = deque(maxlen=limit)

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...

    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        return self.snapshot()[index]

    def __bool__(self) -> bool:
        return len(self) > 0

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"method": e.method, "path": e.path, "query": e.query, "headers": dict(e.headers)}
            for e in self.snapshot()
        ]

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"
