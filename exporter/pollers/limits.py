"""Cardinality ceilings: a poller exports what fits, and says what it left out."""

from __future__ import annotations

import hashlib
import math
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
        """This run's count; logged when series start or stop being dropped (a crossing)."""
        count = SeriesCount(self.used, self.limit, self.dropped)
        log_crossing(self.poller, previous, count)
        return count


def log_crossing(poller: str, previous: SeriesCount | None, current: SeriesCount) -> None:
    """`series_limit_reached` when a poller starts dropping (or folding) series, and
    `series_limit_cleared` when it stops: once per crossing, not per key or per run (20,000
    PBXes over the ceiling were 19,997 warnings). How many is the `series_dropped` metric."""
    before = previous.dropped if previous else 0
    if current.dropped and not before:
        log.warning(
            "series_limit_reached",
            collector=poller,
            limit=current.limit,
            exported=current.exported,
            dropped=current.dropped,
        )
    elif before and not current.dropped:
        log.info(
            "series_limit_cleared", collector=poller, limit=current.limit, exported=current.exported
        )


class FoldedKeys:
    """How many distinct keys were folded into `_other`, in bounded memory.

    A set of the keys grows with whatever the API sends (a key per PBX, group or queue name).
    Up to EXACT keys, their 64-bit hashes are kept and counted exactly; past that, linear
    counting (Whang, Vander-Zanden and Taylor, 1990): one bit per hash in a bitmap of 2**20
    bits (128 KiB), the count estimated from the share of bits still clear, within a fraction
    of a percent up to millions of keys. blake2b, not `hash()`: every process counts alike.
    """

    EXACT = 4096
    BITS = 1 << 20

    def __init__(self) -> None:
        self._hashes: set[int] | None = set()
        self._bitmap = bytearray()
        self._set = 0

    def add(self, key: tuple[str, ...]) -> None:
        text = "\x1f".join(key).encode("utf-8", "surrogatepass")
        code = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")
        if self._hashes is None:
            self._mark(code)
            return
        self._hashes.add(code)
        if len(self._hashes) > self.EXACT:
            self._bitmap = bytearray(self.BITS // 8)
            for known in self._hashes:
                self._mark(known)
            self._hashes = None

    def _mark(self, code: int) -> None:
        bit = code % self.BITS
        index, mask = bit >> 3, 1 << (bit & 7)
        if not self._bitmap[index] & mask:
            self._bitmap[index] |= mask
            self._set += 1

    def __len__(self) -> int:
        if self._hashes is not None:
            return len(self._hashes)
        clear = max(1, self.BITS - self._set)  # all set (about 14 million keys): its most
        return round(-self.BITS * math.log(clear / self.BITS))

    def __bool__(self) -> bool:
        return bool(self._hashes) or self._set > 0


@dataclass(frozen=True)
class SeriesCount:
    exported: int
    limit: int
    dropped: int
