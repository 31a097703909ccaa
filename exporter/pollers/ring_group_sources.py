"""Where the pollers that need ring groups find them: the ring group summary's last answer, or a
fixed set (none at all when that summary is off)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class RingGroupSource(Protocol):
    """Where the member poller and the call-leg index find the ring groups: the ring group
    poller's last answer, by (PBX name, extension)."""

    @property
    def groups(self) -> Mapping[tuple[str, str], RingGroup]: ...

    @property
    def listed(self) -> Mapping[tuple[str, str], RingGroup]:
        """Every ring group of the last answer, whether `select` keeps it or not."""
        ...

    @property
    def listed_until(self) -> float | None:
        """The API's time when the last complete list was asked for (None: never): a ring
        group that took a call before then is in `groups`."""
        ...


@dataclass(frozen=True)
class RingGroup:
    pbx: str  # PBX name
    site: str
    name: str
    extension: str


@dataclass(frozen=True)
class FixedRingGroups:
    """Ring groups that do not change: for a poller run on its own (tests, tools), or none at
    all, for good, when the ring group summary is off."""

    groups: Mapping[tuple[str, str], RingGroup]
    listed_until: float | None = math.inf

    @property
    def listed(self) -> Mapping[tuple[str, str], RingGroup]:
        return self.groups


NO_RING_GROUPS = FixedRingGroups({})
