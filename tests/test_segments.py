"""The data part's layout: families grouped by name across snapshots, the same grouping in
both formats, cut into segments along the sets of snapshots that share names, and the level a
segment is deflated at."""

from __future__ import annotations

import gzip
import random
import zlib

from exporter.metrics.rendering import (
    BIG_SEGMENT_BYTES,
    BIG_SEGMENT_GZIP_LEVEL,
    GZIP_LEVEL,
    RenderedFamily,
    deflate_segment,
)
from exporter.pollers.base import Snapshot
from exporter.serving.segments import LayoutCache, layout


def family(name: str, samples: bytes, kind: str = "gauge") -> RenderedFamily:
    return RenderedFamily(name, kind, f"help of {name}", "", samples, samples.count(b"\n"))


def headers(f: RenderedFamily) -> tuple[bytes, bytes]:
    return (f"T {f.name}\n".encode(), f"O {f.name}\n".encode())


def test_both_formats_group_the_same_families_under_their_own_headers() -> None:
    tenant_a = Snapshot((family("q", b"q{t=a} 1\n"), family("r", b"r{t=a} 2\n")), created=0.0)
    other = Snapshot((family("x", b"x 3\nx 4\n"),), created=0.0)
    tenant_b = Snapshot((family("r", b"r{t=b} 5\n"), family("q", b"q{t=b} 6\n")), created=0.0)
    text, openmetrics = layout([tenant_a, None, other, tenant_b], headers)
    grouped = [b"q{t=a} 1\n", b"q{t=b} 6\n"], [b"r{t=a} 2\n", b"r{t=b} 5\n"], [b"x 3\nx 4\n"]
    for laid, mark in ((text, "T"), (openmetrics, "O")):
        expected = [
            piece
            for name, samples in zip("qrx", grouped)
            for piece in (f"{mark} {name}\n".encode(), *samples)
        ]
        assert laid.plain == expected
        assert laid.series == 6
        # The tenants share names: one run of pieces; the other snapshot its own.
        assert [piece for segment in laid.segments for piece in segment] == expected
    # Small runs are joined into one segment; the pieces are the same objects in both formats.
    assert text.plain[1] is openmetrics.plain[1]


def test_a_family_whose_name_another_snapshot_gives_another_type_is_left_out() -> None:
    first = Snapshot((family("q", b"q 1\n"),), created=0.0)
    second = Snapshot((family("q", b"q_total 2\n", kind="counter"), family("z", b"z 3\n")), 0.0)
    text, openmetrics = layout([first, second], headers)
    assert text.plain == [b"T q\n", b"q 1\n", b"T z\n", b"z 3\n"]
    assert openmetrics.plain == [b"O q\n", b"q 1\n", b"O z\n", b"z 3\n"]
    assert text.series == 2


def test_no_snapshot_lays_out_an_empty_page() -> None:
    text, openmetrics = layout([None, Snapshot((), created=0.0)], headers)
    assert text.plain == openmetrics.plain == []
    assert text.segments == openmetrics.segments == []


def random_snapshots(rng: random.Random, names: str) -> list[Snapshot | None]:
    snapshots: list[Snapshot | None] = []
    for _ in range(rng.randrange(1, 7)):
        if rng.random() < 0.15:
            snapshots.append(None)
            continue
        chosen = rng.sample(names, rng.randrange(0, 4))
        # Big samples now and then: a run over JOINED_SEGMENT_BYTES stays a segment alone.
        size = rng.choice((10, 1_000, 200_000))
        made = [family(n, f"{n} {rng.random()}\n".encode() * (size // 20 + 1)) for n in chosen]
        snapshots.append(Snapshot(tuple(made), created=0.0))
    return snapshots


def test_the_cached_layout_is_the_layout_after_any_change() -> None:
    rng = random.Random(20)
    cache = LayoutCache()
    for _ in range(400):
        snapshots = random_snapshots(rng, "abcdefgh")
        for _ in range(3):  # then one snapshot replaced, the others kept: cached parts reused
            assert cache.layout(snapshots, headers) == layout(snapshots, headers)
            snapshots[rng.randrange(len(snapshots))] = random_snapshots(rng, "abcdefgh")[0]


def test_a_new_snapshot_lays_out_its_own_set_only() -> None:
    cache = LayoutCache()
    a = Snapshot((family("a", b"a 1\n"),), created=0.0)
    b = Snapshot((family("b", b"b 1\n"),), created=0.0)
    first = cache.layout([a, b], headers)[0]
    b2 = Snapshot((family("b", b"b 2\n"),), created=0.0)
    second = cache.layout([a, b2], headers)[0]
    # a's pieces are the very objects of before: not laid out again.
    assert second.plain[0] is first.plain[0] and second.plain[1] is first.plain[1]
    assert second.plain == [b"T a\n", b"a 1\n", b"T b\n", b"b 2\n"]


def test_a_page_laid_out_whole_keeps_no_snapshot_it_no_longer_serves() -> None:
    """When a set of snapshots sharing names stops being contiguous, the page is laid out
    whole: the parts cached before must go, or they hold replaced snapshots (a whole page of
    sample lines at worst) until the order is contiguous again."""
    cache = LayoutCache()
    big = Snapshot((family("a", b"a 1\n" * 100_000),), created=0.0)
    b = Snapshot((family("b", b"b 1\n"),), created=0.0)
    c = Snapshot((family("c", b"c 1\n"),), created=0.0)
    cache.layout([big, b, c], headers)
    new = Snapshot((family("a", b"a 2\n"),), created=0.0)
    c2 = Snapshot((family("c", b"c 2\n"), family("a", b"a 3\n")), created=0.0)  # shares "a"
    for _ in range(3):
        text, _ = cache.layout([new, b, c2], headers)
        assert text.plain == layout([new, b, c2], headers)[0].plain
    held = [s for part in cache._parts.values() for s in part.snapshots]
    assert all(s is not big for s in held)


def test_a_big_segment_is_deflated_at_the_cheaper_level_a_small_one_at_gzips_default() -> None:
    row = b'eightbyeight_x{agent="a-%06d",queue="q-%d"} %d.0\n'
    lines = [row % (i, i % 40, i * 7919 % 1000) for i in range(BIG_SEGMENT_BYTES // 30)]
    big = (b"# HELP x\n", b"".join(lines[: len(lines) // 2]), b"".join(lines[len(lines) // 2 :]))
    small = (b"# HELP x\n", b"".join(lines[:1000]))
    assert sum(map(len, big)) >= BIG_SEGMENT_BYTES > sum(map(len, small))
    for pieces, level in ((big, BIG_SEGMENT_GZIP_LEVEL), (small, GZIP_LEVEL)):
        text = b"".join(pieces)
        deflated = deflate_segment(iter(pieces))  # any iterable of pieces
        expected = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        assert deflated == expected.compress(text) + expected.flush(zlib.Z_SYNC_FLUSH)
        assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(deflated) == text
    # The cheaper level keeps such a segment within a few per cent of gzip's default.
    whole = len(gzip.compress(b"".join(big), compresslevel=GZIP_LEVEL))
    assert len(deflate_segment(big)) <= 1.05 * whole
