"""Horizontal sharding for accounts too big for one process, the way kube-state-metrics does it:
`--shard N --total-shards M` on every replica, and each replica collects only what a stable hash
assigns to it.

What is sharded, and by which key:
- every PBX, by its id: discovery keeps the shard's PBXes only, so the call queues, summaries and
  call details of a PBX are collected (and its info metrics exported) by exactly one shard. A
  sharded exporter never asks the historical endpoints for `allpbxes`: each shard names its own
  PBXes instead, so account-wide answers are not collected several times;
- every Contact Center tenant, by its id (a single-tenant account by the empty id): its realtime
  pollers and its reports go to one shard.
The PBX list itself is read by every shard (one paged request per discovery interval), since a
shard must see every PBX to know which are its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from exporter.core.errors import ConfigError

# The pod names of a StatefulSet end with `-<ordinal>`.
_ORDINAL = re.compile(r"-([0-9]+)$")


def shard_of(key: str, total: int) -> int:
    """The shard (0..total-1) that owns `key`: the same on every replica, process and
    platform (a SHA-256 prefix, not Python's salted hash())."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total


@dataclass(frozen=True)
class Shard:
    index: int = 0
    total: int = 1

    def __post_init__(self) -> None:
        if self.total < 1 or not 0 <= self.index < self.total:
            raise ValueError(f"shard {self.index} of {self.total} does not exist")

    @property
    def sharded(self) -> bool:
        return self.total > 1

    def owns(self, key: str) -> bool:
        return self.total == 1 or shard_of(key, self.total) == self.index

    def owns_pbx(self, pbx_id: str) -> bool:
        return self.owns(f"pbx:{pbx_id}")

    def owns_tenant(self, tenant: str | None) -> bool:
        return self.owns(f"cc-tenant:{tenant or ''}")


def parse_shard(shard: str, total_shards: int, hostname: str) -> Shard:
    """The shard of `--shard` (a number, or `auto`: the trailing ordinal of the hostname, as in
    a StatefulSet) and `--total-shards`; ConfigError says what is wrong."""
    if total_shards < 1:
        raise ConfigError([f"--total-shards: must be at least 1, not {total_shards}"])
    text = shard.strip()
    if text == "auto":
        match = _ORDINAL.search(hostname)
        if match is None:
            raise ConfigError(
                [
                    f"--shard=auto: the hostname {hostname!r} does not end with "
                    "-<ordinal> (a StatefulSet pod's name does)"
                ]
            )
        index = int(match.group(1))
    elif text.isdigit():
        index = int(text)
    else:
        raise ConfigError([f"--shard: {shard!r} is neither a number nor auto"])
    if index >= total_shards:
        raise ConfigError(
            [
                f"--shard: shard {index} does not exist with --total-shards "
                f"{total_shards} (shards are numbered from 0)"
            ]
        )
    return Shard(index, total_shards)
