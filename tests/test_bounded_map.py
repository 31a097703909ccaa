"""bounded_map: results in order, a few calls ahead at most, the first failure ends it."""

from __future__ import annotations

import threading

import pytest

from exporter.core.bounded_map import bounded_map

PREFIX = "test-bounded-map"


def alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(PREFIX)]


@pytest.mark.parametrize("concurrency", [1, 2, 5])
def test_results_come_in_the_order_of_the_items(concurrency: int) -> None:
    assert list(bounded_map(lambda n: n * n, range(30), concurrency, PREFIX)) == [
        n * n for n in range(30)
    ]
    assert alive() == []


def test_one_runs_in_the_calling_thread() -> None:
    threads = list(bounded_map(lambda _: threading.current_thread(), range(3), 1, PREFIX))
    assert threads == [threading.current_thread()] * 3


@pytest.mark.parametrize("concurrency", [2, 4])
def test_at_most_concurrency_calls_run_ahead_of_the_caller(concurrency: int) -> None:
    lock = threading.Lock()
    started: list[int] = []

    def call(n: int) -> int:
        with lock:
            started.append(n)
        return n

    for taken, result in enumerate(bounded_map(call, range(40), concurrency, PREFIX)):
        assert result == taken
        with lock:
            # Submitted before this result was handed over: the ones taken, this one and
            # at most `concurrency - 1` more.
            assert len(started) <= taken + concurrency
    assert sorted(started) == list(range(40))


@pytest.mark.parametrize("concurrency", [1, 3])
def test_the_first_failure_ends_it_after_the_results_before_it(concurrency: int) -> None:
    lock = threading.Lock()
    started: list[int] = []

    def call(n: int) -> int:
        with lock:
            started.append(n)
        if n == 4:
            raise ValueError("four")
        return n

    results: list[int] = []
    with pytest.raises(ValueError, match="four"):
        for result in bounded_map(call, range(40), concurrency, PREFIX):
            results.append(result)
    assert results == [0, 1, 2, 3]
    assert max(started) <= 4 + concurrency - 1
    assert alive() == []


def test_a_caller_that_stops_early_leaves_no_thread() -> None:
    results = bounded_map(lambda n: n, range(40), 4, PREFIX)
    assert next(results) == 0
    results.close()
    assert alive() == []
