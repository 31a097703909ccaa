"""The parts an exporter is built of, each remembered with what it was made from, so that a
configuration reload takes over every part whose inputs did not change instead of starting it
again (its counters, token, snapshot and watermarks go on)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Part:
    key: object  # compared with ==: config sections by value, the parts they use by identity
    value: object


class Parts:
    """The parts of one build. `make(cls, *args)` returns the part of the previous build made
    by the same callable from equal arguments, or makes a new one.

    Equality does the dependency tracking: a part given another part compares it by identity
    (none of them defines `__eq__`), so a part made again makes every part built on it new as
    well, and one whose config section changed is new by its arguments. An argument made
    fresh at every build (an object without `__eq__`) therefore makes its part new at every
    reload: make it with `make` too, or give it value equality.
    """

    def __init__(self, previous: Parts | None = None) -> None:
        self._unclaimed: list[Part] = list(previous.made) if previous is not None else []
        self.made: list[Part] = []

    def make(self, maker: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        key = (maker, args, sorted(kwargs.items()))
        return self.keyed(key, lambda: maker(*args, **kwargs))

    def keyed(self, key: object, maker: Callable[[], T]) -> T:
        """The previous build's part made under an equal key, or `maker()`: for a part whose
        arguments may change without it having to (a budget retuned when it is taken over)."""
        for index, part in enumerate(self._unclaimed):
            # Each previous part is taken over once: two equal parts of one build stay two.
            if part.key == key:
                del self._unclaimed[index]
                self.made.append(part)
                return cast(T, part.value)
        value = maker()
        self.made.append(Part(key, value))
        return value

    def finish(self) -> None:
        """The build is complete: forget the previous build's parts not taken over."""
        self._unclaimed = []
