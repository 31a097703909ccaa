"""`function` over items on a few threads, results in the items' order, at most a few ahead."""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def bounded_map(
    function: Callable[[Item], Result],
    items: Iterable[Item],
    concurrency: int,
    thread_name: str,
) -> Generator[Result, None, None]:
    """Yield `function(item)` for every item, in order, with at most `concurrency` calls in
    flight or finished and not yet taken: a slow first call holds back at most that many
    answers in memory, not the whole list. The first call to raise ends the iteration with
    its exception (in order: the results before it are yielded first); the calls already
    started are waited for, the ones not yet started never run. `concurrency` 1 calls
    `function` in the calling thread, as a plain loop would."""
    if concurrency <= 1:
        yield from map(function, items)
        return
    pending: deque[Future[Result]] = deque()
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_name)
    try:
        for item in items:
            if len(pending) >= concurrency:
                yield pending.popleft().result()
            # The caller's context (structlog's bound values) goes with each call.
            context = contextvars.copy_context()
            pending.append(executor.submit(context.run, function, item))
        while pending:
            yield pending.popleft().result()
    finally:
        # Also when the caller stops early or a call failed: nothing more is started.
        executor.shutdown(wait=True, cancel_futures=True)
