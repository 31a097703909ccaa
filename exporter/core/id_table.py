"""A set of string ids, each with a number (a call's latest end), kept in three flat arrays.

A day's counted call ids are most of what the daemon keeps between runs after the page itself
(68k ids at 100k series). In a dict, an id costs its string (50-90 bytes), a float (24) and
the dict's entry (about 40): about 130 bytes, all of them small objects allocated while a run
parses its answers. Those few survivors of each run, scattered among the run's short-lived
objects, also kept pymalloc's arenas from being given back (an arena returns to the system only
when all of it is free). Here an id is its 128-bit BLAKE2b digest in two unsigned 64-bit slots
and its number in a double: 24 bytes a slot, 32 to 64 bytes an id at the table's load of 3/8 to
3/4, in three buffers that grow by doubling and keep no Python object per id.

Two ids are taken for one only if their digests are equal: with a day's ids in the hundreds of
thousands, the chance of that is below 10^-27 a day (the birthday bound, n^2 / 2^129).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from hashlib import blake2b

MIN_SLOTS = 1024  # a power of two: a slot is the digest's low bits
MAX_LOAD = 0.75  # past it the table doubles; linear probing stays short below it


def digest(key: str) -> int:
    """The id's 128-bit digest, never 0 (the empty slot's mark)."""
    value = int.from_bytes(
        blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest(), "little"
    )
    return value or 1


class IdTable:
    """Digest -> number, by open addressing with linear probing and backward-shift deletion."""

    def __init__(self) -> None:
        self._count = 0
        self._allocate(MIN_SLOTS)

    def _allocate(self, slots: int) -> None:
        self._mask = slots - 1
        self._low = array("Q", bytes(8 * slots))
        self._high = array("Q", bytes(8 * slots))
        self._values = array("d", bytes(8 * slots))
        self._limit = int(slots * MAX_LOAD)

    def __len__(self) -> int:
        return self._count

    @property
    def slots(self) -> int:
        return self._mask + 1

    def _find(self, key: int) -> tuple[int, bool]:
        """The slot of `key`, and whether it holds it (else the empty slot it would take)."""
        low, high = key & 0xFFFFFFFFFFFFFFFF, key >> 64
        lows, highs, mask = self._low, self._high, self._mask
        slot = low & mask
        while True:
            found_low = lows[slot]
            if found_low == low and highs[slot] == high:
                return slot, True
            if found_low == 0 and highs[slot] == 0:
                return slot, False
            slot = (slot + 1) & mask

    def get(self, key: int) -> float | None:
        slot, found = self._find(key)
        return self._values[slot] if found else None

    def put(self, key: int, value: float) -> None:
        slot, found = self._find(key)
        if not found:
            if self._count + 1 > self._limit:
                self._grow()
                slot, _ = self._find(key)
            self._low[slot] = key & 0xFFFFFFFFFFFFFFFF
            self._high[slot] = key >> 64
            self._count += 1
        self._values[slot] = value

    def delete(self, key: int) -> bool:
        """Forget `key`; False if it was not there. The entries after it in its run of
        occupied slots move back where a lookup from their home slot still finds them."""
        slot, found = self._find(key)
        if not found:
            return False
        lows, highs, values, mask = self._low, self._high, self._values, self._mask
        hole = slot
        slot = (slot + 1) & mask
        while lows[slot] or highs[slot]:
            home = lows[slot] & mask
            # The entry may fill the hole unless its home lies cyclically in (hole, slot].
            if (slot - home) & mask >= (slot - hole) & mask:
                lows[hole], highs[hole], values[hole] = lows[slot], highs[slot], values[slot]
                hole = slot
            slot = (slot + 1) & mask
        lows[hole] = highs[hole] = 0
        values[hole] = 0.0
        self._count -= 1
        return True

    def items(self) -> Iterator[tuple[int, float]]:
        """(digest, number) of every entry, in slot order."""
        for low, high, value in zip(self._low, self._high, self._values):
            if low or high:
                yield (high << 64) | low, value

    def _grow(self) -> None:
        entries = list(self.items())
        self._allocate(2 * self.slots)
        self._count = 0
        for key, value in entries:
            self.put(key, value)
