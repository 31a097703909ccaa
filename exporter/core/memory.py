"""Gives freed heap memory back to the operating system after a large snapshot, and keeps
glibc from growing an arena per thread.

A collection cycle parses megabytes of JSON and builds the next snapshot while the last one
is still served; once the old one is dropped, glibc keeps the freed pages in its heap, so the
resident size stays at the cycle's peak (about 60% above what the snapshots hold, measured at
100k series). `malloc_trim` returns them. Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import cast

# Below this many bytes of rendered text a run leaves too little behind to be worth a trim
# (which takes a few ms with a 100 MB heap, microseconds when there is nothing to give back).
TRIM_AFTER_BYTES = 64 * 1024


# glibc's mallopt parameter: how many malloc arenas threads may use.
M_ARENA_MAX = -8
# Every HTTP request and every poller runs in a thread of its own, and glibc gives threads
# arenas of their own (up to 8 per core), each keeping what it freed: measured at 100k series,
# 50 scrapes left 9 MB more resident. The GIL serialises allocation anyway, so two are enough.
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    # A ctypes function is typed Any; with these argtypes and restype it is this callable.
    return cast(Callable[[int], int], trim)


_TRIM = _malloc_trim()


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """At start, before the threads: True when glibc took the limit."""
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """True when the C library was asked to give free heap pages back."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
