"""The data part of /metrics laid out for gzip: its pieces (headers and each family's sample
lines) cut into segments that are deflated once each and concatenated into one deflate stream.

A segment holds the families of one snapshot, or of the snapshots that share family names (a
poller for several tenants: their samples sit together under one HELP and TYPE), so a new
snapshot recompresses its own segment only. Small neighbours are joined, because each segment
starts from an empty window: a page of many small snapshots, each compressed alone, would be
10-15% bigger than the whole page gzipped at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exporter.metrics.rendering import RenderedFamily, deflate_segment
from exporter.pollers.base import Snapshot

# Neighbouring segments are joined until they hold this much text: a snapshot's change then
# recompresses at most about this much besides its own text (~2 ms at level 6), and a segment
# boundary costs under 2% of its segment.
JOINED_SEGMENT_BYTES = 256 * 1024

Segment = tuple[bytes, ...]
# A family's header in the text format and in OpenMetrics.
Headers = Callable[[RenderedFamily], tuple[bytes, bytes]]


@dataclass(frozen=True)
class Layout:
    """The page's data pieces in order, the same as segments, the series they hold and
    their length in bytes."""

    plain: list[bytes]
    segments: list[Segment]
    series: int
    length: int


def layout(snapshots: Sequence[Snapshot | None], headers: Headers) -> tuple[Layout, Layout]:
    """The families of the snapshots grouped by name (the formats allow one HELP and TYPE
    per name, and its samples together; collectors of one area for several tenants or
    reports make families of the same names), each group under `headers(first family)`: the
    text format's and OpenMetrics' header. The formats differ in their headers only, so one
    grouping makes both layouts (the page is assembled after every snapshot, ~20 times a
    cycle)."""
    groups: dict[str, list[RenderedFamily]] = {}
    owners: dict[str, int] = {}  # family name -> the first snapshot that has it
    joined = list(range(len(snapshots)))  # union-find of the snapshots sharing names

    def root(index: int) -> int:
        while joined[index] != index:
            joined[index] = index = joined[joined[index]]
        return index

    series = 0
    for index, snapshot in enumerate(snapshots):
        for family in snapshot.families if snapshot is not None else ():
            group = groups.get(family.name)
            if group is None:
                groups[family.name] = [family]
                owners[family.name] = index
            elif group[0].type != family.type:
                continue  # cannot happen with our tables; never emit an invalid page
            else:
                group.append(family)
                joined[root(index)] = root(owners[family.name])
            series += family.series
    plain: tuple[list[bytes], list[bytes]] = ([], [])
    runs: tuple[list[list[bytes]], list[list[bytes]]] = ([], [])  # per format: the pieces
    run_root = -1  # of one set of snapshots sharing names
    for name, group in groups.items():
        group_root = root(owners[name])
        if group_root != run_root or not runs[0]:
            runs[0].append([])
            runs[1].append([])
            run_root = group_root
        samples = [family.samples for family in group]
        for header, pieces, format_runs in zip(headers(group[0]), plain, runs):
            format_runs[-1].append(header)
            format_runs[-1] += samples
            pieces.append(header)
            pieces += samples
    text, openmetrics = (
        Layout(p, _joined(r), series, sum(map(len, p))) for p, r in zip(plain, runs)
    )
    return text, openmetrics


@dataclass(frozen=True)
class _SetPart:
    """One set of snapshots sharing family names, laid out in both formats: one run each."""

    snapshots: tuple[Snapshot, ...]  # held: their identities are the cache's key
    text: Layout
    openmetrics: Layout


class LayoutCache:
    """`layout` of the snapshots served now, made again only for the sets of snapshots
    (those sharing family names) that changed: the page is assembled after every snapshot,
    ~20 times a cycle, and one poller's new snapshot leaves the other sets' parts as they
    were (a whole layout touched every family of the page, ~1 ms at 100k inside a cycle).
    The same pieces as `layout` in the same order; when a set's snapshots are not next to
    each other in the runners' order (their names would interleave), `layout` itself. (A
    family that `layout` leaves out, its name given another type by another snapshot, joins
    its snapshot to that set here: the same text, cut into fewer segments.) Not thread-safe:
    the exposition calls it under its lock."""

    def __init__(self) -> None:
        self._names: dict[int, tuple[Snapshot, frozenset[str]]] = {}
        self._parts: dict[tuple[int, ...], _SetPart] = {}

    def layout(
        self, snapshots: Sequence[Snapshot | None], headers: Headers
    ) -> tuple[Layout, Layout]:
        present = [snapshot for snapshot in snapshots if snapshot is not None]
        sets = self._sets(present)
        if sets is None:
            self._parts = {}  # nothing cached outlives the page it was made for
            return layout(snapshots, headers)
        parts: dict[tuple[int, ...], _SetPart] = {}
        for members in sets:
            key = tuple(map(id, members))
            part = self._parts.get(key)
            if part is None:
                part = _SetPart(members, *layout(members, headers))
            parts[key] = part
        self._parts = parts
        return (
            _concatenated([p.text for p in parts.values()]),
            _concatenated([p.openmetrics for p in parts.values()]),
        )

    def _sets(self, present: list[Snapshot]) -> list[tuple[Snapshot, ...]] | None:
        """The snapshots in sets sharing names, in order; None when a set is not contiguous."""
        names: dict[int, tuple[Snapshot, frozenset[str]]] = {}
        sets: list[list[Snapshot]] = []
        owner: dict[str, int] = {}  # family name -> the set that has it
        for snapshot in present:
            known = self._names.get(id(snapshot))
            if known is None:
                known = (snapshot, frozenset(family.name for family in snapshot.families))
            names[id(snapshot)] = known
            shared = known[1] & owner.keys()
            if shared:
                if {owner[name] for name in shared} != {len(sets) - 1}:
                    self._names = names
                    return None  # shares names with an earlier set, or with two of them
                sets[-1].append(snapshot)
            else:
                sets.append([snapshot])
            owner.update(dict.fromkeys(known[1], len(sets) - 1))
        self._names = names
        return [tuple(members) for members in sets]


def _concatenated(parts: list[Layout]) -> Layout:
    """The sets' layouts, each one run, as one."""
    plain: list[bytes] = []
    for part in parts:
        plain += part.plain
    runs = [(part.plain, part.length) for part in parts if part.plain]
    series, length = sum(p.series for p in parts), sum(p.length for p in parts)
    return Layout(plain, _joined_sized(runs), series, length)


def _joined(runs: list[list[bytes]]) -> list[Segment]:
    return _joined_sized([(run, sum(map(len, run))) for run in runs])


def _joined_sized(runs: list[tuple[list[bytes], int]]) -> list[Segment]:
    """Runs (with their sizes) as segments, small neighbours joined up to
    JOINED_SEGMENT_BYTES; a big run stays alone, so a small snapshot's change never
    recompresses a big one's text."""
    segments: list[Segment] = []
    pending: list[bytes] = []
    pending_bytes = 0
    for run, size in runs:
        if size >= JOINED_SEGMENT_BYTES:
            if pending:
                segments.append(tuple(pending))
                pending, pending_bytes = [], 0
            segments.append(tuple(run))
            continue
        pending += run
        pending_bytes += size
        if pending_bytes >= JOINED_SEGMENT_BYTES:
            segments.append(tuple(pending))
            pending, pending_bytes = [], 0
    if pending:
        segments.append(tuple(pending))
    return segments


class SegmentCache:
    """The deflated segments of the page served now, by the identities of their pieces: a
    segment whose pieces are the same objects as before is not compressed again. Entries hold
    their pieces, so no identity is reused while it is a key; segments no longer served are
    forgotten at the next `deflate`. Not thread-safe: the exposition calls it under its lock."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, ...], tuple[Segment, bytes]] = {}
        self.compressed = 0  # segments compressed so far

    def deflate(self, segments: Sequence[Segment]) -> list[bytes]:
        current: dict[tuple[int, ...], tuple[Segment, bytes]] = {}
        deflated: list[bytes] = []
        for pieces in segments:
            key = tuple(map(id, pieces))
            entry = self._entries.get(key) or current.get(key)
            if entry is None or not all(a is b for a, b in zip(entry[0], pieces)):
                entry = (pieces, deflate_segment(pieces))
                self.compressed += 1
            current[key] = entry
            deflated.append(entry[1])
        self._entries = current
        return deflated
